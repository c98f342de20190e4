"""Issue 11, "Je ne connais pas mon SIRET", in Debian's Chromium: a demo company found by name
with htmx (debounced, inside the form) and without JavaScript (the results page), then filed."""

from __future__ import annotations

import re

import pytest

from tests import browser_support
from tests.browser.test_browser_deposit import fill_applicant

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


def test_without_javascript_the_results_page_leads_back_prefilled(chromium, base_url):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/demande")
    page.get_by_text("Je ne connais pas mon SIRET").click()
    page.fill("#search-nom", "zzz inconnu")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("main")).to_contain_text("saisissez vos informations vous-même")
    page.fill("#search-nom", "val fleuri")
    page.fill("#search-lieu", "69003")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    assert "fleuri" not in page.url  # posted: nothing typed in a URL
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Choisir cet établissement")).click()
    assert page.input_value("#f-siret") == LYON
    assert page.input_value("#f-raison_sociale") == "ATELIERS DU VAL FLEURI"
    fill_applicant(page)
    page.click("text=Déposer ma demande")
    page.wait_for_url(re.compile(r".*/recu$"))
    assert "Votre demande a bien été déposée" in page.inner_text("main")
    context.close()
