"""Issue 11, the search by name as part of the deposit form: without JavaScript "Rechercher"
posts the whole form and loses nothing typed, the results come inside the form page, and
choosing one posts the form again and prefills; the applicant's own limit is named."""

from __future__ import annotations

import html as html_text
import re

import pytest

from app import create_app
from portail.storage import settings
from tests.applicant.htmx_helpers import COMPLETE_FORM, csrf_token

LYON = "99912340900024"  # ATELIERS DU VAL FLEURI, its Lyon establishment
HX_SEARCH = {"HX-Request": "true", "HX-Target": "siret-search-results"}

# What the applicant typed before not knowing the SIRET: everything but the organisation.
TYPED = {
    name: value
    for name, value in COMPLETE_FORM.items()
    if name.startswith("representant_")
    or name in ("email", "telephone", "intitule_projet", "description_projet", "montant_demande")
}


def page(response) -> str:
    return html_text.unescape(response.get_data(as_text=True))


def assert_every_typed_value_kept(html: str) -> None:
    for name, value in TYPED.items():
        if name == "description_projet":
            assert f">{value}</textarea>" in html, name
        else:
            field = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
            assert f'value="{value}"' in field, name


def search_post(client, **extra):
    data = {"csrf_token": csrf_token(client), **TYPED, "siret": "", "nom": "val fleuri"}
    return client.post("/demande", data={**data, "lieu": "Lyon", **extra})


def test_rechercher_without_javascript_keeps_every_value_and_shows_results_in_the_form(client, db):
    response = search_post(client, action="search")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page(response)
    assert '<form method="post" action="/demande"' in html  # the deposit form page
    assert_every_typed_value_kept(html)
    assert 'id="search-nom" name="nom" value="val fleuri"' in html
    assert 'name="lieu" value="Lyon"' in html
    assert '<details class="siret-search" id="siret-search-details" open>' in html
    results = html[html.index('id="siret-search-results"') :]
    assert "1 établissement trouvé" in results and "LYON 3EME" in results
    assert f'name="use_siret"\n            value="{LYON}"' in results  # a submit button
    assert db["deposits"].count == 0


def test_choosing_a_result_without_javascript_prefills_and_keeps_every_value(client, db):
    response = search_post(client, use_siret=LYON)
    assert response.status_code == 200
    html = page(response)
    assert_every_typed_value_kept(html)
    assert 'name="siret" value="999 123 409 00024"' in html
    assert 'value="ATELIERS DU VAL FLEURI"' in html
    assert 'id="search-nom" name="nom" value="val fleuri"' in html
    assert db["deposits"].count == 0


def test_enter_in_the_search_name_without_javascript_searches_and_files_nothing(client, db):
    # Enter clicks the form's default (filing) button: no action, a name, no SIRET.
    response = search_post(client)
    assert response.status_code == 422
    html = page(response)
    assert "pas encore déposée" in html and "1 établissement trouvé" in html
    assert_every_typed_value_kept(html)
    assert 'class="error-summary"' not in html  # no list of errors for a search
    assert db["deposits"].count == 0


def test_a_failed_filing_keeps_the_search_fields_too(client):
    data = {"csrf_token": csrf_token(client), **TYPED, "siret": "123", "nom": "val fleuri"}
    html = page(client.post("/demande", data=data))
    assert 'class="error-summary"' in html
    assert 'id="search-nom" name="nom" value="val fleuri"' in html
    assert "établissement trouvé" not in html  # a filing error, not a search


def test_a_search_with_an_expired_session_keeps_everything_and_calls_nothing(client, db):
    client.get("/demande")
    data = {"csrf_token": "expired", **TYPED, "nom": "val fleuri", "action": "search"}
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    html = page(response)
    assert "la recherche n'a pas été lancée" in html
    assert_every_typed_value_kept(html)
    assert db["api_journal"].count == 0
    # The search's box stays open with its name, for "Rechercher" again.
    assert '<details class="siret-search" id="siret-search-details" open>' in html
    assert 'id="search-nom" name="nom" value="val fleuri"' in html


def test_choosing_a_result_with_an_expired_session_keeps_the_chosen_siret(client, db):
    client.get("/demande")
    data = {"csrf_token": "expired", **TYPED, "siret": "999 123 409 00016", "use_siret": LYON}
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    html = page(response)
    siret = re.search(r'<input[^>]*name="siret"[^>]*>', html).group(0)
    assert 'value="999 123 409 00024"' in siret  # the chosen one, not the one it replaced
    assert "l'établissement choisi n'a pas encore été pré-rempli" in html
    assert "«\u202fPré-remplir\u202f»" in html
    assert_every_typed_value_kept(html)
    assert db["api_journal"].count == 0


def test_an_expired_htmx_search_says_how_to_renew_the_session(client, db):
    client.get("/demande")
    for _ in range(2):  # the same stale token each time: the advice must not loop
        response = client.post(
            "/demande/recherche",
            data={"nom": "val fleuri"},
            headers={**HX_SEARCH, "X-CSRFToken": "stale"},
        )
        assert response.status_code == 403
        html = page(response)
        assert "«\u202fDéposer ma demande\u202f» pour renouveler la session" in html
        assert "à nouveau sur «\u202fRechercher" not in html
    assert db["api_journal"].count == 0


def test_a_search_with_the_assistance_switched_off_says_so(client, db):
    settings.save(db, {"enabled": False}, actor="test")
    response = search_post(client, action="search")
    assert response.status_code == 200
    html = page(response)
    assert "La recherche par nom n'est pas disponible" in html
    assert_every_typed_value_kept(html)
    assert db["api_journal"].count == 0


@pytest.fixture
def one_search_a_minute(tmp_path):
    return create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "portail.sqlite3"),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "RATE_BUDGET_PER_CLIENT_PER_MINUTE": 1,
            "RATE_BUDGET_MAX_WAIT_SECONDS": 0,
        }
    ).test_client()


def test_an_applicant_past_their_own_share_is_told_to_wait(one_search_a_minute):
    client = one_search_a_minute
    client.get("/demande/recherche?nom=val+fleuri", headers=HX_SEARCH)
    html = page(client.get("/demande/recherche?nom=autre+nom", headers=HX_SEARCH))
    assert "ne répond pas" not in html
    wait = re.search(
        r"Vous avez lancé beaucoup de recherches en peu de temps\u202f: réessayez dans "
        r"(\d+) secondes\.",
        html,
    )
    assert wait and 55 <= int(wait.group(1)) <= 60


def test_a_name_under_three_characters_calls_nothing_from_the_form(client, db):
    html = page(search_post(client, action="search", nom="ab"))
    assert "au moins 3 caractères" in html
    assert_every_typed_value_kept(html)
    assert db["api_journal"].count == 0
