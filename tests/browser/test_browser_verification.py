"""In Debian's Chromium: the agent presses "Vérifier auprès d'API Entreprise" with and
without JavaScript and reads the comparison in the deposit page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from portail.apientreprise import sandbox
from portail.storage import database, deposits, settings
from tests.admin_helpers import PASSWORD, USERNAME, AuthActions, make_app
from tests.browser_support import live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def portal(tmp_path):
    """The portal on the sandbox over loopback HTTP, one admin, one deposit, served live."""
    with sandbox.LoopbackSandbox() as api:
        app = make_app(tmp_path, EXTRA_API_BASE_URLS=[api.url])
        AuthActions(app, app.test_client()).create_admin()
        db = database.connect(app.config["DATABASE"])
        try:
            settings.save(db, {"api_url": api.url}, actor="test")
            values = {"siret": "99912340900016", "raison_sociale": "Ateliers du Val Fleuri"}
            ref = deposits.file_deposit(db, values, Decimal("10"), None).ref
        finally:
            db.conn.close()
        with live_server(app) as base_url:
            yield base_url, ref, api


@pytest.mark.parametrize("javascript", [True, False])
def test_the_agent_verifies_a_deposit(portal, chromium, javascript):
    base_url, ref, api = portal
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{base_url}/admin/demandes/{ref}")
    page.get_by_label("Identifiant").fill(USERNAME)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ref)
    section = page.locator("#verification")
    expect(section).to_contain_text("Aucune vérification n'a encore été faite")

    page.get_by_role("button", name="Vérifier auprès d'API Entreprise").click()
    table = section.get_by_role("table")
    expect(table).to_contain_text("Certifié (API Entreprise)")
    expect(section.get_by_role("status")).to_contain_text("par alice")
    row = table.get_by_role("row", name=re.compile("Commune"))
    expect(row).to_contain_text("PARIS")
    if javascript:  # htmx swapped the section in place: no navigation
        expect(page).to_have_url(f"{base_url}/admin/demandes/{ref}")
        expect(page.locator("#verification")).to_have_count(1)
    else:
        expect(page).to_have_url(re.compile(r"#verification$"))
    expect(section.get_by_role("button", name=re.compile("^Actualiser"))).to_be_visible()
    assert [seen[1] for seen in api.requests_seen] == [
        "/v4/insee/sirene/etablissements/99912340900016"
    ]
    context.close()
