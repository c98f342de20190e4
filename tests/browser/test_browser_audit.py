"""Defects from the accessibility audit (issue 11), checked in Debian's Chromium: the hidden
submit button, reflow at 320 px (WCAG 1.4.10), focus after a refused filing and after
"Tester la connexion"."""

from __future__ import annotations

import re

import pytest

from portail.core.tokens import mint_token
from tests.admin_helpers import PASSWORD, USERNAME, AuthActions, make_app
from tests.browser_support import fill_applicant, live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

HEAD_OFFICE = "99912340900016"  # the sandbox's SAS head office
PROVIDER_DOWN = "89978915000013"  # 502: the prefill is unavailable
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# Whether each text piece of an element (a path's segments, between their <wbr>) lies on one
# line: a Range over a piece split across lines has one rectangle per line.
SEGMENTS_ON_ONE_LINE = """element => [...element.childNodes]
  .filter(node => node.nodeType === Node.TEXT_NODE)
  .every(node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return range.getClientRects().length === 1;
  })"""


@pytest.fixture
def portal(tmp_path):
    """The demonstration portal (in-process sandbox) with one admin, served by waitress."""
    app = make_app(tmp_path)
    AuthActions(app, app.test_client()).create_admin()
    with live_server(app) as base_url:
        yield base_url


def log_in(page, base_url):
    page.goto(base_url + "/admin/connexion")
    page.get_by_label("Identifiant").fill(USERNAME)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def file_a_deposit(page, base_url) -> str:
    """File a prefilled deposit without JavaScript timing issues; return the receipt's URL."""
    page.goto(f"{base_url}/demande/tiers?siret={HEAD_OFFICE}")
    expect(page.locator("#f-raison_sociale")).not_to_have_value("")
    fill_applicant(page)
    page.get_by_role("button", name="Déposer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande a bien été déposée")
    return page.url


def instructed_deposit(page, base_url) -> str:
    """The path of the first listed deposit, once an agent (logged in) has verified it and
    fetched its attestations: its page then holds the instruction tables."""
    page.goto(base_url + "/admin/demandes")
    deposit = page.get_by_role("table").get_by_role("link").first.get_attribute("href")
    page.goto(base_url + deposit)
    page.get_by_role("button", name="Vérifier auprès d'API Entreprise").click()
    expect(page.locator("#verification").get_by_role("table")).to_be_visible()
    page.get_by_role("button", name="Récupérer les attestations").click()
    expect(page.locator("#attestations").get_by_role("table")).to_be_visible()
    return deposit


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_hidden_submit_button_is_neither_shown_nor_clickable(portal, chromium, javascript):
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(portal + "/demande")
    hidden = page.locator("#deposit-form button[hidden]")
    expect(hidden).to_have_count(1)
    expect(hidden).to_be_hidden()
    assert hidden.bounding_box() is None  # no box at all: nothing to see nor click
    assert hidden.evaluate("b => getComputedStyle(b).display") == "none"
    # Same after a refused filing (the page comes back with its errors).
    page.get_by_role("button", name="Déposer ma demande").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(hidden).to_be_hidden()
    assert hidden.bounding_box() is None
    context.close()


def test_every_page_reflows_at_320_px_and_admin_pages_at_1280(portal, chromium):
    base_url = portal
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    receipt = file_a_deposit(page, base_url)
    log_in(page, base_url)
    deposit = instructed_deposit(page, base_url)  # with its certified data and attestations
    # A setting changed, so the settings page shows its history table.
    page.goto(base_url + "/admin/parametres")
    page.locator("#f-context").fill("Instruction des subventions de la commune de Saint-Martin")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").first).to_contain_text("Paramètres enregistrés")

    pages = {
        "form": "/demande",
        "prefilled form": f"/demande/tiers?siret={HEAD_OFFICE}",
        "receipt": receipt.removeprefix(base_url),
        "demonstration": "/demonstration",
        "dashboard": "/admin",
        "settings": "/admin/parametres",
        "deposits": "/admin/demandes",
        "deposit": deposit,
        "journal": "/admin/journal",
        "guide": "/admin/guide-jeton",
    }
    overflowing = {}
    for width, names in (
        (320, list(pages)),
        (1280, ["dashboard", "journal", "deposits", "deposit", "settings"]),
    ):
        page.set_viewport_size({"width": width, "height": 800})
        for name in names:
            response = page.goto(base_url + pages[name])
            assert response.ok, (name, response.status)
            excess = page.evaluate(OVERFLOW)
            if excess > 0:
                overflowing[f"{name} at {width} px"] = excess
    assert overflowing == {}
    context.close()


