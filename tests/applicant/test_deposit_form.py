"""Filing a deposit: validation, kept values, the receipt. No API needed for any of it."""

import html
import json
import re
from decimal import Decimal

import pytest

from forms.deposit import parse_amount
from portail.storage import deposits, settings
from tests.applicant.htmx_helpers import complete_form, csrf_token

VALID_SIRET = "73282932000074"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1500", Decimal("1500")),
        ("1 500,50 €", Decimal("1500.50")),
        ("1\u202f500,5", Decimal("1500.5")),
        ("1.500,50", Decimal("1500.50")),
        ("1500.25", Decimal("1500.25")),
        ("12,345", None),
        ("abc", None),
        ("", None),
        ("-10", None),
    ],
)
def test_amounts_are_read_the_french_way(typed, expected):
    assert parse_amount(typed) == expected


def test_home_redirects_to_the_form(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/demande")


def test_form_has_every_contract_field(client):
    page = client.get("/demande").get_data(as_text=True)
    for name in (
        "siret raison_sociale sigle enseigne forme_juridique code_naf libelle_naf tranche_effectif "
        "date_creation siege_social siret_siege etat_administratif adresse_numero adresse_voie "
        "adresse_complement code_postal commune pays rna objet_association representant_nom "
        "representant_prenom representant_qualite email telephone intitule_projet "
        "description_projet montant_demande consentement"
    ).split():
        assert f'name="{name}"' in page, name
    # No maxlength trap on the SIRET: a pasted "123 456 789 00012" is 17 characters long.
    siret_input = re.search(r'<input[^>]*name="siret"[^>]*>', page, re.S).group(0)
    assert "maxlength" not in siret_input
    assert 'aria-live="polite"' in page


def test_valid_deposit_is_filed_once_and_redirects_to_the_receipt(client, db):
    response = client.post("/demande", data=complete_form(csrf_token(client)))
    assert response.status_code == 303
    receipt_url = response.headers["Location"]
    ref = re.search(r"/demande/(AIDE-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/recu", receipt_url)
    assert ref, receipt_url
    rows = list(db.query("SELECT * FROM deposits"))
    assert len(rows) == 1
    assert rows[0]["siret"] == VALID_SIRET  # stored normalised
    assert rows[0]["montant_demande_cents"] == 150050
    receipt = client.get(receipt_url)
    assert receipt.status_code == 200
    text = receipt.get_data(as_text=True)
    assert ref.group(1) in text
    assert "Jardin pédagogique" in text and "732 829 320 00074" in text
    assert receipt.headers["Cache-Control"] == "no-store"


def test_receipt_of_an_unknown_reference_is_not_found(client):
    assert client.get("/demande/AIDE-2026-0000-0000-0000/recu").status_code == 404


def test_references_are_unguessable_and_distinct():
    refs = {deposits.new_reference() for _ in range(2000)}
    assert len(refs) == 2000
    assert all(
        re.fullmatch(r"AIDE-\d{4}-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", r)
        for r in refs
    )


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("siret", "732 829 320", "SIREN"),
        ("siret", "73282932000075", "clé de contrôle"),
        ("email", "elise.durand@", "adresse électronique valide"),
        ("montant_demande", "0", "supérieur à zéro"),
        ("montant_demande", "beaucoup", "montant en euros"),
        ("raison_sociale", "", "obligatoire"),
        ("code_postal", "3500", "5 chiffres"),
        ("code_postal", "", "Indiquez le code postal"),
        ("consentement", "", "pris connaissance"),
    ],
)
def test_invalid_field_gives_422_with_message_and_every_value_kept(
    client, db, field, typed, message
):
    data = complete_form(csrf_token(client), **{field: typed})
    if not typed:
        data.pop(field)
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    for kept in (
        "Jardin pédagogique",
        "Un jardin ouvert aux écoles du quartier.",
        "Élise",
        "4 ter",
    ):
        assert kept in page
    assert db["deposits"].count == 0


def test_error_summary_lists_fields_in_the_order_of_the_form(client, db):
    data = complete_form(
        csrf_token(client), siret="73282932000075", code_postal="12", email="non", commune=""
    )
    page = html.unescape(client.post("/demande", data=data).get_data(as_text=True))
    summary = page[page.index('id="error-summary"') : page.index("</ul>")]
    links = re.findall(r'<a href="#f-([a-z_]+)">', summary)
    assert links == ["siret", "code_postal", "commune", "email"]


