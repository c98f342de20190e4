"""The agent's "Vérifier auprès d'API Entreprise": protected data fetched only on an
authenticated agent's request, journaled to that agent and deposit, stored with the deposit,
compared side by side, never cached nor shown to an applicant; every failure explained."""

from __future__ import annotations

import copy
import functools
import logging
import re
from decimal import Decimal

import pytest

from portail.apientreprise import sandbox
from portail.apientreprise.catalogue import (
    ROUTE_ASSOCIATION,
    ROUTE_ETABLISSEMENT,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
)
from portail.core.tokens import mint_token
from portail.storage import certified, deposits, settings
from tests.admin_helpers import csrf_from, page_text
from tests.fault_double import Reply, error_body, etablissement_body

text = functools.partial(page_text, collapse_spaces=True)

HEAD_OFFICE = "99912340900016"
ASSOCIATION = "89967895700015"
PARTIAL = "99956784500014"  # partially diffusible: street, postcode, name protected
PROTECTED_ONLY = ("CHEMIN DES VIGNES", "LIEU-DIT LES CROZES", "26400", "LEROUX")
TRANSFERRED = "99989017100013"
CLOSED = "99923451100023"
CEASED = "99934562200016"

APPLICANT = {
    "representant_nom": "Martin",
    "representant_prenom": "Paul",
    "representant_qualite": "Gérant",
    "email": "paul.martin@example.org",
    "telephone": "02 99 00 00 00",
    "intitule_projet": "Atelier",
    "description_projet": "Remplacement de la toiture.",
    "montant_demande": "2500",
}


def file(db, siret: str, **values) -> str:
    return deposits.file_deposit(db, {"siret": siret, **values}, Decimal("100"), None).ref


def verify(client, ref: str):
    page = client.get(f"/admin/demandes/{ref}")
    return client.post(
        f"/admin/demandes/{ref}/verification", data={"csrf_token": csrf_from(page.data)}
    )


def protected_paths(requests_seen) -> list[str]:
    """Paths of protected routes among the requests an API received."""
    return [
        path
        for path in (seen[1] if isinstance(seen, tuple) else seen.path for seen in requests_seen)
        if ("/etablissements/" in path and "/diffusibles/" not in path)
        or ("/associations/" in path and "/open_data/" not in path)
    ]


def section_html(response) -> str:
    """The markup of the deposit page's verification section."""
    page = text(response)
    return page[page.index('id="verification"') : page.index('id="snapshot-title"')]


