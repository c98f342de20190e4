"""Issue 11, "Je ne connais pas mon SIRET": the search by name and postcode or commune through
the State's open company search, answered offline by the built-in sandbox in the demonstration."""

from __future__ import annotations

import json
import time

from portail.apientreprise import catalogue
from portail.apientreprise.policy import GatewayPolicy
from portail.apientreprise.sandbox import Sandbox
from portail.core.api_urls import SEARCH_URL
from tests.api_helpers import portal_on
from tests.applicant.htmx_helpers import csrf_token, lookup_post
from tests.fault_double import Reply

LYON = "99912340900024"  # ATELIERS DU VAL FLEURI, its Lyon establishment
PARTLY_PUBLIC = "99956784500014"  # partially diffusible, in Crest
HX_SEARCH = {"HX-Request": "true", "HX-Target": "siret-search-results"}


def sandbox_search(**query):
    found = Sandbox().handle("GET", "/search", query, {})
    return found.status, json.loads(found.body)


def test_sandbox_finds_a_demo_company_by_name_and_postcode():
    status, body = sandbox_search(q="val fleuri", code_postal="69003")
    assert status == 200
    assert body["total_results"] == 1
    (result,) = body["results"]
    assert result["siren"] == "999123409"
    assert result["nom_complet"] == "ATELIERS DU VAL FLEURI"
    assert result["siege"]["siret"] == "99912340900016"
    (matching,) = result["matching_etablissements"]
    assert matching["siret"] == LYON
    assert matching["code_postal"] == "69003" and matching["etat_administratif"] == "A"


def test_sandbox_answers_a_partly_public_entity_masked_like_the_real_search():
    (unit,) = sandbox_search(q="crest")[1]["results"]  # only a partly public one there
    assert unit["statut_diffusion"] == "P" and unit["nom_complet"] == "[NON-DIFFUSIBLE]"
    (record,) = unit["matching_etablissements"]
    assert record["siret"] == PARTLY_PUBLIC
    assert record["statut_diffusion_etablissement"] == "P"
    assert record["adresse"] == record["code_postal"] == "[NON-DIFFUSIBLE]"
    (public,) = sandbox_search(q="val fleuri", code_postal="69003")[1]["results"]
    assert public["statut_diffusion"] == "O"
    assert public["matching_etablissements"][0]["statut_diffusion_etablissement"] == "O"
    assert sandbox_search(q="va")[0] == 400


def test_the_portal_drops_the_partly_public_entity_the_sandbox_returns(client, db):
    html = client.get("/demande/recherche?nom=crest", headers=HX_SEARCH).get_data(as_text=True)
    assert db["api_journal"].count == 1  # the call was made: our code filtered the answer
    assert "Aucune entreprise trouvée" in html and "liste publique" in html
    assert PARTLY_PUBLIC not in html and "NON-DIFFUSIBLE" not in html
    assert "LEROUX" not in html and "CREST" not in html


def test_catalogue_route_is_open_data_with_its_own_provider_and_bucket():
    route = catalogue.route(catalogue.ROUTE_SEARCH)
    assert route.provider == "recherche_entreprises"
    assert route.bucket == catalogue.BUCKET_SEARCH
    assert route.shared and not route.protected
    assert "données publiques" in route.label


def test_the_form_offers_the_search_beside_the_siret(client):
    html = client.get("/demande").get_data(as_text=True)
    assert "<summary>Je ne connais pas mon SIRET</summary>" in html
    assert 'id="search-nom" name="nom" value=""' in html and 'form="siret-search"' not in html
    assert 'hx-trigger="input changed delay:500ms"' in html
    assert 'hx-post="/demande/recherche"' in html and 'hx-params="nom,lieu"' in html
    # Without JavaScript "Rechercher" posts the whole deposit form, like "Pré-remplir".
    assert 'name="action" value="search" formnovalidate' in html
    assert 'hx-sync="#siret-search-details:replace"' in html


def htmx_search(client, **data):
    """POST /demande/recherche like htmx: the CSRF token in a header, only the name and place."""
    headers = {**HX_SEARCH, "X-CSRFToken": csrf_token(client)}
    return client.post("/demande/recherche", data=data, headers=headers)


def test_the_search_form_posts_nothing_without_its_csrf_token(client, db):
    client.get("/demande")
    response = client.post("/demande/recherche", data={"nom": "val fleuri"})
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Votre session a expiré et la recherche" in html and "ATELIERS" not in html
    assert 'value="val fleuri"' in html  # what was typed is kept
    headers = {**HX_SEARCH, "X-CSRFToken": "forged"}
    response = client.post("/demande/recherche", data={"nom": "val fleuri"}, headers=headers)
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#siret-status"
    assert db["api_journal"].count == 0


