"""The sandbox's data files agree with themselves: fields which must match do.

The schema checks (tests/test_contract.py) say each value has the right shape; these say the
values fit together, as the real API's would: a SIREN inside its SIRETs, the head office flag
with the legal unit's head office SIRET, an association with its legal unit, each persona with
a record that gives it its answer.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from portail.apientreprise import sandbox
from portail.apientreprise.sandbox import data
from portail.core.siret import is_valid_siren, is_valid_siret, validate_siret

PARIS = ZoneInfo("Europe/Paris")
RAW_ETABLISSEMENTS = data.read("etablissements.json")
RAW_UNITES_LEGALES = data.read("unites_legales.json")["unites_legales"]
RAW_ASSOCIATIONS = data.read("associations.json")["associations"]
RAW_PERSONAS = data.read("personas.json")["personas"]
UNITES_LEGALES = {ul["siren"]: ul for ul in RAW_UNITES_LEGALES}
ETABLISSEMENT_IDS = [record["siret"] for record in RAW_ETABLISSEMENTS["etablissements"]]
MONTHS = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
).split()


def paris_day(timestamp: int):
    return datetime.fromtimestamp(timestamp, PARIS).date()


def french_date(timestamp: int) -> str:
    """A timestamp as the personas' texts write it: "30 juin 2023"."""
    day = paris_day(timestamp)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


# --- INSEE records ------------------------------------------------------------------------------


def test_identifiers_are_unique_and_valid():
    assert len(set(ETABLISSEMENT_IDS)) == len(ETABLISSEMENT_IDS)
    assert len(UNITES_LEGALES) == len(RAW_UNITES_LEGALES)
    for siret in ETABLISSEMENT_IDS:
        assert is_valid_siret(siret), siret
    for siren, ul in UNITES_LEGALES.items():
        assert is_valid_siren(siren), siren
        assert is_valid_siret(ul["siret_siege_social"]), siren


@pytest.mark.parametrize("record", RAW_ETABLISSEMENTS["etablissements"], ids=ETABLISSEMENT_IDS)
def test_each_etablissement_agrees_with_its_unite_legale(record):
    siret = record["siret"]
    assert record["unite_legale"] == siret[:9]  # SIREN inside SIRET
    ul = UNITES_LEGALES[record["unite_legale"]]
    assert ul["siret_siege_social"][:9] == ul["siren"]
    assert record["siege_social"] is (siret == ul["siret_siege_social"])
    assert record["status_diffusion"] == ul["status_diffusion"]
    assert record["adresse"]["status_diffusion"] == record["status_diffusion"]
    for entity in (record, ul):
        assert entity["diffusable_commercialement"] is (entity["status_diffusion"] == "diffusible")
        # Like staging, the sandbox gives the same NAF rev. 2 code in both objects.
        assert entity["activite_principale_naf_rev2"] == entity["activite_principale"]
    assert (record["etat_administratif"] == "F") is (record["date_fermeture"] is not None)
    if ul["etat_administratif"] == "C":
        assert record["etat_administratif"] == "F"
    if record["date_fermeture"] is not None:
        assert record["date_fermeture"] > record["date_creation"]
    assert record["date_creation"] >= ul["date_creation"]


@pytest.mark.parametrize("ul", RAW_UNITES_LEGALES, ids=list(UNITES_LEGALES))
def test_each_unite_legale_is_a_person_or_a_company_not_both(ul):
    person = [v for v in ul["personne_physique_attributs"].values() if v is not None]
    company = [v for v in ul["personne_morale_attributs"].values() if v is not None]
    if ul["type"] == "personne_physique":
        assert person and not company
        assert ul["forme_juridique"]["code"] == "1000"  # entrepreneur individuel
    else:
        assert company and not person
    assert ul["siren"] in {siret[:9] for siret in ETABLISSEMENT_IDS}  # every one is used


@pytest.mark.parametrize("record", RAW_ETABLISSEMENTS["etablissements"], ids=ETABLISSEMENT_IDS)
def test_each_postal_address_agrees_with_its_fields(record):
    address = record["adresse"]
    postal = address["acheminement_postal"]
    ul = UNITES_LEGALES[record["unite_legale"]]
    name = ul["personne_morale_attributs"]["raison_sociale"]
    if ul["type"] == "personne_physique":
        people = ul["personne_physique_attributs"]
        name = f"{people['nom_usage'] or people['nom_naissance']} {people['prenom_usuel']}"
    assert postal["l1"] == name
    assert address["libelle_voie"] in postal["l4"]
    assert postal["l4"].startswith(address["numero_voie"])
    assert postal["l3"] == (address["complement_adresse"] or "")
    foreign = address["libelle_pays_etranger"] is not None
    if foreign:
        assert address["code_postal"] is None and address["libelle_commune"] is None
        assert address["code_pays_etranger"] and address["libelle_commune_etranger"]
        assert (postal["l6"], postal["l7"]) == (
            address["libelle_commune_etranger"],
            address["libelle_pays_etranger"],
        )
    else:
        assert address["code_pays_etranger"] is None
        assert address["code_commune"] and address["code_postal"]
        assert postal["l6"].startswith(address["code_postal"] + " ")
        assert postal["l6"].split(" ", 1)[1] in address["libelle_commune"]
        assert postal["l7"] == "FRANCE"


def test_redirects_go_from_an_unknown_siret_to_a_record_of_the_same_company():
    assert RAW_ETABLISSEMENTS["redirects"]
    for old, new in RAW_ETABLISSEMENTS["redirects"].items():
        assert is_valid_siret(old)
        assert old not in data.ETABLISSEMENTS
        assert new in data.ETABLISSEMENTS
        assert old[:9] == new[:9]


