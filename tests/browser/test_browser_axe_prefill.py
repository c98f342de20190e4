"""axe-core on the prefill's harder states (issue 11), as test_browser_axe.py checks the
others (same rules, same widths, same reflow check): a refused filing carrying the prefill's
marks and notices, a value changed then refused, a new SIRET clearing the previous prefill,
a transferred, a partly public and a foreign establishment, a lookup refused for an expired
session, the filing limit's page. The accessibility statement counts these states with that
module's.

One server and one applicant tab serve the module; the expired session and the filing limit
take a tab (and, for the limit, a portal) of their own, since they spoil their state.
"""

from __future__ import annotations

import re

import pytest

from tests.admin_helpers import make_app
from tests.browser.test_browser_axe import (
    CLOSED,
    HEAD_OFFICE,
    UNKNOWN,
    WIDTHS,
    check,
    lookup,
    open_page,
)
from tests.browser_support import fill_applicant, live_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

TRANSFERRED = "99989017100013"  # answered with its successor's SIRET, 99989017100021
PARTLY_PUBLIC = "99956784500014"  # an individual entrepreneur, name and address not public
ABROAD = "99978906800023"  # an establishment in London


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """The demonstration portal (in-process sandbox), served by waitress."""
    with live_server(make_app(tmp_path_factory.mktemp("axe-prefill"))) as url:
        yield url


@pytest.fixture(scope="module")
def visitor(base_url, chromium):
    """One applicant tab, reused by the states that leave nothing behind."""
    context = chromium.new_context()
    yield context.new_page()
    context.close()


def refuse_filing(page) -> None:
    """Submit with the applicant's part left empty (a name alone): the form comes back (422)."""
    page.fill("#f-representant_nom", "Martin")
    with page.expect_response(lambda response: response.status == 422):
        page.get_by_role("button", name="Déposer ma demande").click()
    expect(page.locator("#error-summary")).to_be_visible()


def test_a_refused_filing_keeps_the_prefill_marks_and_the_closed_notice(base_url, visitor):
    page = open_page(visitor, base_url + "/demande")
    lookup(page, CLOSED)
    expect(page.locator("#f-commune")).to_have_value("RENNES")
    refuse_filing(page)
    expect(page.locator("#status-closed")).to_contain_text("Établissement fermé")
    expect(page.locator("#f-commune-source")).to_have_text(
        "Pré-rempli depuis API Entreprise, modifiable."
    )
    check(page)


def test_a_refused_filing_with_a_prefilled_value_changed(base_url, visitor):
    page = open_page(visitor, base_url + "/demande")
    lookup(page, HEAD_OFFICE)
    expect(page.locator("#f-enseigne")).to_have_value("VAL FLEURI")
    page.fill("#f-enseigne", "VAL FLEURI ATELIERS")
    refuse_filing(page)
    expect(page.locator("#f-enseigne-source")).to_contain_text("Modifié par vous")
    check(page)


def test_a_new_siret_after_a_prefill(base_url, visitor):
    page = open_page(visitor, base_url + "/demande")
    lookup(page, HEAD_OFFICE)
    expect(page.locator("#f-raison_sociale")).not_to_have_value("")
    lookup(page, UNKNOWN)
    status = page.locator("#siret-status")
    expect(status).to_contain_text("ont été retirées")
    expect(page.locator("#f-raison_sociale")).to_have_value("")
    check(page)


def test_a_transferred_establishment_and_its_successor(base_url, visitor):
    page = open_page(visitor, base_url + "/demande")
    lookup(page, TRANSFERRED)
    expect(page.locator("#status-redirect")).to_be_visible()
    check(page)  # the notice with its "Utiliser le SIRET …" button
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    page.get_by_role("button", name=re.compile("Utiliser le SIRET")).click()
    expect(page.locator("#siret-status")).to_contain_text("a été reporté dans le champ")
    expect(page.locator("#f-siret")).to_have_value(re.compile(r"^999 ?890 ?171 ?00021$"))
    check(page)


def test_a_partly_public_establishment(base_url, visitor):
    page = open_page(visitor, base_url + "/demande")
    lookup(page, PARTLY_PUBLIC)
    expect(page.locator("#status-masked")).to_be_visible()
    check(page)


def test_a_foreign_address(base_url, visitor):
    page = open_page(visitor, base_url + "/demande")
    lookup(page, ABROAD)
    expect(page.locator("#f-pays")).to_have_value("Royaume-Uni")
    expect(page.locator("#f-commune")).to_have_value("LONDRES")
    check(page)


def test_a_lookup_refused_for_an_expired_session(base_url, chromium):
    context = chromium.new_context()  # its own cookies, cleared below
    page = open_page(context.new_page(), base_url + "/demande")
    context.clear_cookies()  # the session (and its CSRF secret) gone, as after a long pause
    with page.expect_response(lambda response: response.status == 403):
        lookup(page, HEAD_OFFICE)
    expect(page.locator("#siret-status")).to_contain_text("votre session a expiré")
    check(page)
    context.close()


def test_the_filing_limit_page(tmp_path, chromium):
    # A portal of its own whose limit is one deposit a minute: the second is refused (429).
    app = make_app(tmp_path, FILING_LIMIT_PER_MINUTE=1)
    with live_server(app) as limited_url:
        context = chromium.new_context()
        page = context.new_page()
        for expected in (303, 429):
            open_page(page, f"{limited_url}/demande/tiers?siret={HEAD_OFFICE}")
            expect(page.locator("#f-raison_sociale")).not_to_have_value("")
            fill_applicant(page)
            with page.expect_response(lambda response: response.request.method == "POST") as answer:
                page.get_by_role("button", name="Déposer ma demande").click()
            assert answer.value.status == expected
        expect(page.locator("#error-summary")).to_contain_text("Plusieurs demandes")
        expect(page.locator("#f-representant_nom")).to_have_value("Martin")
        check(page)
        context.close()