def test_admin_tables_fit_their_region_at_1280_px(portal, chromium):
    """At 1280 px an agent reads every column without scrolling a table sideways: the long
    tokens (route paths, request ids, a name search's query string) wrap in their cells."""
    base_url = portal
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    file_a_deposit(page, base_url)  # a lookup answered by the API
    page.goto(base_url + "/demande")
    page.locator("#f-siret").fill(HEAD_OFFICE)  # the same again: served from the cache
    expect(page.locator("#f-raison_sociale")).not_to_have_value("")
    page.locator("#f-siret").fill(PROVIDER_DOWN)  # an error (502)
    expect(page.locator("#siret-status")).to_contain_text("indisponible")
    page.get_by_text("Je ne connais pas mon SIRET").click()  # a search by name
    page.fill("#search-lieu", "Lyon")
    page.locator("#search-nom").press_sequentially("val fleuri")
    expect(page.locator("#siret-search-results")).to_contain_text("1 établissement trouvé")
    log_in(page, base_url)
    instructed_deposit(page, base_url)  # certified data and attestations (documents)

    wider = {}
    for path in ("/admin/", "/admin/demandes", "/admin/journal"):
        page.goto(base_url + path)
        regions = page.locator("main .table-scroll")
        expect(regions.first).to_be_visible()
        for index, region in enumerate(regions.all()):
            excess = region.evaluate("r => r.scrollWidth - r.clientWidth")
            if excess > 1:
                wider[f"{path} table {index + 1}"] = excess
    # The journal holds every kind of row the test made: a name search's query among them.
    expect(page.locator("main table")).to_contain_text("val+fleuri")
    expect(page.locator("main table")).to_contain_text("attestation_vigilance")
    assert wider == {}
    # At 320 px a path breaks between its segments only (one broken every few letters is
    # unreadable): the table scrolls inside its region, never the page.
    page.set_viewport_size({"width": 320, "height": 800})
    region = page.locator("main .table-scroll")
    assert region.evaluate("r => r.scrollWidth - r.clientWidth") > 1
    assert page.evaluate(OVERFLOW) <= 0
    route = page.locator("main table code", has_text="/etablissements/").first
    assert route.evaluate(SEGMENTS_ON_ONE_LINE), route.inner_text()
    context.close()


def test_tables_scroll_inside_a_named_focusable_region(portal, chromium):
    base_url = portal
    context = chromium.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    file_a_deposit(page, base_url)
    log_in(page, base_url)
    deposit = instructed_deposit(page, base_url)
    for path in ("/demonstration", "/admin", "/admin/demandes", "/admin/journal", deposit):
        page.goto(base_url + path)
        for table in page.locator("main table").all():
            region = table.locator("xpath=..")
            assert region.get_attribute("class") == "table-scroll", path
            assert region.get_attribute("role") == "region", path
            assert region.get_attribute("aria-label"), path
            assert region.get_attribute("tabindex") == "0", path
        if path == deposit:  # the deposit's values, certified data and attestations
            expect(page.locator("main table")).to_have_count(3)
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_refused_filing_moves_focus_to_the_error_summary(portal, chromium, javascript):
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(portal + "/demande")
    page.fill("#f-representant_nom", "Martin")
    page.get_by_role("button", name="Déposer ma demande").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    context.close()


def test_focus_stays_on_the_connection_test_button(portal, chromium):
    page = chromium.new_page()
    log_in(page, portal)
    page.goto(portal + "/admin/parametres")
    page.locator("#f-token").fill(mint_token(["open_data"]))
    button = page.get_by_role("button", name="Tester la connexion")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#connection-result")).to_contain_text(re.compile("Connexion|Jeton"))
    expect(button).to_be_focused()
    page.close()


def test_the_footer_links_are_a_styled_row_without_bullets(portal, chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(portal + "/demande")
    links = page.get_by_role("navigation", name="Informations légales")
    listing = links.get_by_role("list")
    assert listing.evaluate("l => getComputedStyle(l).listStyleType") == "none"
    assert listing.evaluate("l => getComputedStyle(l).paddingLeft") == "0px"
    boxes = [link.bounding_box() for link in links.get_by_role("link").all()]
    assert len(boxes) == 3
    assert len({round(box["y"]) for box in boxes}) == 1  # one row at 1280 px
    assert all(box["height"] >= 24 for box in boxes)  # WCAG 2.5.8 target size
    # Aligned with the footer's text, not indented like a bulleted list.
    text_left = page.locator(".site-footer p").first.bounding_box()["x"]
    assert round(boxes[0]["x"]) == round(text_left)
    context.close()
