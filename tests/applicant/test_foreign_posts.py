"""Issue 10: a post another site makes the applicant's browser send fails its CSRF check and
gets back its SIRET alone, never the e-mail or amount it tried to pre-fill beside a fresh
token. The portal's own page with an expired session keeps everything typed."""

from __future__ import annotations

import html
import re

import pytest

from tests.applicant.htmx_helpers import csrf_token

SIRET = "732 829 320 00074"
HEAD_OFFICE = "99912340900016"
PLANTED = {
    "raison_sociale": "Société Piège",
    "commune": "VILLEPIEGE",
    "representant_nom": "Escroc",
    "representant_prenom": "Arsène",
    "representant_qualite": "Gérant",
    "email": "piege@attaquant.example",
    "telephone": "06 66 66 66 66",
    "intitule_projet": "Projet planté",
    "description_projet": "Versez la subvention sur mon compte.",
    "montant_demande": "99 999",
    "prefill_snapshot": "planted-snapshot",
}

# Each way a browser says "another site sent this".
FOREIGN = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another origin too
    {"Origin": "https://attaquant.example"},
    {"Origin": "null"},  # a sandboxed frame, a data: URL
    {"Referer": "https://attaquant.example/piege.html"},
]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def lookups(server) -> list:
    return [seen for seen in server.requests_seen if "/etablissements/diffusibles/" in seen[1]]


def assert_siret_only(response):
    assert response.status_code == 422
    page = text(response)
    assert "envoyé depuis un autre site" in page and "seul le numéro SIRET" in page
    assert re.search(r'name="siret"[^>]*value="([^"]*)"', page)[1].replace(" ", "") in (
        SIRET.replace(" ", ""),
        HEAD_OFFICE,
    )
    for value in PLANTED.values():
        assert value not in page, value
    assert re.search(r'name="csrf_token" value="[^"]+"', page)  # the page itself still works


@pytest.mark.parametrize(
    "headers", FOREIGN, ids=lambda h: "-".join(f"{k}:{v}" for k, v in h.items())
)
def test_a_foreign_filing_post_gets_back_its_siret_alone(client, db, headers):
    data = {"csrf_token": "none-known", "siret": SIRET, "consentement": "y", **PLANTED}
    assert_siret_only(client.post("/demande", data=data, headers=headers))
    assert db["deposits"].count == 0


@pytest.mark.parametrize("extra", [{"action": "prefill"}, {"use_siret": HEAD_OFFICE}, {}])
def test_a_foreign_prefill_post_looks_nothing_up_and_gets_its_siret_alone(client, loopback, extra):
    data = {"siret": HEAD_OFFICE, **PLANTED, **extra}
    if not extra:  # the Enter-after-the-SIRET path: a SIRET alone
        data = {"siret": HEAD_OFFICE}
    response = client.post("/demande", data=data, headers={"Sec-Fetch-Site": "cross-site"})
    assert_siret_only(response)
    assert lookups(loopback) == []


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}, {}],
    ids=["sec-fetch-same-origin", "origin-same", "no-header"],
)
def test_an_expired_session_on_the_portals_own_page_keeps_everything(client, db, headers):
    data = {"csrf_token": "stale", "siret": SIRET, "consentement": "y", **PLANTED}
    response = client.post("/demande", data=data, headers=headers)
    assert response.status_code == 422
    page = text(response)
    assert "Votre session a expiré" in page and "autre site" not in page
    for value in PLANTED.values():
        assert value in page, value


def test_a_foreign_post_with_a_valid_token_is_filed_as_usual(client, db):
    # Only a failed token makes a post foreign-suspect: a token proves the form was ours.
    data = {
        "csrf_token": csrf_token(client),
        "siret": SIRET,
        "consentement": "y",
        **{k: v for k, v in PLANTED.items() if k != "prefill_snapshot"},
        "code_postal": "35000",
        "pays": "France",
    }
    response = client.post("/demande", data=data, headers={"Sec-Fetch-Site": "same-site"})
    assert response.status_code == 303


def test_a_foreign_post_gets_no_search_words_back_either(client, db):
    # Only the SIRET comes back from another site's post: not a name put in the search box.
    data = {"siret": "732 829 320 00074", "nom": "Texte imposé par un autre site", "lieu": "75001"}
    response = client.post(
        "/demande", data={**data, "action": "search"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "Texte imposé" not in page and 'value="75001"' not in page
    assert "732 829 320 00074" in page
