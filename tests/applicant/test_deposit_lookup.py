"""The SIRET prefill through the deposit routes: htmx fragment and no-JS page, every persona."""

from __future__ import annotations

import html
import re

import pytest

from portail.apientreprise import sandbox
from portail.storage import settings
from tests.applicant.htmx_helpers import lookup_post

HX = {"HX-Request": "true", "HX-Target": "tiers-block", "HX-Trigger": "f-siret"}
HEAD_OFFICE = "99912340900016"
SECONDARY = "99912340900024"
CLOSED = "99923451100023"
CEASED = "99934562200016"
PERSON = "99945673400014"
PARTIAL = "99956784500014"
ASSOCIATION = "89967895700015"
FOREIGN = "99978906800023"
LA_POSTE = "35600000040011"
REDIRECTED = "99989017100013"


def spaced(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


def input_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page, re.S)
    if match:
        return match.group(1)
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>([^<]*)</textarea>', page, re.S)
    if match:
        return match.group(1)
    match = re.search(rf'<select[^>]*name="{name}".*?<option value="([^"]*)" selected', page, re.S)
    return match.group(1) if match else ""


def lookups(server, siret=None):
    return [
        seen
        for seen in server.requests_seen
        if "/etablissements/diffusibles/" in seen[1] and (siret is None or seen[1].endswith(siret))
    ]