def test_foreign_address_needs_no_french_postcode(client, db):
    data = complete_form(csrf_token(client), pays="Belgique", code_postal="", commune="LIÈGE")
    assert client.post("/demande", data=data).status_code == 303


def test_post_without_csrf_token_is_refused_and_keeps_values(client, db):
    data = complete_form("forged")
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Votre session a expiré" in page
    assert "Jardin pédagogique" in page
    assert db["deposits"].count == 0


def test_feature_off_gives_a_plain_manual_form(client, db):
    settings.save(db, {"enabled": False}, actor="test")
    page = client.get("/demande").get_data(as_text=True)
    assert "hx-get" not in page
    assert "Pré-remplir" not in page
    # Filing still works without any lookup.
    assert client.post("/demande", data=complete_form(csrf_token(client))).status_code == 303


FOREIGN_ADDRESS_CASES = {
    "no-commune-no-postcode": {"pays": "États-Unis", "commune": "", "code_postal": ""},
    "foreign-postcode": {"pays": "Allemagne", "commune": "FRANKFURT", "code_postal": "60528"},
    "postcode-in-the-commune": {
        "pays": "Allemagne",
        "commune": "60528 FRANKFURT",
        "code_postal": "",
    },
}


@pytest.mark.parametrize("address", FOREIGN_ADDRESS_CASES.values(), ids=FOREIGN_ADDRESS_CASES)
def test_foreign_address_is_accepted_as_given(client, db, address):
    # Issue 11: a foreign address may have no commune; nothing French-shaped is demanded.
    data = complete_form(csrf_token(client), adresse_voie="1 MAIN STREET", **address)
    assert client.post("/demande", data=data).status_code == 303
    rows = list(db.query("SELECT values_json FROM deposits"))
    assert len(rows) == 1
    values = json.loads(rows[0]["values_json"])
    assert {name: values[name] for name in address} == address


def test_a_foreign_postcode_has_a_length_limit_and_loses_nothing(client, db):
    data = complete_form(
        csrf_token(client), pays="Allemagne", commune="FRANKFURT", code_postal="6" * 500
    )
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'href="#f-code_postal"' in page and "20 caractères au maximum." in page
    assert "6" * 500 in page and "Jardin pédagogique" in page  # typed values kept
    assert db["deposits"].count == 0


@pytest.mark.parametrize("pays", ["France", "FRANCE", " france ", "France  métropolitaine"])
def test_an_address_in_france_still_needs_its_commune(client, db, pays):
    data = complete_form(csrf_token(client), pays=pays, commune="")
    response = client.post("/demande", data=data)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'href="#f-commune"' in page
    assert "Ce champ est obligatoire." in page
    assert "Jardin pédagogique" in page  # typed values kept
    assert db["deposits"].count == 0


def test_the_browser_never_demands_a_commune_for_an_address_abroad(client):
    # The server requires the commune in France only: the page must not make the browser
    # refuse an empty one (an address abroad may have none).
    page = client.get("/demande").get_data(as_text=True)
    commune = re.search(r'<input[^>]*name="commune"[^>]*>', page, re.S).group(0)
    assert "required" not in commune
    # Nor a numeric keypad for the postcode: abroad it may hold letters (SW1A 1AA).
    postcode = re.search(r'<input[^>]*name="code_postal"[^>]*>', page, re.S).group(0)
    assert "inputmode" not in postcode
    assert "Obligatoire pour une adresse en France" in page


@pytest.mark.parametrize(
    "email", ["a@☃.net", "a@x..fr", "a@-x.fr", "a@xn--.fr", "nom@mairie.local", "nom prenom@x.fr"]
)
def test_an_address_no_message_could_reach_is_refused_with_everything_kept(client, db, email):
    # The acknowledgement would fail for good later, and the applicant would never know.
    response = client.post("/demande", data=complete_form(csrf_token(client), email=email))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'href="#f-email"' in page and "adresse électronique valide" in page
    assert "Jardin pédagogique" in page
    assert db["deposits"].count == 0


@pytest.mark.parametrize("email", ["élise@exemple.fr", "paul@café.fr", "a.b+aides@example.org"])
def test_accented_and_tagged_addresses_are_accepted(client, db, email):
    response = client.post("/demande", data=complete_form(csrf_token(client), email=email))
    assert response.status_code == 303
