"""The no-JS prefill posts the form (nothing typed ever lands in a URL), and a SIRET the
directory answered for another one (a transferred establishment) is never filed unnoticed."""

from __future__ import annotations

import html
import json
import re

import pytest

from portail.storage import deposits
from tests.applicant.htmx_helpers import lookup_post

HX = {"HX-Request": "true", "HX-Target": "tiers-block", "HX-Trigger": "f-siret"}
HEAD_OFFICE = "99912340900016"
REDIRECTED = "99989017100013"  # the sandbox's joinery that moved...
SUCCESSOR = "99989017100021"  # ...to this SIRET
EMAIL = "paul.martin@example.org"
DESCRIPTION = "Remplacement de la toiture de l'atelier."
PHONE = "02 99 00 00 00"


def spaced(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def input_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page, re.S)
    if match:
        return html.unescape(match.group(1))
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>([^<]*)</textarea>', page, re.S)
    if match:
        return html.unescape(match.group(1))
    match = re.search(rf'<select[^>]*name="{name}".*?<option value="([^"]*)" selected', page, re.S)
    return html.unescape(match.group(1)) if match else ""


def form_fields(page: str) -> dict[str, str]:
    """What a browser would send when filing: inputs, textareas and selects, no button."""
    names = re.findall(r'<(?:input|textarea|select)[^>]*\bname="([a-z_]+)"', page)
    return {name: input_value(page, name) for name in names if name != "consentement"}


def csrf_token(client) -> str:
    page = client.get("/demande").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def urls_in(page: str) -> list[str]:
    """Every URL the page could send the browser to (links, form targets, htmx requests)."""
    return re.findall(r'\b(?:href|src|action|formaction|hx-get|hx-post)="([^"]*)"', page)


def applicant(**overrides) -> dict[str, str]:
    values = {
        "representant_nom": "Martin",
        "representant_prenom": "Paul",
        "representant_qualite": "Gérant",
        "email": EMAIL,
        "telephone": PHONE,
        "intitule_projet": "Atelier",
        "description_projet": DESCRIPTION,
        "montant_demande": "2500",
    }
    values.update(overrides)
    return values


def lookups(server) -> list:
    return [seen for seen in server.requests_seen if "/etablissements/diffusibles/" in seen[1]]


# -- the no-JS "Pré-remplir" posts the form --------------------------------------------------


def test_prefill_button_posts_the_form_and_htmx_still_gets(client):
    page = client.get("/demande").get_data(as_text=True)
    form_tag = re.search(r'<form[^>]*id="deposit-form"[^>]*>', page).group(0)
    assert 'method="post"' in form_tag and 'action="/demande"' in form_tag
    button = re.search(r"<button[^>]*>Pré-remplir</button>", page, re.S).group(0)
    assert 'name="action"' in button and 'value="prefill"' in button
    assert "formmethod" not in button and "formaction" not in button  # the form's own POST
    # htmx posts the lookup with the CSRF header (issue 10): nothing typed in its URL.
    assert 'hx-post="/demande/tiers"' in button


def test_enter_in_a_text_field_files_instead_of_prefilling(client):
    page = client.get("/demande").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="deposit-form".*?</form>', page, re.S).group(0)
    # Implicit submission clicks the first submit button of the form: it must carry no
    # name, so the post files the deposit.
    first_submit = re.search(r'<button[^>]*type="submit"[^>]*>', form).group(0)
    assert "name=" not in first_submit
    assert form.index(first_submit) < form.index(">Pré-remplir</button>")


def test_enter_right_after_the_siret_prefills_instead_of_listing_empty_fields(client, db):
    # No JavaScript, the applicant types the SIRET and presses Enter: the default button
    # files, with nothing but the SIRET in the form.
    data = {"csrf_token": csrf_token(client), "siret": spaced(HEAD_OFFICE), "pays": "France"}
    response = client.post("/demande", data=data)
    assert response.status_code == 422  # the contract: a post that files nothing is a 422
    page = text(response)
    assert "Votre demande n'est pas encore déposée" in page
    assert "Informations publiques trouvées" in page
    assert input_value(page, "commune") == "PARIS"
    assert "error-summary" not in page
    assert db["deposits"].count == 0