def test_htmx_lookup_returns_the_fragment_prefilled(client):
    response = client.get(f"/demande/tiers?siret={spaced(HEAD_OFFICE)}", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    assert "<html" not in page  # a fragment, not the page
    assert 'id="siret-status" hx-swap-oob="innerHTML"' in page
    assert "Informations publiques trouvées" in page
    assert input_value(page, "adresse_numero") == "22 bis"
    assert input_value(page, "commune") == "PARIS"
    assert re.fullmatch(r"\d{2}\.\d{2}[A-Z]", input_value(page, "code_naf"))
    assert input_value(page, "siege_social") == "oui"
    assert input_value(page, "etat_administratif") == "actif"
    assert "Pré-rempli depuis API Entreprise, modifiable." in page
    assert re.search(r'name="prefill_snapshot" value="[\w.-]{40,}"', page)


def test_without_javascript_the_same_url_returns_the_whole_page(client):
    response = client.get(f"/demande/tiers?siret={spaced(HEAD_OFFICE)}&intitule_projet=Mon+projet")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in page and 'action="/demande"' in page
    assert input_value(page, "adresse_numero") == "22 bis"
    # The link is read for its SIRET alone (issue 10): typed values survive the prefill by
    # POST (the no-JS "Pré-remplir", the htmx lookup), never through a URL.
    assert input_value(page, "intitule_projet") == ""
    assert input_value(page, "siret") == spaced(HEAD_OFFICE)


def test_secondary_establishment_shows_its_head_office(client):
    page = client.get(f"/demande/tiers?siret={SECONDARY}", headers=HX).get_data(as_text=True)
    assert input_value(page, "siege_social") == "non"
    assert input_value(page, "siret_siege") == HEAD_OFFICE
    assert "établissement secondaire" in page and spaced(HEAD_OFFICE) in page


def test_closed_establishment_is_flagged_with_its_date(client):
    page = client.get(f"/demande/tiers?siret={CLOSED}", headers=HX).get_data(as_text=True)
    assert "Établissement fermé" in page
    assert "30/06/2023" in page
    assert input_value(page, "etat_administratif") == "fermé"


def test_ceased_company_is_flagged(client):
    page = client.get(f"/demande/tiers?siret={CEASED}", headers=HX).get_data(as_text=True)
    assert "Entreprise cessée" in page and "31/12/2022" in page


def test_person_is_named_surname_then_first_name(client):
    page = client.get(f"/demande/tiers?siret={PERSON}", headers=HX).get_data(as_text=True)
    assert input_value(page, "raison_sociale") == "BERTRAND Élodie"


def test_partially_diffusible_entity_leaves_protected_fields_empty(client):
    page = client.get(f"/demande/tiers?siret={PARTIAL}", headers=HX).get_data(as_text=True)
    assert "[ND]" not in page
    assert "LEROUX" not in page  # the protected name never reaches an anonymous applicant
    assert input_value(page, "raison_sociale") == ""
    assert input_value(page, "adresse_voie") == ""
    assert input_value(page, "commune")  # the commune stays public
    assert "pas diffusée" in page


def test_association_gets_rna_and_purpose(client):
    page = client.get(f"/demande/tiers?siret={ASSOCIATION}", headers=HX).get_data(as_text=True)
    assert input_value(page, "rna") == "W999000417"
    assert input_value(page, "objet_association")
    assert input_value(page, "forme_juridique") == "Association déclarée"


def test_foreign_address(client):
    page = client.get(f"/demande/tiers?siret={FOREIGN}", headers=HX).get_data(as_text=True)
    assert input_value(page, "commune") == "LONDRES"
    assert input_value(page, "pays") == "Royaume-Uni"
    assert input_value(page, "code_postal") == ""


def test_la_poste_siret_is_looked_up(client):
    page = client.get(f"/demande/tiers?siret={LA_POSTE}", headers=HX).get_data(as_text=True)
    assert "Informations publiques trouvées" in page


def test_redirected_siret_shows_the_answered_one(client):
    page = client.get(f"/demande/tiers?siret={REDIRECTED}", headers=HX).get_data(as_text=True)
    assert spaced("99989017100021") in page
    assert "remplacé" in page


@pytest.mark.parametrize(
    ("siret", "expected"),
    [
        ("89923450400012", "Aucune donnée publique"),
        ("89912349100016", "omplét"),
        ("89934561500012", "omplét"),
        ("89945672700010", "omplét"),
        ("89956783800011", "satur"),
        ("89967804900011", "satur"),
        ("89978915000013", "indisponible"),
        ("89989026300010", "indisponible"),
    ],
)
def test_api_failures_give_a_french_message_and_keep_typed_values(client, siret, expected):
    typed = {"raison_sociale": "Saisie à la main", "commune": "BREST", "siret": siret}
    response = lookup_post(client, typed, headers=HX)  # htmx posts the lookup (issue 10)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    status = re.search(r'<p class="status (\w+)">([^<]+)</p>', page)
    assert status and status.group(1) in ("warning", "error")
    assert expected in status.group(2)
    assert input_value(page, "raison_sociale") == "Saisie à la main"
    assert input_value(page, "commune") == "BREST"
    assert "Traceback" not in page


def test_slow_api_gives_up_at_the_timeout(app, client):
    app.config["API_TIMEOUT_SECONDS"] = 0.3
    response = client.get("/demande/tiers?siret=89901238900016", headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "indisponible" in page or "répond pas" in page


def test_recipient_equal_to_target_has_its_own_message(client, db):
    settings.save(db, {"recipient_siret": SECONDARY}, actor="test")
    page = client.get(f"/demande/tiers?siret={HEAD_OFFICE}", headers=HX).get_data(as_text=True)
    assert re.search(r'<p class="status \w+">[^<]*(collectivité|votre propre)', page), page


def test_invalid_siret_costs_no_api_call(client, loopback):
    for typed in ("732829320", "73282932000075", "7328293200007a", "١٢٣"):
        page = client.get("/demande/tiers", query_string={"siret": typed}).get_data(as_text=True)
        assert 'class="status error"' in page
    assert lookups(loopback) == []


def test_typing_key_by_key_costs_exactly_one_upstream_call(client, loopback):
    typed = ""
    for char in spaced(HEAD_OFFICE):
        typed += char
        response = client.get("/demande/tiers", query_string={"siret": typed}, headers=HX)
        assert response.status_code == 200
    # The applicant then presses "Pré-remplir" and pastes the number again.
    client.get("/demande/tiers", query_string={"siret": typed}, headers=HX)
    client.get(f"/demande/tiers?siret={HEAD_OFFICE}")
    assert len(lookups(loopback, HEAD_OFFICE)) == 1


def test_incomplete_siret_is_not_an_error(client):
    page = client.get("/demande/tiers?siret=99912", headers=HX).get_data(as_text=True)
    assert "vous en avez saisi 5." in page
    assert "status error" not in page


def test_feature_off_makes_no_call_even_on_the_lookup_url(client, db, loopback):
    settings.save(db, {"enabled": False}, actor="test")
    page = client.get(f"/demande/tiers?siret={HEAD_OFFICE}").get_data(as_text=True)
    assert "n'est pas disponible" in html.unescape(page)
    assert lookups(loopback) == []


def test_filing_records_prefilled_and_changed_fields(client, db):
    page = client.get(f"/demande/tiers?siret={HEAD_OFFICE}").get_data(as_text=True)
    form = {
        name: input_value(page, name)
        for name in re.findall(r'name="([a-z_]+)"', page)
        if name not in ("consentement",)
    }
    form.update(
        {
            "raison_sociale": "Nom corrigé par le demandeur",
            "representant_nom": "Martin",
            "representant_prenom": "Paul",
            "representant_qualite": "Gérant",
            "email": "paul.martin@example.org",
            "intitule_projet": "Atelier",
            "description_projet": "Rénovation de l'atelier.",
            "montant_demande": "2500",
            "consentement": "y",
        }
    )
    response = client.post("/demande", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    row = next(db.query("SELECT * FROM deposits"))
    assert "raison_sociale" in row["changed_fields_json"]
    assert "commune" not in row["changed_fields_json"]
    assert '"commune": "PARIS"' in row["prefilled_json"]
    assert HEAD_OFFICE in row["snapshot_json"]
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        '<dt>Raison sociale ou nom <span class="source-mark changed">modifié par vous</span></dt>'
        in receipt
    )


def test_demonstration_page_lists_every_persona(client):
    page = client.get("/demonstration").get_data(as_text=True)
    for persona in sandbox.PERSONAS:
        assert spaced(persona.siret) in page
    assert "Démonstration\u202f: données fictives" in page


def test_forged_or_foreign_prefill_snapshot_is_not_recorded(client, db):
    page = client.get(f"/demande/tiers?siret={HEAD_OFFICE}").get_data(as_text=True)
    sealed = input_value(page, "prefill_snapshot")
    form = {name: input_value(page, name) for name in re.findall(r'name="([a-z_]+)"', page)}
    form.update(
        representant_nom="Martin",
        representant_prenom="Paul",
        representant_qualite="Gérant",
        email="paul.martin@example.org",
        intitule_projet="Atelier",
        description_projet="Rénovation.",
        montant_demande="100",
        consentement="y",
    )
    tampered = sealed[:-3] + ("AAA" if not sealed.endswith("AAA") else "BBB")
    assert client.post("/demande", data={**form, "prefill_snapshot": tampered}).status_code == 303
    # A genuine snapshot of another SIRET does not count for this one either.
    other = {**form, "siret": SECONDARY}
    assert client.post("/demande", data=other).status_code == 303
    rows = list(db.query("SELECT prefilled_json, snapshot_json FROM deposits ORDER BY id"))
    assert [row["prefilled_json"] for row in rows] == ["{}", "{}"]
    assert all(row["snapshot_json"] is None for row in rows)


def test_an_incomplete_siret_left_behind_says_what_is_missing_without_calling(client, db):
    # The browser sends an incomplete number only when the field is left: say how many
    # digits are there, not "typing in progress", and call nothing.
    response = lookup_post(client, {"siret": "732 829 320", "enseigne": "GARDÉE"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "compte 14\u00a0chiffres\u202f: vous en avez saisi 9." in page
    assert "Saisie en cours" not in page
    assert 'value="GARDÉE"' in page  # nothing typed is lost
    assert db["api_journal"].count == 0
