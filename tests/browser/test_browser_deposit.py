"""End to end in Debian's Chromium: typing, pasting, editing and filing, with and without JS."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

import pytest

from portail.apientreprise import sandbox
from portail.storage import database, settings
from tests import browser_support
from tests.browser_support import fill_applicant

HEAD_OFFICE = "99912340900016"
ASSOCIATION = "89967895700015"

pytestmark = pytest.mark.browser
browser_support.require_chromium()

from playwright.sync_api import expect  # noqa: E402  (after the Chromium check on purpose)


@pytest.fixture
def upstream(app):
    """The sandbox over loopback HTTP, so the test counts the calls the API receives."""
    with sandbox.LoopbackSandbox() as server:
        db = database.connect(app.config["DATABASE"])
        settings.save(db, {"api_url": server.url}, actor="test")
        db.conn.close()
        yield server


@pytest.fixture
def base_url(app):
    """The portal served by waitress on an ephemeral loopback port."""
    with browser_support.live_server(app) as url:
        yield url


def establishment_calls(server, siret):
    return [seen for seen in server.requests_seen if seen[1].endswith(f"/diffusibles/{siret}")]


def test_typing_key_by_key_fills_the_form_with_one_upstream_call(chromium, base_url, upstream):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    siret_input = page.locator("#f-siret")
    siret_input.click()
    # Irregular typing speed: fast bursts and pauses longer than the htmx delay.
    for index, char in enumerate("999 123 409 00016"):
        siret_input.press_sequentially(char, delay=0)
        page.wait_for_timeout(350 if index in (3, 7) else 40)
    expect(page.locator("#f-adresse_numero")).to_have_value("22 bis")
    assert page.input_value("#f-commune") == "PARIS"
    assert page.input_value("#f-siret") == "999 123 409 00016"  # caret and value untouched
    expect(siret_input).to_be_focused()
    expect(page.locator("#siret-status")).to_contain_text("Informations publiques trouvées")
    page.wait_for_timeout(500)  # any late duplicate request would have arrived by now
    assert len(establishment_calls(upstream, HEAD_OFFICE)) == 1


def test_paste_spaced_siret_edit_a_field_and_file(chromium, base_url, upstream):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    page.focus("#f-siret")
    page.keyboard.insert_text("899\u00a0678\u00a0957\u00a000015")  # like a paste from a PDF
    expect(page.locator("#f-rna")).to_have_value("W999000417")
    assert page.input_value("#f-forme_juridique") == "Association déclarée"
    page.fill("#f-raison_sociale", "Nom corrigé à la main")
    fill_applicant(page)
    page.click("text=Déposer ma demande")
    page.wait_for_url(re.compile(r".*/demande/AIDE-\d{4}-[0-9A-Z-]+/recu$"))
    receipt = page.inner_text("main")
    assert "Votre demande a bien été déposée" in receipt
    assert "Nom corrigé à la main" in receipt
    assert receipt.count("API Entreprise") == 1  # the note, once; each line has its mark
    assert "W999000417" in receipt
    assert len(establishment_calls(upstream, ASSOCIATION)) == 1
    # The marks sit beside the labels, never in the values; two columns wide, one narrow.
    name = page.locator("dt", has_text="Raison sociale ou nom")
    value = name.locator("xpath=following-sibling::dd[1]")
    expect(name.locator(".source-mark.changed")).to_have_text("modifié par vous")
    expect(value).to_have_text("Nom corrigé à la main")
    expect(page.locator("dt", has_text="Numéro RNA").locator(".source-mark")).to_be_visible()
    label_box, value_box = name.bounding_box(), value.bounding_box()
    assert value_box["x"] > label_box["x"] + label_box["width"]  # side by side
    page.set_viewport_size({"width": 320, "height": 800})
    label_box, value_box = name.bounding_box(), value.bounding_box()
    assert value_box["y"] >= label_box["y"] + label_box["height"] - 1  # one column
    assert abs(value_box["x"] - label_box["x"]) < 1


def test_invalid_siret_shows_why_without_calling_the_api(chromium, base_url, upstream):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-siret", "999 123 409 00017")
    expect(page.locator("#siret-status")).to_contain_text("clé de contrôle")
    assert upstream.requests_seen == []


def test_without_javascript_prefill_button_and_filing_work(chromium, base_url, upstream):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-intitule_projet", "Saisi avant le pré-remplissage")
    page.fill("#f-email", "paul.martin@example.org")
    page.fill("#f-description_projet", "Une description déjà saisie.")
    page.fill("#f-siret", "999 123 409 00016")
    with page.expect_navigation():
        page.get_by_role("button", name="Pré-remplir").click()
    # The form was posted: what was typed is in no URL (address bar, history, logs).
    assert page.url == f"{base_url}/demande"
    assert "example.org" not in page.url and "%40" not in page.url
    assert page.input_value("#f-adresse_numero") == "22 bis"
    assert page.input_value("#f-intitule_projet") == "Saisi avant le pré-remplissage"
    assert page.input_value("#f-email") == "paul.martin@example.org"
    assert page.input_value("#f-description_projet") == "Une description déjà saisie."
    fill_applicant(page)
    page.fill("#f-montant_demande", "0")
    page.click("text=Déposer ma demande")
    assert "supérieur à zéro" in page.inner_text(".error-summary")
    assert page.input_value("#f-adresse_numero") == "22 bis"  # nothing lost on a 422
    page.fill("#f-montant_demande", "800")
    page.click("text=Déposer ma demande")
    page.wait_for_url(re.compile(r".*/recu$"))
    assert "Votre demande a bien été déposée" in page.inner_text("main")
    assert len(establishment_calls(upstream, HEAD_OFFICE)) == 1
    context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "htmx"])
def test_enter_in_a_text_field_files_the_deposit(chromium, base_url, upstream, javascript):
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-siret", "999 123 409 00016")
    if javascript:  # let the live lookup land before editing what it fills
        expect(page.locator("#f-adresse_numero")).to_have_value("22 bis")
    page.fill("#f-raison_sociale", "Atelier Martin")
    page.fill("#f-code_postal", "75001")
    page.fill("#f-commune", "PARIS")
    fill_applicant(page)
    page.focus("#f-montant_demande")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Enter is the default button, "Déposer ma demande", never "Pré-remplir".
    page.wait_for_url(re.compile(r".*/demande/AIDE-\d{4}-[0-9A-Z-]+/recu$"))
    assert "Atelier Martin" in page.inner_text("main")
    assert len(establishment_calls(upstream, HEAD_OFFICE)) == (1 if javascript else 0)
    context.close()


REDIRECTED = "99989017100013"
SUCCESSOR = "99989017100021"


def test_htmx_use_the_answered_siret_button(chromium, base_url, upstream):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-siret", "999 890 171 00013")  # a joinery that moved
    button = page.get_by_role("button", name="Utiliser le SIRET 999 890 171 00021")
    expect(button).to_be_visible()
    expect(page.locator("#f-commune")).to_have_value("ANGERS")
    assert page.input_value("#f-siret") == "999 890 171 00013"  # typing is never overwritten
    button.click()
    expect(page.locator("#f-siret")).to_have_value("999 890 171 00021")
    expect(page.locator("#f-siret")).to_be_focused()
    expect(page.locator("#siret-status")).to_contain_text("a été reporté dans le champ")
    expect(page.locator("#siret-redirect")).to_have_count(0)
    assert page.url == f"{base_url}/demande"  # htmx did it: no page load
    # The first answer already described the successor: no second call for it.
    assert len(establishment_calls(upstream, SUCCESSOR)) == 0
    # The input htmx put in place still looks up as one types.
    page.fill("#f-siret", "999 123 409 00016")
    expect(page.locator("#f-adresse_numero")).to_have_value("22 bis")
    page.fill("#f-siret", "999 890 171 00021")
    expect(page.locator("#f-commune")).to_have_value("ANGERS")
    fill_applicant(page)
    page.click("text=Déposer ma demande")
    page.wait_for_url(re.compile(r".*/recu$"))
    receipt = page.inner_text("main")
    assert "999 890 171 00021" in receipt
    assert "SIRET indiqué par le répertoire Sirene" not in receipt


def test_filing_the_old_siret_shows_the_answered_one_on_the_receipt(chromium, base_url, upstream):
    page = chromium.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-siret", "999 890 171 00013")
    expect(page.locator("#f-commune")).to_have_value("ANGERS")
    fill_applicant(page)
    page.click("text=Déposer ma demande")
    page.wait_for_url(re.compile(r".*/recu$"))
    expect(page.locator("#answered-siret")).to_contain_text("999 890 171 00021")
    assert "999 890 171 00013" in page.inner_text("main")


def test_without_javascript_a_redirected_siret_lands_in_the_field(chromium, base_url, upstream):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-siret", "999 890 171 00013")
    with page.expect_navigation():
        page.get_by_role("button", name="Pré-remplir").click()
    assert page.input_value("#f-siret") == "999 890 171 00021"
    assert "reporté dans le champ" in page.inner_text("#siret-redirect")
    assert page.get_by_role("button", name=re.compile("Utiliser le SIRET")).count() == 0
    context.close()


def test_without_javascript_enter_after_the_siret_prefills(chromium, base_url, upstream):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-siret", "999 123 409 00016")
    with page.expect_navigation():
        page.press("#f-siret", "Enter")
    expect(page.locator("#f-adresse_numero")).to_have_value("22 bis")
    expect(page.locator("#siret-status")).to_contain_text("Informations publiques trouvées")
    expect(page.locator("#error-summary")).to_have_count(0)
    assert page.url == f"{base_url}/demande"
    assert len(establishment_calls(upstream, HEAD_OFFICE)) == 1
    context.close()


# -- issue 10: nothing typed but the SIRET in any URL; the lookup posts with its CSRF header --

PRIVATE_TYPED = {
    "#f-raison_sociale": "NOM-PRIVE-DU-DEMANDEUR",
    "#f-adresse_voie": "RUE DU DOMICILE PRIVE",
    "#f-representant_nom": "Martinez",
    "#f-representant_prenom": "Paulette",
    "#f-email": "paulette.martinez@example.org",
    "#f-telephone": "06 11 22 33 44",
    "#f-intitule_projet": "Projet-Confidentiel",
    "#f-montant_demande": "43 210",
}


def test_no_typed_field_but_the_siret_ever_appears_in_a_url(chromium, base_url, upstream):
    page = chromium.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request))
    page.goto(f"{base_url}/demande")
    for selector, value in PRIVATE_TYPED.items():
        page.fill(selector, value)
    siret_input = page.locator("#f-siret")
    siret_input.click()
    siret_input.press_sequentially("999 123 409 00016", delay=30)
    expect(page.locator("#siret-status")).to_contain_text("Informations publiques trouvées")
    page.get_by_role("button", name="Pré-remplir").click()  # the htmx button, too
    page.wait_for_timeout(600)
    lookups = [r for r in requests if r.url.startswith(f"{base_url}/demande/tiers")]
    assert lookups and all(r.method == "POST" for r in lookups)
    token = page.input_value('input[name="csrf_token"]')
    for lookup in lookups:
        assert lookup.headers.get("x-csrftoken") == token
        body = unquote_plus(lookup.post_data or "")
        # The body carries the lookup's fields only: the applicant's own never go with it.
        for selector in ("#f-representant_nom", "#f-email", "#f-telephone", "#f-intitule_projet"):
            assert PRIVATE_TYPED[selector] not in body, selector
    for request in requests:
        url = unquote_plus(request.url)
        for value in PRIVATE_TYPED.values():
            assert value not in url, (value, request.url)
    # Prefill replaced the typed name and address; the applicant's own fields are untouched.
    assert page.input_value("#f-email") == PRIVATE_TYPED["#f-email"]
    assert page.input_value("#f-adresse_numero") == "22 bis"


def test_an_expired_session_says_why_the_lookup_did_not_run(chromium, base_url, upstream):
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/demande")
    page.fill("#f-email", "paul.martin@example.org")
    context.clear_cookies()  # the session is gone: the page's token no longer matches
    page.fill("#f-siret", "999 123 409 00016")
    expect(page.locator("#siret-status")).to_contain_text("votre session a expiré")
    assert page.input_value("#f-email") == "paul.martin@example.org"  # nothing lost
    assert establishment_calls(upstream, HEAD_OFFICE) == []
    # Filing renews the session and keeps everything; the lookup then works again.
    with page.expect_navigation():
        page.get_by_role("button", name="Déposer ma demande").click()
    expect(page.locator("#error-summary")).to_contain_text("Votre session a expiré")
    assert page.input_value("#f-email") == "paul.martin@example.org"
    page.fill("#f-siret", "")
    page.fill("#f-siret", "999 123 409 00016")
    expect(page.locator("#f-adresse_numero")).to_have_value("22 bis")
    context.close()
