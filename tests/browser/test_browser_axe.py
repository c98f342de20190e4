"""axe-core (every rule it enables by default, best practices included: no tag filter, no rule
disabled) on every page state of the portal, at 1280 and 320 px wide, in Debian's Chromium
(issue 11). A state is reached as a visitor would (typing, clicking, htmx), then checked at
both widths without being reached twice; at each width the page must not scroll sideways
either (reflow).

One server and three tabs (an applicant, the same without the portal's scripts, a logged-in
agent) serve the whole module: a new tab or server per state would cost more than the checks.
The states that need a deposit take it from a module fixture (`receipt_url`), so any subset
of the tests runs alone. A violation fails with its rule id, impact and first targets.
test_browser_axe_prefill.py checks the prefill's harder states the same way.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from portail.apientreprise import sandbox
from portail.core.tokens import mint_token
from portail.storage import database, deposits
from tests.admin_helpers import AuthActions, make_app, save_settings
from tests.browser.test_browser_audit import OVERFLOW, log_in
from tests.browser_support import fill_applicant, live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
AXE_SCRIPT = pytest.importorskip("axe_playwright_python.base").AXE_SCRIPT  # axe-core 4.12.1

# No tag filter and no rule disabled: every rule axe-core enables by default, best practices
# included. Only the violations keep all their nodes (the other result types keep one each),
# to keep each run short.
AXE_RUN = "axe.run(document, {resultTypes: ['violations']})"
WIDTHS = (1280, 320)

HEAD_OFFICE = "99912340900016"  # the sandbox's SAS head office
SECONDARY = "99912340900024"  # one of its secondary establishments (Lyon)
CLOSED = "99923451100023"  # a closed establishment of an active company
UNKNOWN = "89923450400012"  # 404 in the sandbox
PROVIDER_DOWN = "89978915000013"  # 502: the prefill is unavailable
TOKEN_REFUSED = "89934561500012"  # 401: the token is refused


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The demonstration portal (in-process sandbox) with one admin, served by waitress."""
    app = make_app(tmp_path_factory.mktemp("axe"))
    AuthActions(app, app.test_client()).create_admin()
    with live_server(app) as base_url:
        yield app, base_url


@pytest.fixture(scope="module")
def visitor(portal, chromium):
    """One tab without any admin session, reused by every applicant state (a new tab costs
    more than the check itself)."""
    context = chromium.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def agent(portal, chromium):
    """One tab with the agent logged in (the session cookie lives in /admin)."""
    _, base_url = portal
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, base_url)
    yield page
    context.close()


@pytest.fixture(scope="module")
def scriptless(portal, chromium):
    """A tab where the portal's own scripts (htmx...) never load: the pages behave as
    without JavaScript (they have no <noscript> part), yet axe, injected by the test, runs.
    With JavaScript disabled in the context, axe's evaluation would wait forever."""
    context = chromium.new_context()
    context.route(re.compile(r".*/static/.*\.js(\?.*)?$"), lambda route: route.abort())
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def receipt_url(portal, visitor):
    """One deposit filed through the form, prefilled from the head office; its receipt."""
    _, base_url = portal
    page = open_page(visitor, f"{base_url}/demande/tiers?siret={HEAD_OFFICE}")
    expect(page.locator("#f-raison_sociale")).not_to_have_value("")
    fill_applicant(page)
    page.get_by_role("button", name="Déposer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande a bien été déposée")
    url = page.url
    return url


def violations_at_every_width(page) -> list[str]:
    """axe's violations on the page as it stands, at each width, one line per rule; and,
    since the page is there anyway, whether it scrolls sideways (reflow, WCAG 1.4.10)."""
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        excess = page.evaluate(OVERFLOW)
        if excess > 0:
            found.append(f"{width} px: the page scrolls sideways by {excess} px (reflow)")
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.evaluate(AXE_SCRIPT)  # once per loaded document
        for violation in page.evaluate(AXE_RUN)["violations"]:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            found.append(
                f"{width} px: {violation['id']} ({violation['impact']}) "
                f"on {len(violation['nodes'])} node(s): {targets}"
            )
    return found


def check(page) -> None:
    problems = violations_at_every_width(page)
    assert not problems, f"axe violations on {page.url}:\n" + "\n".join(problems)


def open_page(page, url: str, status: int = 200):
    """The tab at `url`, 1280 px wide (a previous check left it at 320)."""
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    response = page.goto(url)
    assert response.status == status, (url, response.status)
    return page


def lookup(page, siret: str) -> None:
    """Type a SIRET in the form: the live lookup answers inside the page (htmx)."""
    page.locator("#f-siret").fill(siret)