def section(response) -> str:
    """The words of the verification section, as read."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section_html(response))).replace(" .", ".")


def journal(db) -> list[dict]:
    return list(db.query("SELECT route, target, object, actor, source FROM api_journal"))


# -- the verification, through the sandbox over real HTTP ------------------------------------


def test_verification_fetches_protected_data_traced_to_the_agent_and_deposit(
    auth, client, db, loopback
):
    ref = file(db, HEAD_OFFICE, raison_sociale="Ateliers du Val Fleuri", commune="Paris 12")
    response = verify(client, ref)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/demandes/{ref}#verification")

    assert protected_paths(loopback.requests_seen) == [
        f"/v4/insee/sirene/etablissements/{HEAD_OFFICE}"
    ]
    (seen,) = [seen for seen in loopback.requests_seen if seen[1].endswith(HEAD_OFFICE)]
    assert seen[2]["object"] == f"Instruction {ref}"
    assert journal(db) == [
        {
            "route": ROUTE_ETABLISSEMENT,
            "target": HEAD_OFFICE,
            "object": f"Instruction {ref}",
            "actor": "admin alice",
            "source": "api",
        }
    ]
    # Never in the public cache.
    assert db["lookup_cache"].count == 0

    page = client.get(f"/admin/demandes/{ref}")
    assert page.headers["Cache-Control"] == "no-store"
    html = section_html(page)
    assert 'aria-labelledby="verification-title"' in html
    assert "<caption>" in html and '<th scope="col">Déclaré</th>' in html
    assert '<th scope="col">Certifié (API Entreprise)</th>' in html
    assert '<th scope="row">Commune</th> <td>Paris 12</td> <td>PARIS</td> <td>Identique</td>' in (
        html
    )
    assert "par alice" in html and 'role="status"' in html
    assert "Actualiser" in html
    check = certified.get_check(db, ref)
    assert check.checked_by == "alice" and check.state == "match"
    assert check.etablissement["data"]["siret"] == HEAD_OFFICE
    assert db.execute("SELECT certified_state FROM deposits").fetchone()[0] == "match"


def test_an_association_is_checked_on_both_protected_routes(auth, client, db, loopback):
    ref = file(db, ASSOCIATION)
    assert verify(client, ref).status_code == 303
    assert protected_paths(loopback.requests_seen) == [
        f"/v4/insee/sirene/etablissements/{ASSOCIATION}",
        f"/v4/djepva/api-association/associations/{ASSOCIATION[:9]}",
    ]
    rows = journal(db)
    assert [row["route"] for row in rows] == [ROUTE_ETABLISSEMENT, ROUTE_ASSOCIATION]
    assert {(row["actor"], row["object"]) for row in rows} == {
        ("admin alice", f"Instruction {ref}")
    }
    html = section(client.get(f"/admin/demandes/{ref}"))
    assert "Numéro RNA" in html and "jardins partagés" in html
    assert db["lookup_cache"].count == 0


def test_differences_are_marked_with_a_word_and_set_the_state(auth, client, db, loopback):
    ref = file(db, HEAD_OFFICE, code_postal="75011", code_naf="25.62B")
    verify(client, ref)
    html = section_html(client.get(f"/admin/demandes/{ref}"))
    assert re.search(r"Code postal</th> <td>75011</td> <td>75012</td> <td><strong[^>]*>Écart", html)
    assert re.search(r"NAF/APE\)</th> <td>25.62B</td> <td>25.62B</td> <td>Identique", html)
    assert "Écarts à examiner</strong> (1 écart)" in html
    assert db.execute("SELECT certified_state FROM deposits").fetchone()[0] == "differences"


@pytest.mark.parametrize(
    ("siret", "words", "state"),
    [
        (CLOSED, "Établissement fermé depuis le 30/06/2023", "closed"),
        (CEASED, "Entreprise cessée", "closed"),
        (TRANSFERRED, "Établissement transféré : le SIRET 999 890 171 00013", "differences"),
        (PARTIAL, "ne doivent être ni republiées ni communiquées", "match"),
    ],
)
def test_each_situation_is_said_plainly(auth, client, db, loopback, siret, words, state):
    ref = file(db, siret)
    verify(client, ref)
    assert words in section(client.get(f"/admin/demandes/{ref}"))
    assert certified.get_check(db, ref).state == state


def test_a_dissolved_association_is_said_and_counts_as_closed(auth, client, db, double):
    settings.save(db, {"api_url": double.url}, actor="test")
    record = copy.deepcopy(sandbox.association_payload("899678957", protected=True))
    record["data"]["date_dissolution"] = "2024-03-15"
    double.on("/v4/insee", Reply(body=sandbox.etablissement_payload(ASSOCIATION, protected=True)))
    double.on("/v4/djepva", Reply(body=record))
    ref = file(db, ASSOCIATION)
    assert verify(client, ref).status_code == 303
    words = section(client.get(f"/admin/demandes/{ref}"))
    assert "Association dissoute le 15/03/2024" in words
    assert certified.get_check(db, ref).state == "closed"


def test_a_refresh_replaces_the_stored_result(auth, client, db, double):
    settings.save(db, {"api_url": double.url}, actor="test")
    ref = file(db, "73282932000074", raison_sociale="ANCIEN NOM")
    double.on("/v4/insee", Reply(body=etablissement_body("73282932000074", name="ANCIEN NOM")))
    verify(client, ref)
    assert certified.get_check(db, ref).state == "match"
    double.on("/v4/insee", Reply(body=etablissement_body("73282932000074", name="NOUVEAU NOM")))
    response = verify(client, ref)
    assert response.status_code == 303
    html = section_html(client.get(f"/admin/demandes/{ref}"))
    assert "NOUVEAU NOM" in html and re.search(r"NOUVEAU NOM</td> <td><strong[^>]*>Écart", html)
    assert db["certified_checks"].count == 1
    assert certified.get_check(db, ref).state == "differences"
    assert double.count("/v4/insee/sirene/etablissements/73282932000074") == 2


# -- never for anyone else -------------------------------------------------------------------


def test_the_applicant_flows_never_call_protected_routes_nor_show_protected_values(
    app, db, loopback, auth, client
):
    applicant = app.test_client()
    page = applicant.get("/demande").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    pages = [
        applicant.get(f"/demande/tiers?siret={PARTIAL}", headers={"HX-Request": "true"}),
        applicant.get(f"/demande/tiers?siret={PARTIAL}"),
        applicant.post(
            "/demande",
            data={"csrf_token": token, "siret": PARTIAL, "action": "prefill", **APPLICANT},
        ),
    ]
    assert loopback.requests_seen, "the public lookup did reach the API"
    assert protected_paths(loopback.requests_seen) == []

    # The agent's check of the same SIRET, then the applicant's pages again (cache warm).
    ref = file(db, PARTIAL)
    verify(client, ref)
    assert len(protected_paths(loopback.requests_seen)) == 1
    agent_page = section(client.get(f"/admin/demandes/{ref}"))
    for value in PROTECTED_ONLY:
        assert value in agent_page
    pages.append(applicant.get(f"/demande/tiers?siret={PARTIAL}"))
    pages.append(applicant.get("/demande"))
    for response in pages:
        body = page_text(response)
        for value in PROTECTED_ONLY:
            assert value not in body, value
    routes = {row["route"] for row in db.query("SELECT route FROM lookup_cache")}
    assert routes <= {ROUTE_ETABLISSEMENT_DIFFUSIBLE}
    assert {row["actor"] for row in journal(db) if row["route"] == ROUTE_ETABLISSEMENT} == {
        "admin alice"
    }


def test_anonymous_requests_get_the_login_page_and_call_nothing(app, db, loopback):
    ref = file(db, HEAD_OFFICE)
    visitor = app.test_client()
    token = csrf_from(visitor.get("/demande").data)
    response = visitor.post(f"/admin/demandes/{ref}/verification", data={"csrf_token": token})
    assert response.status_code == 303
    assert "/admin/connexion" in response.headers["Location"]
    assert loopback.requests_seen == []
    assert journal(db) == [] and certified.get_check(db, ref) is None


def test_a_logged_out_agent_gets_the_login_page_and_calls_nothing(auth, client, db, loopback):
    ref = file(db, HEAD_OFFICE)
    auth.logout()
    token = csrf_from(client.get("/demande").data)
    response = client.post(f"/admin/demandes/{ref}/verification", data={"csrf_token": token})
    assert response.status_code == 303
    assert "/admin/connexion" in response.headers["Location"]
    assert loopback.requests_seen == [] and journal(db) == []


def test_a_post_without_csrf_token_is_refused(auth, client, db, loopback):
    ref = file(db, HEAD_OFFICE)
    response = client.post(f"/admin/demandes/{ref}/verification")
    assert response.status_code == 400
    assert loopback.requests_seen == []


def test_an_unknown_deposit_is_404(auth, client, loopback):
    token = csrf_from(client.get("/admin/demandes").data)
    response = client.post("/admin/demandes/AIDE-0000/verification", data={"csrf_token": token})
    assert response.status_code == 404
    assert loopback.requests_seen == []


# -- when the check cannot be made -----------------------------------------------------------


def test_a_token_without_the_protected_scope_sends_nothing_and_names_the_habilitation(
    auth, client, db, loopback
):
    settings.save(db, {"token": mint_token(["open_data"])}, actor="test")
    ref = file(db, HEAD_OFFICE)
    response = verify(client, ref)
    assert response.status_code == 303
    assert loopback.requests_seen == [] and journal(db) == []
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = section(page)
    assert "Habilitation manquante" in html
    assert "Données protégées de l'INSEE (unités légales et établissements)" in html
    assert "unites_legales_etablissements_insee" in html and "DataPass" in html
    assert "Aucun appel n'a été envoyé" in html and "Paramètres" in html
    assert db.execute("SELECT certified_state FROM deposits").fetchone()[0] is None


def test_an_association_without_its_scope_keeps_the_establishment_and_says_so(
    auth, client, db, loopback
):
    settings.save(db, {"token": mint_token(["unites_legales_etablissements_insee"])}, actor="t")
    ref = file(db, ASSOCIATION)
    verify(client, ref)
    assert protected_paths(loopback.requests_seen) == [
        f"/v4/insee/sirene/etablissements/{ASSOCIATION}"
    ]
    html = section(client.get(f"/admin/demandes/{ref}"))
    assert "Données de l'association non vérifiées" in html
    assert "Données protégées des associations (DJEPVA)" in html
    assert "Valeurs déclarées et certifiées" in html  # the establishment's comparison


def test_api_down_keeps_the_page_working_and_the_previous_result(auth, client, db, double, caplog):
    conf_token = mint_token(["unites_legales_etablissements_insee"])
    settings.save(db, {"api_url": double.url, "token": conf_token}, actor="test")
    ref = file(db, "73282932000074", raison_sociale="DOUBLE DE TEST")
    verify(client, ref)
    first = certified.get_check(db, ref)
    double.on("/v4/insee", Reply(503, error_body("01000", "Service indisponible", retry_in=30)))
    caplog.set_level(logging.DEBUG)
    response = verify(client, ref)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = section(page)
    assert "n'a pas abouti : Fournisseur de données indisponible" in html
    assert "status.entreprise.api.gouv.fr" in html  # what the admin can do
    assert "Le résultat de la vérification précédente reste affiché" in html
    assert "Valeurs déclarées et certifiées" in html and "DOUBLE DE TEST" in html
    assert "La vérification n'a pas abouti" in text(page)  # the flashed outcome
    check = certified.get_check(db, ref)
    assert check.checked_at == first.checked_at and check.failure_kind == "unavailable"
    assert db.execute("SELECT certified_state FROM deposits").fetchone()[0] == "match"
    assert [row["actor"] for row in journal(db)] == ["admin alice", "admin alice"]
    assert conf_token not in page.get_data(as_text=True)
    assert conf_token not in caplog.text


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(401, error_body("00103", "Jeton expiré")), "collez un nouveau jeton"),
        (Reply(403, error_body("00100", "Privilèges insuffisants")), "habilitation DataPass"),
        (Reply(429, b"", headers={"Retry-After": "20"}), "Trop de requêtes"),
        (Reply(404, error_body("01003", "Entité non trouvée")), "SIRET inconnu"),
        (Reply(body="{"), "Réponse inexploitable"),
    ],
)
def test_every_refusal_is_explained_without_a_500(auth, client, db, double, reply, words):
    token = mint_token(["entreprises"])
    settings.save(db, {"api_url": double.url, "token": token}, actor="test")
    ref = file(db, "73282932000074")
    double.queue(reply)
    response = verify(client, ref)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert words in section(page)
    assert token not in page.get_data(as_text=True)
    assert certified.get_check(db, ref).has_result is False


def test_an_open_circuit_sends_nothing_and_says_why(auth, client, app, db, double):
    settings.save(db, {"api_url": double.url}, actor="test")
    double.on("/v4/insee", Reply(503, b""))
    ref = file(db, "73282932000074")
    for _ in range(8):
        verify(client, ref)
        if certified.get_check(db, ref).failure_kind == "circuit_open":
            break
    sent = double.count("/v4/insee")
    verify(client, ref)
    assert double.count("/v4/insee") == sent
    assert "Appels suspendus après plusieurs pannes" in section(
        client.get(f"/admin/demandes/{ref}")
    )


def test_an_invalid_filed_siret_or_missing_settings_send_nothing(auth, client, db, loopback):
    ref = file(db, "1")
    verify(client, ref)
    assert "SIRET déposé invalide" in section(client.get(f"/admin/demandes/{ref}"))
    settings.save(db, {"token": ""}, actor="test")
    other = file(db, HEAD_OFFICE)
    verify(client, other)
    assert "Paramètres incomplets" in section(client.get(f"/admin/demandes/{other}"))
    assert loopback.requests_seen == [] and journal(db) == []


def test_a_first_verification_that_fails_says_so_once(auth, client, db, double):
    # Nothing to compare yet, and the failure is said: not also "no verification made yet".
    settings.save(db, {"api_url": double.url}, actor="test")
    double.on("/v4/insee", Reply(503, error_body("01000", "Service indisponible", retry_in=30)))
    ref = file(db, "73282932000074")
    assert verify(client, ref).status_code == 303
    words = section(client.get(f"/admin/demandes/{ref}"))
    assert "n'a pas abouti" in words
    assert "Aucune vérification n'a encore été faite" not in words
    assert "Le résultat de la vérification précédente" not in words
