"""Issue 11, "Je ne connais pas mon SIRET", in Debian's Chromium: a demo company found by name
with htmx (debounced, inside the form) and without JavaScript (the whole form posted, every
typed value kept, the results inside the form page), then filed."""

from __future__ import annotations

import re

import pytest

from tests import browser_support
from tests.browser_support import fill_applicant

LYON = "99912340900024"

pytestmark = pytest.mark.browser
browser_support.require_chromium()

from playwright.sync_api import expect  # noqa: E402  (after the Chromium check on purpose)


@pytest.fixture
def base_url(app):
    """The demonstration portal (the built-in sandbox answers the search offline)."""
    with browser_support.live_server(app) as url:
        yield url


def test_find_a_company_by_name_choose_it_and_file(chromium, base_url):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    page.get_by_text("Je ne connais pas mon SIRET").click()
    page.fill("#search-lieu", "Lyon")
    page.locator("#search-nom").press_sequentially("val fleuri")
    results = page.locator("#siret-search-results")
    expect(results).to_contain_text("1 établissement trouvé")
    expect(results).to_contain_text("LYON 3EME")
    assert page.url == f"{base_url}/demande"  # htmx: the results came inside the form
    results.get_by_role("button", name=re.compile("Choisir cet établissement")).click()
    expect(page.locator("#f-raison_sociale")).to_have_value("ATELIERS DU VAL FLEURI")
    assert page.input_value("#f-siret") == "999 123 409 00024"
    fill_applicant(page)
    page.click("text=Déposer ma demande")
    page.wait_for_url(re.compile(r".*/demande/AIDE-\d{4}-[0-9A-Z-]+/recu$"))
    receipt = page.inner_text("main")
    assert "Votre demande a bien été déposée" in receipt
    assert "ATELIERS DU VAL FLEURI" in receipt


# What the applicant types before searching, and must find again after each page load.
TYPED = {
    "#f-representant_nom": "Martin",
    "#f-representant_prenom": "Paul",
    "#f-representant_qualite": "Gérant",
    "#f-email": "paul.martin@example.org",
    "#f-telephone": "04 72 00 00 00",
    "#f-intitule_projet": "Rénovation de l'atelier",
    "#f-description_projet": "Remplacement de la toiture de l'atelier.",
    "#f-montant_demande": "12 500",
}


def assert_kept(page):
    for selector, value in TYPED.items():
        assert page.input_value(selector) == value, selector
    assert page.is_checked("#f-consentement")


def test_enter_in_the_search_name_searches_and_files_nothing(chromium, base_url):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    page.get_by_text("Je ne connais pas mon SIRET").click()
    page.fill("#search-nom", "val fleuri")
    page.evaluate("window.samePage = true")  # gone if the form were posted (a new page)
    page.press("#search-nom", "Enter")
    expect(page.locator("#siret-search-results")).to_contain_text("établissements trouvés")
    assert page.evaluate("window.samePage === true")
    expect(page.locator(".error-summary")).to_have_count(0)


def test_typing_under_three_characters_asks_nothing(chromium, base_url):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    searches = []
    page.on(
        "request",
        lambda request: searches.append(request.url) if "recherche" in request.url else None,
    )
    page.get_by_text("Je ne connais pas mon SIRET").click()
    page.locator("#search-nom").press_sequentially("va")
    page.wait_for_timeout(900)  # well past the 500 ms pause
    assert searches == []
    page.locator("#search-nom").press_sequentially("l")
    expect(page.locator("#siret-search-results")).to_contain_text("trouvé")
    assert len(searches) == 1


def test_without_javascript_search_and_choose_keep_every_typed_value(chromium, base_url):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/demande")
    for selector, value in TYPED.items():
        page.fill(selector, value)
    page.check("#f-consentement")
    page.get_by_text("Je ne connais pas mon SIRET").click()
    page.fill("#search-nom", "zzz inconnu")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    assert page.url.startswith(f"{base_url}/demande")  # the deposit form page itself
    expect(page.locator("#siret-search-results")).to_contain_text(
        "saisissez vos informations vous-même"
    )
    assert_kept(page)
    page.fill("#search-nom", "val fleuri")
    page.fill("#search-lieu", "69003")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    assert "fleuri" not in page.url  # posted: nothing typed in a URL
    results = page.locator("#siret-search-results")
    expect(results).to_contain_text("1 établissement trouvé")
    expect(results).to_contain_text("Mécanique industrielle")
    assert_kept(page)
    assert page.input_value("#search-nom") == "val fleuri"
    with page.expect_navigation():
        results.get_by_role("button", name=re.compile("Choisir cet établissement")).click()
    assert page.input_value("#f-siret") == "999 123 409 00024"
    assert page.input_value("#f-raison_sociale") == "ATELIERS DU VAL FLEURI"
    assert_kept(page)
    with page.expect_navigation():
        page.click("text=Déposer ma demande")
    assert re.search(r"/recu$", page.url), page.url
    receipt = page.inner_text("main")
    assert "Votre demande a bien été déposée" in receipt
    assert "ATELIERS DU VAL FLEURI" in receipt and "Martin" in receipt
    context.close()


def test_without_javascript_the_standalone_results_page_leads_back_prefilled(chromium, base_url):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/demande/recherche?nom=val+fleuri&lieu=69003")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Choisir cet établissement")).click()
    assert page.input_value("#f-siret") == LYON
    assert page.input_value("#f-raison_sociale") == "ATELIERS DU VAL FLEURI"
    context.close()