def test_enter_after_an_invalid_siret_is_an_ordinary_filing_error(client, loopback, db):
    data = {"csrf_token": csrf_token(client), "siret": "999 123 409 00017"}
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "error-summary" in page and "clé de contrôle" in page
    assert lookups(loopback) == []


def test_a_lookup_opened_from_another_site_spends_nothing(client, loopback):
    response = client.get(
        f"/demande/tiers?siret={HEAD_OFFICE}&email=piege@example.org&montant_demande=99999",
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "ouverte depuis un autre site" in page
    assert input_value(page, "siret") == HEAD_OFFICE  # kept, one click away
    assert "piege@example.org" not in page and "99999" not in page  # nothing else taken
    assert lookups(loopback) == []
    # The same address typed or bookmarked ("none"), or from the portal itself, looks up.
    for origin in ("none", "same-origin"):
        client.get(f"/demande/tiers?siret={HEAD_OFFICE}", headers={"Sec-Fetch-Site": origin})
    assert len(lookups(loopback)) == 1  # the second answer came from the cache


@pytest.mark.parametrize("garbage", ["<script>alert(1)</script>", "1" * 5000, "99989017100014"])
def test_use_siret_that_is_not_a_valid_siret_is_ignored(client, garbage):
    data = {"csrf_token": csrf_token(client), "siret": HEAD_OFFICE, "use_siret": garbage}
    page = text(client.post("/demande", data=data))
    assert input_value(page, "siret").replace(" ", "") == HEAD_OFFICE
    assert "reporté dans le champ" not in page
    assert "<script>alert" not in page


def test_a_siret_with_anything_else_typed_is_a_filing_attempt(client, db):
    data = {"csrf_token": csrf_token(client), "siret": HEAD_OFFICE, "email": EMAIL}
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    assert "error-summary" in text(response)


def test_enter_after_the_siret_with_a_stale_token_looks_nothing_up(client, loopback, db):
    response = client.post("/demande", data={"csrf_token": "stale", "siret": HEAD_OFFICE})
    assert response.status_code == 422
    assert input_value(text(response), "siret") == HEAD_OFFICE
    assert lookups(loopback) == []
    assert db["deposits"].count == 0


def test_no_js_prefill_post_returns_the_page_prefilled_with_typed_values_kept(client, db):
    data = {
        "csrf_token": csrf_token(client),
        "siret": spaced(HEAD_OFFICE),
        "action": "prefill",
        **applicant(),
        "consentement": "y",
    }
    response = client.post("/demande", data=data)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    assert "Informations publiques trouvées" in page
    assert input_value(page, "adresse_numero") == "22 bis"
    assert input_value(page, "commune") == "PARIS"
    assert input_value(page, "siret") == spaced(HEAD_OFFICE)
    assert input_value(page, "email") == EMAIL
    assert input_value(page, "telephone") == PHONE
    assert input_value(page, "description_projet") == DESCRIPTION
    assert re.search(r'id="f-consentement"[^>]*checked', page)
    assert re.search(r'name="prefill_snapshot" value="[\w.-]{40,}"', page)
    # Nothing typed in any URL the page carries, and the form still posts to /demande.
    assert re.search(r'<form method="post" action="/demande"', page)
    for url in urls_in(page):
        assert "example.org" not in url and "@" not in url and "toiture" not in url, url
    assert db["deposits"].count == 0  # a prefill files nothing


def test_no_js_prefill_post_then_filing_records_the_prefill(client, db):
    data = {"csrf_token": csrf_token(client), "siret": HEAD_OFFICE, "action": "prefill"}
    page = text(client.post("/demande", data={**data, **applicant()}))
    form = form_fields(page)
    form.update(raison_sociale="Nom corrigé", consentement="y")
    response = client.post("/demande", data=form)
    assert response.status_code == 303
    row = next(db.query("SELECT * FROM deposits"))
    assert row["email"] == EMAIL
    assert '"commune": "PARIS"' in row["prefilled_json"]
    assert json.loads(row["changed_fields_json"]) == ["raison_sociale"]


def test_no_js_prefill_post_with_a_stale_token_keeps_everything_and_looks_nothing_up(
    client, db, loopback
):
    data = {"csrf_token": "stale", "siret": HEAD_OFFICE, "action": "prefill", **applicant()}
    data["prefill_snapshot"] = "kept-as-sent"
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "Votre session a expiré et le pré-remplissage n'a pas été lancé" in page
    assert "cliquez à nouveau sur «\u202fPré-remplir\u202f»" in page
    assert input_value(page, "email") == EMAIL
    assert input_value(page, "description_projet") == DESCRIPTION
    assert input_value(page, "siret") == HEAD_OFFICE
    assert input_value(page, "prefill_snapshot") == "kept-as-sent"
    assert input_value(page, "adresse_numero") == ""
    assert lookups(loopback) == []
    assert db["deposits"].count == 0
    # The page carries a fresh token: pressing the button again works.
    retry = {**data, "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1]}
    assert input_value(text(client.post("/demande", data=retry)), "adresse_numero") == "22 bis"
    assert len(lookups(loopback)) == 1


def test_no_js_prefill_post_with_an_invalid_siret_says_why_without_a_call(client, loopback):
    data = {"csrf_token": csrf_token(client), "siret": "999 123 409 00017", "action": "prefill"}
    response = client.post("/demande", data={**data, **applicant()})
    assert response.status_code == 200
    page = text(response)
    assert "clé de contrôle" in page
    assert re.search(r'id="f-siret"[^>]*aria-invalid="true"', page, re.S)
    assert input_value(page, "email") == EMAIL
    assert lookups(loopback) == []


# -- a SIRET answered for another one ---------------------------------------------------------


def test_no_js_page_puts_the_answered_siret_in_the_field(client):
    page = text(client.get(f"/demande/tiers?siret={REDIRECTED}"))
    assert input_value(page, "siret") == spaced(SUCCESSOR)
    notice = re.search(r'<div class="notice info" id="siret-redirect">.*?</div>', page, re.S)[0]
    assert spaced(REDIRECTED) in notice and spaced(SUCCESSOR) in notice
    assert (
        "a été remplacé" in notice and "reporté dans le champ «\u202fNuméro SIRET\u202f»" in notice
    )
    assert "use_siret" not in page  # the field is already right: no button to press
    assert input_value(page, "raison_sociale") == "MENUISERIE DES TROIS CHENES"


def test_no_js_prefill_post_puts_the_answered_siret_in_the_field(client):
    data = {"csrf_token": csrf_token(client), "siret": spaced(REDIRECTED), "action": "prefill"}
    page = text(client.post("/demande", data={**data, **applicant()}))
    assert input_value(page, "siret") == spaced(SUCCESSOR)
    assert "reporté dans le champ «\u202fNuméro SIRET\u202f»" in page
    assert input_value(page, "email") == EMAIL


def test_htmx_fragment_offers_a_button_for_the_answered_siret(client):
    page = text(client.get(f"/demande/tiers?siret={REDIRECTED}", headers=HX))
    # While the applicant types, the input is never replaced (their caret would jump).
    assert 'id="siret-field"' not in page and 'name="siret"' not in page
    button = re.search(r"<button[^>]*>Utiliser le SIRET ([\d ]+)</button>", page, re.S)
    assert button and button[1] == spaced(SUCCESSOR)
    assert 'name="use_siret"' in button[0] and f'value="{SUCCESSOR}"' in button[0]
    assert 'type="submit"' in button[0]  # without JavaScript, a plain submit
    assert 'hx-post="/demande/tiers"' in button[0] and 'hx-target="#tiers-block"' in button[0]


def test_htmx_use_siret_replaces_the_input_out_of_band(client, db):
    response = lookup_post(  # htmx posts the lookup (issue 10)
        client,
        {"use_siret": SUCCESSOR, "raison_sociale": "x"},
        headers={**HX, "HX-Trigger": ""},
    )
    page = text(response)
    oob = re.search(r'<div class="field" id="siret-field" hx-swap-oob="true">.*?</div>', page, re.S)
    assert oob, page[-1500:]
    assert input_value(oob[0], "siret") == spaced(SUCCESSOR)
    assert "autofocus" in oob[0]  # focus goes back to the field, not to the vanished button
    assert 'hx-post="/demande/tiers"' in oob[0]  # the new input still looks up as one types
    status = re.search(r'<div id="siret-status" hx-swap-oob="innerHTML">(.*?)</div>', page, re.S)
    assert f"Le SIRET {spaced(SUCCESSOR)} a été reporté dans le champ" in status[1]
    assert "siret-redirect" not in page  # the successor answers for itself: no notice
    assert input_value(page, "commune") == "ANGERS"
    sealed = input_value(page, "prefill_snapshot")
    opened = deposits.open_snapshot("test-secret-key-not-for-production", sealed, SUCCESSOR)
    assert opened and opened["prefilled"]["commune"] == "ANGERS"


def test_no_js_use_siret_posts_and_returns_the_page_with_the_new_siret(client, db):
    data = {
        "csrf_token": csrf_token(client),
        "siret": spaced(REDIRECTED),
        "use_siret": SUCCESSOR,
        **applicant(),
    }
    response = client.post("/demande", data=data)
    assert response.status_code == 200
    page = text(response)
    assert input_value(page, "siret") == spaced(SUCCESSOR)
    assert f"Le SIRET {spaced(SUCCESSOR)} a été reporté dans le champ" in page
    assert input_value(page, "commune") == "ANGERS"
    assert input_value(page, "email") == EMAIL
    assert db["deposits"].count == 0


def test_use_siret_with_a_stale_token_puts_the_chosen_siret_and_looks_nothing_up(client, loopback):
    # The button's choice is kept (the applicant made it), its prefill waits for a fresh
    # session: nothing is looked up with a stale token.
    data = {"csrf_token": "stale", "siret": REDIRECTED, "use_siret": SUCCESSOR, **applicant()}
    page = text(client.post("/demande", data=data))
    assert input_value(page, "siret").replace(" ", "") == SUCCESSOR
    assert "n'a pas encore été pré-rempli" in page
    assert lookups(loopback) == []


def file_from(client, page: str, **overrides):
    form = form_fields(page)
    form.update(applicant(), consentement="y", **overrides)
    return client.post("/demande", data=form)


def test_filing_the_typed_siret_after_a_redirect_records_the_answered_one(client, db):
    # htmx path: the fragment prefilled the successor's data, the field kept the old SIRET.
    fragment = text(client.get(f"/demande/tiers?siret={REDIRECTED}", headers=HX))
    response = file_from(client, fragment, siret=spaced(REDIRECTED), csrf_token=csrf_token(client))
    assert response.status_code == 303, text(response)[:2000]
    row = next(db.query("SELECT * FROM deposits"))
    assert row["siret"] == REDIRECTED  # filed as typed
    assert json.loads(row["snapshot_json"])["answered_siret"] == SUCCESSOR
    assert '"commune": "ANGERS"' in row["prefilled_json"]
    receipt = text(client.get(response.headers["Location"]))
    line = re.search(r"<dt>SIRET indiqué par le répertoire Sirene</dt>\s*<dd[^>]*>([^<]+)", receipt)
    assert line and line[1].strip() == spaced(SUCCESSOR)
    assert spaced(REDIRECTED) in receipt


def test_filing_the_answered_siret_records_no_discrepancy(client, db):
    page = text(client.get(f"/demande/tiers?siret={REDIRECTED}"))
    assert input_value(page, "siret") == spaced(SUCCESSOR)
    response = file_from(client, page)
    assert response.status_code == 303
    row = next(db.query("SELECT * FROM deposits"))
    assert row["siret"] == SUCCESSOR
    assert "answered_siret" not in json.loads(row["snapshot_json"])
    prefilled = json.loads(row["prefilled_json"])
    assert prefilled["siret"] == SUCCESSOR and prefilled["commune"] == "ANGERS"
    receipt = text(client.get(response.headers["Location"]))
    assert "SIRET indiqué par le répertoire Sirene" not in receipt
    label, value = re.search(r"<dt>Numéro SIRET(.*?)</dt>\s*<dd>(.*?)</dd>", receipt, re.S).groups()
    assert value == spaced(SUCCESSOR) and 'class="source-mark"' in label


def receipt_lines(receipt: str) -> dict[str, tuple[str, str]]:
    """label -> (what follows the label in its <dt>, the <dd>) for each line of the receipt."""
    lines = re.findall(r"<dt>([^<]+)(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", receipt, re.S)
    return {label.strip(): (mark, value) for label, mark, value in lines}


def test_the_receipt_names_the_source_once_and_marks_each_prefilled_line(client, db):
    page = text(client.get(f"/demande/tiers?siret={HEAD_OFFICE}"))
    response = file_from(client, page, raison_sociale="Nom corrigé par le demandeur")
    assert response.status_code == 303, text(response)[:2000]
    receipt = text(client.get(response.headers["Location"]))
    body = receipt[receipt.index('<div class="receipt">') : receipt.index("</main>")]
    # The source is told once, as a note before the values, not after each of them.
    assert body.count("API Entreprise") == 1 and "issu d'API" not in body
    note = re.search(r'<p class="receipt-note" id="receipt-legend">(.*?)</p>', body, re.S)[1]
    assert "pré-remplie depuis API Entreprise" in note and "modifié par vous" in note
    assert body.index('id="receipt-legend"') < body.index("<dl>")
    lines = receipt_lines(body)
    prefilled = json.loads(next(db.query("SELECT prefilled_json FROM deposits"))["prefilled_json"])
    marked = [label for label, (mark, _) in lines.items() if 'class="source-mark"' in mark]
    assert len(marked) == len([name for name, value in prefilled.items() if value]) - 1 > 5
    assert (
        'aria-hidden="true">API</span><span class="visually-hidden"> (pré-rempli)'
        in (lines["Commune"][0])
    )
    assert "modifié par vous" in lines["Raison sociale ou nom"][0]
    assert lines["Raison sociale ou nom"][1] == "Nom corrigé par le demandeur"
    assert all("source-mark" not in value and "hint" not in value for _, value in lines.values())


def test_changing_the_reported_siret_back_is_flagged_and_recorded(client, db):
    page = text(client.get(f"/demande/tiers?siret={REDIRECTED}"))
    response = file_from(client, page, siret=REDIRECTED)
    assert response.status_code == 303
    row = next(db.query("SELECT * FROM deposits"))
    assert row["siret"] == REDIRECTED
    assert "siret" in json.loads(row["changed_fields_json"])
    receipt = text(client.get(response.headers["Location"]))
    assert "SIRET indiqué par le répertoire Sirene" in receipt


# -- the signed snapshot ------------------------------------------------------------------


KEY = "test-secret-key-not-for-production"


def test_snapshot_opens_for_the_asked_and_the_answered_siret_only():
    sealed = deposits.seal_snapshot(KEY, REDIRECTED, {"x": 1}, {}, answered_siret=SUCCESSOR)
    assert deposits.open_snapshot(KEY, sealed, REDIRECTED)["answered_siret"] == SUCCESSOR
    assert deposits.open_snapshot(KEY, sealed, SUCCESSOR)["answered_siret"] == SUCCESSOR
    assert deposits.open_snapshot(KEY, sealed, HEAD_OFFICE) is None


def test_snapshot_sealed_before_answered_siret_existed_still_opens():
    # Snapshots live a week in open forms: those sealed by the previous version count too.
    old = deposits._serializer(KEY).dumps({"siret": HEAD_OFFICE, "payload": {}, "prefilled": {}})
    opened = deposits.open_snapshot(KEY, old, HEAD_OFFICE)
    assert opened is not None and opened["answered_siret"] == HEAD_OFFICE