# -- The applicant's states ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("siret", "expected"),
    [
        ("", None),
        (HEAD_OFFICE, "Informations publiques trouvées"),
        (CLOSED, "Établissement fermé"),
        ("99901000200015", "Association dissoute"),
        (SECONDARY, "établissement secondaire"),
        (UNKNOWN, "Aucune donnée publique"),
        ("99912340900017", "n'est pas valide"),
        (PROVIDER_DOWN, "indisponible"),
        (TOKEN_REFUSED, None),
    ],
    ids=[
        "empty",
        "head-office",
        "closed",
        "dissolved",
        "secondary",
        "404",
        "check-digit",
        "down",
        "401",
    ],
)
def test_the_form_after_each_kind_of_lookup(portal, visitor, siret, expected):
    _, base_url = portal
    page = open_page(visitor, base_url + "/demande")
    if siret:
        lookup(page, siret)
        status = page.locator("#siret-status")
        if expected:
            expect(status).to_contain_text(re.compile(expected, re.IGNORECASE))
        else:
            expect(status).not_to_be_empty()
    check(page)


@pytest.mark.parametrize("siret", [HEAD_OFFICE, "99912340900017"], ids=["found", "check-digit"])
def test_the_whole_page_after_a_lookup_without_javascript(portal, visitor, siret):
    _, base_url = portal
    check_page = open_page(visitor, f"{base_url}/demande/tiers?siret={siret}")
    check(check_page)


def test_a_refused_filing_with_its_error_summary(portal, visitor):
    _, base_url = portal
    page = open_page(visitor, base_url + "/demande")
    page.fill("#f-representant_nom", "Martin")
    with page.expect_response(lambda response: response.status == 422):
        page.get_by_role("button", name="Déposer ma demande").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page)


def test_the_search_by_name_with_its_results_inside_the_form(portal, visitor):
    _, base_url = portal
    page = open_page(visitor, base_url + "/demande")
    page.get_by_text("Je ne connais pas mon SIRET").click()
    page.fill("#search-lieu", "Lyon")
    page.locator("#search-nom").press_sequentially("val fleuri")
    expect(page.locator("#siret-search-results")).to_contain_text("1 établissement trouvé")
    check(page)


@pytest.mark.parametrize("name", ["val fleuri", "zzz inconnu"], ids=["found", "none"])
def test_the_search_results_page_without_javascript(portal, scriptless, name):
    _, base_url = portal
    page = open_page(scriptless, base_url + "/demande")
    page.get_by_text("Je ne connais pas mon SIRET").click()
    page.fill("#search-nom", name)
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    # Without scripts the search posts the whole form: its results come inside the form.
    assert "/demande/recherche" not in page.url
    expect(page.locator("#siret-search-results")).to_be_visible()
    check(page)


@pytest.mark.parametrize("name", ["val fleuri", "zzz inconnu"], ids=["found", "none"])
def test_the_standalone_search_results_page(portal, scriptless, name):
    # GET /demande/recherche, for a link or a bookmark: a page of its own.
    _, base_url = portal
    page = open_page(scriptless, f"{base_url}/demande/recherche?nom={name}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page)


def test_the_form_when_the_prefill_is_switched_off(portal, visitor):
    app, base_url = portal
    save_settings(app, enabled=False)
    try:
        page = open_page(visitor, base_url + "/demande")
        expect(page.locator("#siret-search-details")).to_have_count(0)
        check(page)
    finally:
        save_settings(app, enabled=True)


def test_the_receipt_and_the_demonstration_outbox(portal, visitor, receipt_url):
    _, base_url = portal
    page = open_page(visitor, receipt_url)
    check(page)
    page.goto(base_url + "/demonstration")
    check(page)
    page.locator("#courriels").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/demonstration/courriels/" in page.url
    check(page)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/accessibilite", 200),
        ("/mentions-legales", 200),
        ("/donnees-personnelles", 200),
        ("/cette-page-n-existe-pas", 404),
    ],
)
def test_the_other_public_pages(portal, visitor, path, status):
    _, base_url = portal
    page = open_page(visitor, base_url + path, status)
    check(page)


# -- The agent's states --------------------------------------------------------------------


@pytest.fixture(scope="module")
def failing_deposit(portal):
    """A deposit whose provider fails (502 on every route): its instruction parts show
    failures (a notice, attestations "Non obtenue") rather than data."""
    app, _ = portal
    db = database.connect(app.config["DATABASE"])
    try:
        values = {"siret": PROVIDER_DOWN, "raison_sociale": "Fournisseur en panne"}
        return deposits.file_deposit(db, values, Decimal("800"), None).ref
    finally:
        db.conn.close()


