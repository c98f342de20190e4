"""Screenshots of the main screens (issue 11), taken in Debian's Chromium while the real user
paths run against the demonstration portal (in-process sandbox).

Each test asserts what its screen is meant to show before taking the picture, so a broken
feature fails here rather than leaving a misleading image in the README. Pictures go to
tmp_path; `make screenshots` sets PORTAIL_SCREENSHOTS_DIR=docs/screenshots to refresh the
README's images (a normal test run never touches the repository).
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from portail.core.tokens import mint_token
from tests.admin_helpers import PASSWORD, USERNAME, AuthActions, make_app
from tests.browser_support import CHROMIUM, browser, fill_applicant, live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SCREENSHOTS_DIR = os.environ.get("PORTAIL_SCREENSHOTS_DIR")
if SCREENSHOTS_DIR and not CHROMIUM.exists():
    # `make screenshots` asked for the pictures: skipping would leave the old ones silently.
    pytest.fail(f"{CHROMIUM} is missing: no screenshot can be taken", pytrace=False)

HEAD_OFFICE = "999 123 409 00016"  # the sandbox's SAS head office, typed as on a letterhead
CLOSED = "999 234 511 00023"  # an établissement closed on 30 June 2023, its company active
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A screen is a PNG this wide, at most this tall, and heavier than a blank page of its size
# (a blank 1280 x 800 PNG weighs about 5 KB): under 250 KB keeps the repository light.
MIN_BYTES, MAX_BYTES = 12_000, 250_000
TOKEN_SCOPES = ["open_data", "unites_legales_etablissements_insee", "associations_djepva"]


@pytest.fixture(scope="module")
def chromium():
    """Chromium in French, as an applicant's: dates in fields read day first."""
    with browser(french_ui=True) as launched:
        yield launched


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """One demonstration portal with one admin, served by waitress for the whole module."""
    app = make_app(tmp_path_factory.mktemp("portal"))
    AuthActions(app, app.test_client()).create_admin()
    with live_server(app) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the PNGs go: PORTAIL_SCREENSHOTS_DIR when set (`make screenshots`), else tmp."""
    folder = Path(SCREENSHOTS_DIR) if SCREENSHOTS_DIR else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_page(chromium, viewport=DESKTOP):
    """A page in a fresh French context (its own cookies), one CSS pixel per image pixel."""
    context = chromium.new_context(
        viewport=viewport, device_scale_factor=1, locale="fr-FR", timezone_id="Europe/Paris"
    )
    return context.new_page()


def shoot(page, folder: Path, name: str, top=None, height: int = DESKTOP["height"]) -> Path:
    """Picture the page from `top` (a locator, or the page's top), one screen high."""
    path = folder / f"{name}.png"
    width = page.viewport_size["width"]
    page.evaluate("window.scrollTo(0, 0)")
    y = 0
    if top is not None:
        y = max(0, int(top.bounding_box()["y"]) - 16)
    page.screenshot(
        path=path,
        full_page=True,  # lets the clip reach below the first screen
        clip={"x": 0, "y": y, "width": width, "height": height},
        animations="disabled",
        caret="hide",
    )
    assert_png(path, width, height)
    return path


def assert_png(path: Path, width: int, height: int) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert data[12:16] == b"IHDR", path
    assert struct.unpack(">II", data[16:24]) == (width, height), path
    assert MIN_BYTES < len(data) < MAX_BYTES, (path, len(data))


def type_siret(page, base_url: str, siret: str) -> None:
    """Type the SIRET key by key, as an applicant does: htmx looks it up at the 14th digit."""
    page.goto(base_url + "/demande")
    field = page.locator("#f-siret")
    field.click()
    field.press_sequentially(siret, delay=30)
    expect(page.locator("#siret-status")).to_contain_text("Informations publiques trouvées")
    expect(page.locator("#siret-indicator")).not_to_have_class(re.compile("htmx-request"))


def file_a_deposit(page, base_url: str, name: str | None = None) -> str:
    """Prefill by typing, fill in the applicant (and the organisation's `name` if given),
    file; return the deposit's reference."""
    type_siret(page, base_url, HEAD_OFFICE)
    if name is not None:
        page.fill("#f-raison_sociale", name)
    fill_applicant(page)
    page.get_by_role("button", name="Déposer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande a bien été déposée")
    return page.locator("#reference").inner_text()


def identification(page):
    """The form's first fieldset: the SIRET, the lookup's status line, the search by name."""
    return page.locator("#deposit-form fieldset").first


def log_in(page, base_url: str, path: str) -> None:
    page.goto(base_url + path)
    page.get_by_label("Identifiant").fill(USERNAME)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


@pytest.fixture
def desktop(chromium):
    """A desktop-wide page (1280 x 800), in a context of its own."""
    page = new_page(chromium)
    yield page
    page.context.close()


@pytest.mark.parametrize(
    ("name", "viewport"), [("formulaire-pre-rempli", DESKTOP), ("formulaire-mobile", PHONE)]
)
def test_prefilled_form(chromium, portal, shots, name, viewport):
    page = new_page(chromium, viewport)
    type_siret(page, portal, HEAD_OFFICE)
    expect(page.locator("#f-raison_sociale")).to_have_value("ATELIERS DU VAL FLEURI")
    expect(page.locator("#f-adresse_numero")).to_have_value("22 bis")
    expect(page.locator("#f-commune")).to_have_value("PARIS")
    source = page.locator("#f-raison_sociale-source")
    expect(source).to_contain_text("Pré-rempli depuis API Entreprise")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shoot(page, shots, name, top=identification(page), height=viewport["height"])
    page.context.close()


def test_closed_establishment_notice(portal, desktop, shots):
    type_siret(desktop, portal, CLOSED)
    notice = desktop.locator("#status-closed")
    expect(notice).to_contain_text("Établissement fermé")
    expect(notice).to_contain_text("Vérifiez le SIRET")
    expect(desktop.locator("#f-etat_administratif")).to_have_value("fermé")
    shoot(desktop, shots, "etablissement-ferme", top=identification(desktop))


def test_search_by_name(portal, desktop, shots):
    desktop.goto(portal + "/demande")
    desktop.get_by_text("Je ne connais pas mon SIRET").click()
    desktop.locator("#search-nom").press_sequentially("val fleuri", delay=30)
    results = desktop.locator("#siret-search-results")
    expect(results).to_contain_text(re.compile(r"\d+ établissements trouvés"))
    expect(results).to_contain_text("LYON 3EME")
    choices = results.get_by_role("button", name=re.compile("Choisir cet établissement"))
    assert choices.count() >= 2
    shoot(desktop, shots, "recherche-par-nom", top=desktop.locator("#siret-search-details"))


def test_receipt(portal, desktop, shots):
    reference = file_a_deposit(desktop, portal)
    assert re.fullmatch(r"AIDE-\d{4}-[0-9A-Z-]+", reference), reference
    main = desktop.locator("main")
    expect(main).to_contain_text("Rénovation de l'atelier")
    expect(main).to_contain_text("12 500")
    shoot(desktop, shots, "recepisse")


def test_admin_settings_show_the_token_expiry(portal, desktop, shots):
    token = mint_token(TOKEN_SCOPES, expires_in=200 * 86400)
    log_in(desktop, portal, "/admin/parametres")
    desktop.locator("#f-token").fill(token)
    desktop.get_by_role("button", name="Enregistrer").click()
    expect(desktop.get_by_role("status").first).to_contain_text("Paramètres enregistrés")
    state = desktop.locator("#f-token-state")
    expect(state).to_contain_text(f"…{token[-4:]}")
    expect(state).to_contain_text(re.compile(r"expire le \d{2}/\d{2}/\d{4} \(dans \d+ jours\)"))
    for scope in TOKEN_SCOPES:
        expect(state.locator("code", has_text=scope)).to_have_count(1)
    expect(desktop.locator("#f-token")).to_have_value("")
    assert token not in desktop.content()
    shoot(desktop, shots, "parametres-jeton", top=desktop.locator("#f-token").locator(".."))


def test_journal(portal, desktop, shots):
    for siret in (HEAD_OFFICE, CLOSED):
        type_siret(desktop, portal, siret)
    log_in(desktop, portal, "/admin/journal")
    rows = desktop.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2
    table = desktop.locator("main table")
    for siret in (HEAD_OFFICE, CLOSED):
        expect(table).to_contain_text(siret)
    # The picture shows every column: the table fits its region at 1280 px.
    region = desktop.locator("main .table-scroll")
    assert region.evaluate("r => r.scrollWidth - r.clientWidth") <= 1
    # The table alone: the filters' date inputs would show Chromium's en-US placeholder
    # (mm/dd/yyyy) where Debian's chromium-l10n is not installed.
    shoot(desktop, shots, "journal", top=region)


def test_deposit_with_certified_data(portal, desktop, shots):
    # The applicant shortened the name the lookup filled in: the check shows that difference.
    reference = file_a_deposit(desktop, portal, name="ATELIERS VAL FLEURI")
    log_in(desktop, portal, f"/admin/demandes/{reference}")
    expect(desktop.get_by_role("heading", level=1)).to_contain_text(reference)
    section = desktop.locator("#verification")
    section.get_by_role("button", name="Vérifier auprès d'API Entreprise").click()
    table = section.get_by_role("table")
    expect(table).to_contain_text("Certifié (API Entreprise)")
    expect(section.get_by_role("status")).to_contain_text(f"par {USERNAME}")
    expect(section.get_by_role("status")).to_contain_text("Écarts à examiner")
    name_row = table.get_by_role("row", name=re.compile("Raison sociale"))
    expect(name_row).to_contain_text("ATELIERS VAL FLEURI")
    expect(name_row).to_contain_text("ATELIERS DU VAL FLEURI")
    expect(name_row).to_contain_text("Écart")
    shoot(desktop, shots, "demande-donnees-certifiees", top=section)
