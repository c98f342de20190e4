"""Issue 11 in Debian's Chromium: the prefill's state survives a new SIRET and a refused submit.

A new SIRET clears what the previous organisation's prefill put in the form but keeps what the
applicant changed, and the aria-live status names what was kept; a refused submit shows the
prefill's marks and warnings again. Both with JavaScript (htmx) and without (plain posts).
"""

from __future__ import annotations

import pytest

from tests.admin_helpers import make_app
from tests.browser_support import live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

HEAD_OFFICE = "99912340900016"  # enseigne VAL FLEURI, PARIS
UNKNOWN = "89923450400012"  # valid, unknown to the directory (404)
CLOSED = "99923451100023"  # a closed secondary establishment in RENNES
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@pytest.fixture
def portal(tmp_path):
    """The demonstration portal (in-process sandbox), served by waitress."""
    with live_server(make_app(tmp_path)) as base_url:
        yield base_url


def look_up(page, siret: str, javascript: bool) -> None:
    """Type the SIRET: with JavaScript the lookup leaves at the 14th digit, without it the
    applicant presses "Pré-remplir" (the whole form is posted)."""
    page.fill("#f-siret", siret)
    if not javascript:
        page.get_by_role("button", name="Pré-remplir").click()


@JS
def test_a_new_siret_clears_the_previous_prefill_and_keeps_the_edit(portal, chromium, javascript):
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(portal + "/demande")
    look_up(page, HEAD_OFFICE, javascript)
    expect(page.locator("#f-enseigne")).to_have_value("VAL FLEURI")
    page.fill("#f-enseigne", "VAL FLEURI ATELIERS")
    page.fill("#f-representant_nom", "Martin")  # outside the tiers block: never touched

    look_up(page, UNKNOWN, javascript)
    status = page.locator("#siret-status")
    expect(status).to_contain_text("Aucune donnée publique n'est disponible pour ce SIRET")
    expect(status).to_contain_text(
        "Les informations pré-remplies pour le SIRET précédent (999 123 409 00016) ont été "
        "retirées. Votre modification a été conservée\u202f: Enseigne."
    )
    expect(status).to_have_attribute("aria-live", "polite")
    expect(page.locator("#f-enseigne")).to_have_value("VAL FLEURI ATELIERS")
    for name in ("raison_sociale", "sigle", "adresse_voie", "code_postal", "commune"):
        expect(page.locator(f"#f-{name}")).to_have_value("")
    expect(page.locator("#f-pays")).to_have_value("France")
    expect(page.locator("#f-representant_nom")).to_have_value("Martin")
    expect(page.locator("#f-siret")).to_have_value(UNKNOWN)
    expect(page.locator(".field.prefilled")).to_have_count(0)
    expect(page.locator("input[name=prefill_snapshot]")).to_have_value("")
    context.close()


@JS
def test_a_refused_submit_keeps_the_marks_and_the_warnings(portal, chromium, javascript):
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(portal + "/demande")
    look_up(page, CLOSED, javascript)
    expect(page.locator("#f-commune")).to_have_value("RENNES")
    page.fill("#f-commune", "SAINT-MALO")
    page.fill("#f-representant_nom", "Martin")  # the rest left empty: the filing is refused
    page.get_by_role("button", name="Déposer ma demande").click()

    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#status-closed")).to_contain_text("Établissement fermé")
    expect(page.locator("#status-secondary")).to_be_visible()
    postcode = page.locator("#f-code_postal")
    expect(postcode).to_have_value("35200")
    expect(page.locator("#f-code_postal-source")).to_have_text(
        "Pré-rempli depuis API Entreprise, modifiable."
    )
    described = "f-code_postal-hint f-code_postal-source"
    expect(postcode).to_have_attribute("aria-describedby", described)
    commune = page.locator("#f-commune")
    expect(commune).to_have_value("SAINT-MALO")
    expect(page.locator("#f-commune-source")).to_have_text(
        "Modifié par vous. Valeur d'API Entreprise\u202f: «\u202fRENNES\u202f»."
    )
    expect(commune).to_have_accessible_description(
        "Obligatoire pour une adresse en France "
        "Modifié par vous. Valeur d'API Entreprise\u202f: «\u202fRENNES\u202f»."
    )
    context.close()
