"""End to end in Debian's Chromium: log in, change a setting, test the connection."""

from __future__ import annotations

import re
import time

import pytest

from portail.apientreprise import sandbox
from portail.core.tokens import mint_token
from tests.admin_helpers import PASSWORD, USERNAME, AuthActions, make_app
from tests.admin_helpers import saved_settings as saved
from tests.browser_support import live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def double():
    """The fictitious API over loopback HTTP, to count what it receives."""
    with sandbox.LoopbackSandbox() as server:
        yield server


@pytest.fixture
def portal(tmp_path, double):
    """The portal (allowed to use the loopback double) with one admin, served by waitress."""
    app = make_app(tmp_path, EXTRA_API_BASE_URLS=[double.url])
    AuthActions(app, app.test_client()).create_admin()
    with live_server(app) as base_url:
        yield app, base_url


def log_in(page, base_url, path="/admin/parametres"):
    page.goto(base_url + path)
    expect(page).to_have_url(re.compile(r"/admin/connexion\?next="))
    page.get_by_label("Identifiant").fill(USERNAME)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(base_url + path)


def test_admin_changes_settings_and_tests_the_connection(portal, double, chromium):
    app, base_url = portal
    context = chromium.new_context()
    page = context.new_page()
    csp_errors = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, base_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paramètres")

    token = mint_token(["open_data", "associations"])
    page.get_by_label(re.compile(re.escape(double.url))).check()
    page.locator("#f-token").fill(token)
    page.locator("#f-context").fill("Instruction des subventions de la commune")

    # htmx: only the result region changes; typed values stay in the form.
    page.get_by_role("button", name="Tester la connexion").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text("Connexion réussie\u202f: le jeton donne 2 droits.")
    expect(result).to_contain_text("données ouvertes (open data)")
    expect(page.locator("#f-token")).to_have_value(token)
    assert double.requests_seen[-1][1] == "/privileges"
    assert saved(app).token != token  # tested, not saved

    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").first).to_contain_text("Paramètres enregistrés")
    current = saved(app)
    assert current.api_url == double.url and current.token == token
    assert current.context == "Instruction des subventions de la commune"
    expect(page.locator("#f-token")).to_have_value("")
    expect(page.locator("#f-token-state")).to_contain_text(f"…{token[-4:]}")
    assert token not in page.content()

    # An expired token, typed and tested: the API's refusal is told precisely.
    page.locator("#f-token").fill(mint_token(["open_data"], exp=int(time.time()) - 86400))
    page.get_by_role("button", name="Tester la connexion").click()
    expect(result).to_contain_text("Jeton expiré")

    # Switching the feature off with the keyboard, then saving.
    page.locator("#f-enabled").focus()
    page.keyboard.press("Space")
    page.locator("#f-token").fill("")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").first).to_contain_text("Paramètres enregistrés")
    assert saved(app).enabled is False

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/admin/connexion$"))
    assert csp_errors == []
    context.close()


def test_errors_are_summarised_and_typed_values_kept(portal, chromium):
    _app, base_url = portal
    page = chromium.new_page()
    log_in(page, base_url)
    page.locator("#f-recipient_siret").fill("123 456")
    page.locator("#f-context").fill("Mon contexte")
    page.get_by_role("button", name="Enregistrer").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("SIRET de votre organisation")
    expect(page.locator("#f-recipient_siret")).to_have_value("123 456")
    expect(page.locator("#f-context")).to_have_value("Mon contexte")
    summary.get_by_role("link").first.click()
    expect(page.locator("#f-recipient_siret")).to_be_focused()
    page.close()


def test_connection_test_works_without_javascript(portal, double, chromium):
    _app, base_url = portal
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, base_url)
    page.get_by_label(re.compile(re.escape(double.url))).check()
    page.locator("#f-token").fill(mint_token(["open_data"]))
    page.get_by_role("button", name="Tester la connexion").click()
    expect(page.locator("#connection-result")).to_contain_text("Connexion réussie")
    expect(page.get_by_label(re.compile(re.escape(double.url)))).to_be_checked()
    context.close()


def test_admin_clears_the_token_after_confirming(portal, chromium):
    app, base_url = portal
    token = saved(app).token
    page = chromium.new_page()
    log_in(page, base_url)
    page.get_by_role("link", name="Effacer le jeton…").click()
    expect(page).to_have_url(base_url + "/admin/parametres/effacer-jeton")
    expect(page.get_by_role("heading", level=1)).to_have_text("Effacer le jeton d'accès\u202f?")
    assert saved(app).token == token  # the question alone erases nothing

    page.get_by_role("button", name="Effacer le jeton").click()
    expect(page).to_have_url(base_url + "/admin/parametres")
    expect(page.get_by_role("status").first).to_contain_text("Le jeton d'accès a été effacé.")
    expect(page.locator("#f-token-state")).to_contain_text("Aucun jeton enregistré.")
    expect(page.get_by_role("link", name="Effacer le jeton…")).to_have_count(0)
    assert saved(app).token == ""
    page.close()