# --- associations -------------------------------------------------------------------------------


@pytest.mark.parametrize("record", RAW_ASSOCIATIONS, ids=[a["rna"] for a in RAW_ASSOCIATIONS])
def test_each_association_agrees_with_its_unite_legale_and_etablissements(record):
    ul = UNITES_LEGALES[record["siren"]]
    assert ul["rna"] == record["rna"]
    assert record["rna"].startswith("W") and len(record["rna"]) == 10
    assert record["siret_siege"] == ul["siret_siege_social"]
    assert record["nom"] == ul["personne_morale_attributs"]["raison_sociale"]
    assert record["sigle"] == ul["personne_morale_attributs"]["sigle"]
    assert record["forme_juridique"] == ul["forme_juridique"]
    assert record["date_creation"] == paris_day(ul["date_creation"]).isoformat()
    assert record["active"] is (ul["etat_administratif"] == "A")
    activites = record["activites"]
    assert activites["activite_principale"]["code"] == ul["activite_principale"]["code"]
    assert activites["economie_sociale_et_solidaire"] is ul["economie_sociale_et_solidaire"]
    assert record["etablissements"]
    for etablissement in record["etablissements"]:
        siret = etablissement["siret"]
        assert etablissement["siren"] == record["siren"] == siret[:9]
        assert etablissement["siege"] is (siret == record["siret_siege"])
        insee = data.ETABLISSEMENTS[siret]
        assert etablissement["actif"] is (insee["etat_administratif"] == "A")
        assert etablissement["adresse"]["code_postal"] == insee["adresse"]["code_postal"]
        assert etablissement["adresse"]["code_insee"] == insee["adresse"]["code_commune"]
        assert (
            etablissement["tranche_effectif"]["code"] == (insee["tranche_effectif_salarie"]["code"])
        )
    assert (
        record["adresse_siege"]["code_postal"]
        == (data.ETABLISSEMENTS[record["siret_siege"]]["adresse"]["code_postal"])
    )


def test_every_association_legal_unit_has_its_association_record():
    for siren, ul in UNITES_LEGALES.items():
        if ul["rna"] is not None:
            assert data.ASSOCIATIONS[siren] is data.ASSOCIATIONS[ul["rna"]]


# --- personas -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", RAW_PERSONAS, ids=[p["siret"] for p in RAW_PERSONAS])
def test_each_persona_points_at_what_gives_it_its_answer(persona):
    siret, siren, answer = persona["siret"], persona["siret"][:9], persona["answer"]
    assert validate_siret(siret) == siret
    assert persona["kind"] == ("ok" if answer in ("found", "redirected") else "error")
    if answer in ("found", "slow"):
        assert siret in data.ETABLISSEMENTS
    elif answer == "redirected":
        assert siret in RAW_ETABLISSEMENTS["redirects"]
        assert RAW_ETABLISSEMENTS["redirects"][siret] in persona["shows"]
    else:
        # Unknown, or an error on every route: no record may answer for that SIREN.
        assert siren not in data.KNOWN_SIRENS
        assert siren not in data.ASSOCIATIONS
        assert (answer == "unknown") is (siren not in data.ERROR_PERSONAS)
    record = data.ETABLISSEMENTS.get(data.REDIRECTS.get(siret, siret))
    if record is not None and record["date_fermeture"] is not None:
        assert french_date(record["date_fermeture"]) in persona["shows"]
    if record is not None and record["unite_legale"]["rna"]:
        association = data.ASSOCIATIONS[siren]
        dissolved = association["date_dissolution"] is not None
        label = "Association dissoute" if dissolved else "Association déclarée"
        assert persona["label"] == label


def test_personas_cover_every_kind_of_answer_once_per_error():
    answers = [p["answer"] for p in RAW_PERSONAS]
    for kind in (*sorted(data.ERROR_ANSWERS), "unknown", "slow", "redirected"):
        assert answers.count(kind) == 1, kind
    assert sandbox.DEMO_RECIPIENT_SIRET[:9] not in {p["siret"][:9] for p in RAW_PERSONAS}
    assert sandbox.DEMO_RECIPIENT_SIRET[:9] not in data.KNOWN_SIRENS


def test_loaded_personas_are_the_file_s():
    assert [
        {"siret": p.siret, "label": p.label, "shows": p.shows, "kind": p.kind, "answer": p.answer}
        for p in sandbox.PERSONAS
    ] == RAW_PERSONAS


def test_the_demonstration_page_reads_the_personas_from_the_data_file(client):
    page = client.get("/demonstration").get_data(as_text=True)
    for persona in RAW_PERSONAS:
        siret = persona["siret"]
        assert f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}" in page
        assert persona["label"].replace("'", "&#39;") in page


# --- error bodies -------------------------------------------------------------------------------


def test_error_codes_are_unique_and_provider_errors_name_their_provider():
    errors = data.ERRORS
    codes = [error["code"] for error in errors.values()]
    assert len(set(codes)) == len(codes)
    providers = {"insee": "INSEE", "djepva": "DJEPVA", "dgfip": "DGFIP - Adélie", "acoss": "ACOSS"}
    for key, name in providers.items():
        for kind in ("not_found", "provider_error"):
            assert errors[f"{kind}_{key}"]["meta"] == {"provider": name}
    for name in ("missing_context", "missing_object", "missing_recipient"):
        parameter = name.removeprefix("missing_")
        assert errors[name]["source"] == {"parameter": parameter}
        assert parameter in errors[name]["detail"]
    for name in ("invalid_token", "expired_token", "blacklisted_token"):
        assert errors[name]["source"] == {"parameter": "token"}