def test_results_page_posted_without_javascript(client):
    token = csrf_token(client)
    data = {"nom": "val fleuri", "lieu": "69003", "csrf_token": token}
    html = client.post("/demande/recherche", data=data).get_data(as_text=True)
    assert "<html" in html and f'href="/demande/tiers?siret={LYON}"' in html


def test_results_page_without_javascript_links_back_with_the_siret(client):
    response = client.get("/demande/recherche?nom=val+fleuri&lieu=69003")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # it echoes what was typed
    html = response.get_data(as_text=True)
    assert "<html" in html
    assert "ATELIERS DU VAL FLEURI" in html and "LYON 3EME" in html
    assert "Ouvert" in html
    assert "Activité\u202f: Mécanique industrielle (code NAF 25.62B)" in html
    assert f'href="/demande/tiers?siret={LYON}"' in html
    assert client.get("/demande/recherche").headers["Cache-Control"] == "no-store"


def test_a_result_link_prefills_the_form(client):
    html = client.get(f"/demande/tiers?siret={LYON}").get_data(as_text=True)
    assert f'name="siret" value="{LYON}"' in html
    assert 'value="ATELIERS DU VAL FLEURI"' in html
    assert "Informations publiques trouvées pour «\u202fATELIERS DU VAL FLEURI\u202f»" in html


def test_htmx_gets_the_fragment_whose_button_uses_the_siret(client):
    response = htmx_search(client, nom="val fleuri", lieu="Lyon")
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'name="use_siret"' in html and f'value="{LYON}"' in html
    assert "no-store" in response.headers["Cache-Control"]
    # Choosing it: the field comes back with the SIRET and the tiers block is prefilled.
    chosen = lookup_post(client, {"use_siret": LYON, "siret": ""}).get_data(as_text=True)
    assert 'value="999 123 409 00024"' in chosen and 'hx-swap-oob="true"' in chosen
    assert "ATELIERS DU VAL FLEURI" in chosen


def test_unknown_name_says_so_and_keeps_manual_entry(client):
    html = client.get("/demande/recherche?nom=zzzinconnu", headers=HX_SEARCH).get_data(as_text=True)
    assert "Aucune entreprise trouvée" in html
    assert "saisissez vos informations vous-même" in html
    assert "liste publique" in html


def test_too_short_a_name_calls_nothing(client, db):
    html = client.get("/demande/recherche?nom=ab").get_data(as_text=True)
    assert "au moins 3 caractères" in html
    assert db["api_journal"].count == 0


def test_the_journal_records_the_search_as_an_open_data_call_then_a_cache_hit(client, db):
    client.get("/demande/recherche?nom=val+fleuri&lieu=69003", headers=HX_SEARCH)
    client.get("/demande/recherche?nom=val+fleuri&lieu=69003", headers=HX_SEARCH)
    rows = list(db["api_journal"].rows_where(order_by="id"))
    assert [row["route"] for row in rows] == ["/search", "/search"]
    assert rows[0]["target"] == "q=val+fleuri&code_postal=69003&per_page=10"
    assert rows[0]["actor"] == "anonyme" and rows[0]["status"] == 200
    assert [row["source"] for row in rows] == ["api", "cache"]
    assert "données publiques" in catalogue.ROUTE_LABELS[rows[0]["route"]]
    buckets = [row["bucket"] for row in db["rate_budget_calls"].rows]
    assert buckets == [catalogue.BUCKET_SEARCH]


def test_search_host_gets_no_token_and_a_hang_ends_at_the_timeout(tmp_path, double):
    app = portal_on(tmp_path, double.url, API_TIMEOUT_SECONDS=0.5, SEARCH_API_URL=double.url)
    client = app.test_client()
    double.queue(Reply(body={"results": [], "total_results": 0}))
    html = client.get("/demande/recherche?nom=Boulangerie&lieu=35000").get_data(as_text=True)
    assert "Aucune entreprise trouvée" in html
    (seen,) = double.seen
    assert seen.path == "/search"
    assert seen.query == {"q": "Boulangerie", "code_postal": "35000", "per_page": "10"}
    assert "Authorization" not in seen.headers
    double.queue(Reply(hang=True))
    started = time.monotonic()
    html = client.get("/demande/recherche?nom=Autre+nom").get_data(as_text=True)
    assert time.monotonic() - started < 1.5
    assert "ne répond pas pour le moment" in html


def test_a_search_url_outside_the_allow_list_is_ignored():
    policy = GatewayPolicy.from_config({"SEARCH_API_URL": "https://evil.example"})
    assert policy.search_url == SEARCH_URL
    allowed = GatewayPolicy.from_config(
        {"SEARCH_API_URL": "https://proxy.example/", "EXTRA_API_BASE_URLS": "https://proxy.example"}
    )
    assert allowed.search_url == "https://proxy.example"
