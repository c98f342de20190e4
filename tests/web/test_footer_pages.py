"""Issue 11: what French public sites must carry. The authority's name (AUTHORITY_NAME) in the
header, the receipt and the acknowledgement e-mail; the footer's accessibility statement,
legal notice and personal data pages."""

from __future__ import annotations

import email
import email.policy
import html
import re

import pytest

from portail.core import acknowledgement
from portail.storage import database as store
from portail.storage import outbox
from tests.admin_helpers import make_app
from tests.applicant.test_receipt_expiry import file_one

CITY = "Ville de Saint-Malo & Dinard"


def text(response) -> str:
    # Collapse only ASCII whitespace: the no-break spaces of French typography are checked.
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(response.get_data(as_text=True)))


def footer(page: str) -> str:
    return page[page.index('<footer class="site-footer">') :]


def header(page: str) -> str:
    return page[page.index('<header class="site-header">') : page.index("</header>")]


@pytest.fixture
def city(tmp_path):
    return make_app(tmp_path, AUTHORITY_NAME=CITY)


def test_the_default_authority_name_is_documented_and_shown(client):
    assert acknowledgement.DEFAULT_AUTHORITY == "Votre collectivité"
    assert "Votre collectivité" in header(text(client.get("/demande")))
    with open("README.md", encoding="utf-8") as readme:
        assert "| `AUTHORITY_NAME` | `Votre collectivité` |" in readme.read()


@pytest.mark.parametrize("path", ["/demande", "/demonstration", "/donnees-personnelles"])
def test_the_configured_authority_heads_every_page_escaped(city, path):
    raw = city.test_client().get(path).get_data(as_text=True)
    assert "Ville de Saint-Malo &amp; Dinard" in header(raw)


@pytest.mark.parametrize("path", ["/demande", "/accessibilite", "/mentions-legales"])
def test_the_footer_links_the_three_legal_pages(client, path):
    page = footer(client.get(path).get_data(as_text=True))
    assert '<nav aria-label="Informations légales">' in page
    assert '<a href="/accessibilite">Accessibilité\u202f: partiellement conforme</a>' in page
    assert '<a href="/mentions-legales">Mentions légales</a>' in page
    assert '<a href="/donnees-personnelles">Données personnelles</a>' in page


def test_the_accessibility_statement_is_honest_and_gives_recourse(city):
    response = city.test_client().get("/accessibilite")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Déclaration d'accessibilité</h1>" in page
    assert "partiellement conforme" in page and "RGAA" in page
    assert "Ville de Saint-Malo & Dinard s'engage" in page
    assert "axe-core" in page and "aucune non-conformité relevée" in page
    assert "Typographie" in page  # a known non-conformity, said plainly
    assert "Défenseur des droits" in page and "Libre réponse 71120" in page
    assert 'href="https://formulaire.defenseurdesdroits.fr/"' in page
    # No contact configured: a generic way, never an empty sentence.
    assert "ses coordonnées figurent sur son site internet" in page


def test_the_accessibility_contact_comes_from_the_configuration(tmp_path):
    app = make_app(tmp_path, AUTHORITY_CONTACT="accessibilite@saint-malo.example")
    page = text(app.test_client().get("/accessibilite"))
    assert '<span id="accessibility-contact">accessibilite@saint-malo.example</span>' in page


def test_the_legal_notice_names_the_authority_as_publisher(city):
    page = text(city.test_client().get("/mentions-legales"))
    assert "<h1>Mentions légales</h1>" in page
    assert "édité par <strong>Ville de Saint-Malo & Dinard</strong>." in page
    # The host left empty by the operator: a generic sentence.
    assert "hébergé pour le compte de Ville de Saint-Malo & Dinard" in page
    assert "représentant légal de Ville de Saint-Malo & Dinard" in page


def test_the_legal_notice_shows_the_operators_facts(tmp_path):
    app = make_app(
        tmp_path,
        AUTHORITY_NAME="Mairie de Brest",
        AUTHORITY_ADDRESS="2 rue Frézier, 29200 Brest",
        AUTHORITY_PUBLICATION_DIRECTOR="Le maire",
        AUTHORITY_CONTACT="aides@brest.example",
        AUTHORITY_HOST="Hébergeur Exemple SAS, 1 quai du Port, 29200 Brest",
    )
    page = text(app.test_client().get("/mentions-legales"))
    assert "édité par <strong>Mairie de Brest</strong>, 2 rue Frézier, 29200 Brest." in page
    assert "de la publication\u202f: Le maire." in page
    assert "Contact\u202f: aides@brest.example." in page
    assert '<p id="host">Hébergeur Exemple SAS, 1 quai du Port, 29200 Brest</p>' in page
    assert "hébergé pour le compte de" not in page


def test_the_receipt_names_the_authority(city):
    client = city.test_client()
    url, _ref = file_one(client)
    page = text(client.get(url))
    assert "Demande adressée à\u202f: <strong>Ville de Saint-Malo & Dinard</strong>." in page


def _stored_message(app, ref) -> email.message.EmailMessage:
    connection = store.connect(app.config["DATABASE"])
    try:
        row = outbox.get(connection, outbox.for_deposit(connection, ref)["id"])
    finally:
        connection.conn.close()
    return email.message_from_string(row["message"], policy=email.policy.default)


def test_the_acknowledgement_email_names_the_authority(city):
    _url, ref = file_one(city.test_client())
    message = _stored_message(city, ref)
    plain = acknowledgement.text_part(message)
    assert "Adressée à\u202f: Ville de Saint-Malo & Dinard" in plain
    assert plain.endswith("Cordialement,\nLe service des aides – Ville de Saint-Malo & Dinard\n")
    rich = message.get_body(preferencelist=("html",)).get_content()
    assert "Le service des aides – Ville de Saint-Malo &amp; Dinard</p>" in rich


def test_the_acknowledgement_falls_back_to_the_default_authority():
    ack = acknowledgement.Acknowledgement(
        ref="AIDE-1",
        filed_at="2026-03-01T09:30:00+00:00",
        organisation="Club",
        siret="",
        project="",
        amount_cents=100,
        recipient="a@example.org",
        authority="  ",
    )
    assert "Adressée à\u202f: Votre collectivité" in acknowledgement.text_body(ack)