def test_the_login_page_and_a_failed_login(portal, visitor):
    _, base_url = portal
    page = open_page(visitor, base_url + "/admin/connexion")
    check(page)
    page.get_by_label("Identifiant").fill("mallory")
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#error-summary, .status, [role=alert]").first).to_be_visible()
    check(page)


def instruct(page, expected_verification: str, expected_attestations: str) -> None:
    """Run both instruction actions on the deposit page, as an agent clicks them."""
    page.get_by_role("button", name="Vérifier auprès d'API Entreprise").click()
    expect(page.locator("#verification-status")).to_contain_text(expected_verification)
    page.get_by_role("button", name="Récupérer les attestations").click()
    expect(page.locator("#attestations")).to_contain_text(expected_attestations)


def test_a_deposit_with_its_certified_data_and_attestations(portal, agent, receipt_url):
    _, base_url = portal
    page = open_page(agent, base_url + "/admin/demandes?q=val+fleuri")  # a filter applied
    check(page)
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("AIDE-")
    check(page)
    instruct(page, "Vérifié le", "Obtenue")
    expect(page.locator("#verification").get_by_role("table")).to_be_visible()
    expect(
        page.locator("#attestations").get_by_role("link", name=re.compile("Télécharger le PDF"))
    ).to_have_count(2)
    check(page)


def test_a_deposit_whose_instruction_failed(portal, agent, failing_deposit):
    _, base_url = portal
    page = open_page(agent, f"{base_url}/admin/demandes/{failing_deposit}")
    instruct(page, "n'a pas abouti", "Non obtenue")
    check(page)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/admin/", 200),
        ("/admin/demandes", 200),
        ("/admin/demandes?du=pas-une-date", 422),
        ("/admin/demandes?q=aucune+demande+de+ce+nom", 200),
        ("/admin/demandes/AIDE-0000-INCONNUE", 404),
        ("/admin/journal", 200),
        (f"/admin/journal?siret={HEAD_OFFICE}", 200),
        ("/admin/journal?du=pas-une-date", 422),
        ("/admin/guide-jeton", 200),
        ("/admin/parametres/effacer-jeton", 200),
    ],
)
def test_the_admin_pages_once_deposits_are_instructed(portal, agent, receipt_url, path, status):
    _, base_url = portal
    check(open_page(agent, base_url + path, status))


def test_the_settings_with_a_token_saved_then_tested_then_refused(portal, agent):
    _, base_url = portal
    page = open_page(agent, base_url + "/admin/parametres")
    # The demonstration's scopes: the instruction still works after this test.
    page.locator("#f-token").fill(mint_token(list(sandbox.DEMO_SCOPES)))
    page.locator("#f-context").fill("Instruction des subventions de la commune de Saint-Martin")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").first).to_contain_text("Paramètres enregistrés")
    expect(page.locator("#f-token-state")).not_to_be_empty()
    check(page)
    page.locator("#f-token").fill(mint_token(["open_data"]))
    page.get_by_role("button", name="Tester la connexion").click()
    expect(page.locator("#connection-result")).to_contain_text(re.compile("Connexion|Jeton"))
    check(page)
    page.locator("#f-recipient_siret").fill("123")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page)


def test_the_token_banner_of_every_admin_page(portal, agent):
    app, base_url = portal
    save_settings(app, token=mint_token(list(sandbox.DEMO_SCOPES), expires_in=5 * 86400))
    try:
        page = open_page(agent, base_url + "/admin/")
        expect(page.locator(".token-banner")).to_be_visible()
        check(page)
    finally:
        save_settings(app, token=mint_token(list(sandbox.DEMO_SCOPES)))


def test_the_accessibility_statement_names_this_check(portal, visitor):
    """The statement tells which tool ran, at which widths, on how many states (this
    module's and test_browser_axe_prefill.py's: update it with the states)."""
    _, base_url = portal
    version = re.match(r"/\*! axe v([0-9.]+)", AXE_SCRIPT).group(1)
    page = open_page(visitor, base_url + "/accessibilite")
    results = page.locator("#axe-results")
    expect(results).to_contain_text(f"axe-core {version}")
    expect(results).to_contain_text(f"({WIDTHS[0]} et {WIDTHS[1]} pixels)")
    expect(results).to_contain_text("aucune non-conformité relevée")
    counts = re.search(
        r"sur (\d+) états de pages .* soit (\d+) analyses\u202f:", results.inner_text(), re.S
    )
    assert counts, results.inner_text()
    assert int(counts.group(2)) == int(counts.group(1)) * len(WIDTHS)
