"""The demonstration's outbox: without SMTP_HOST, acknowledgements stay in the outbox and
/demonstration lets you read them, only in demonstration mode."""

from __future__ import annotations

import re

from portail.core.api_urls import PRODUCTION_URL
from portail.storage import database, outbox, settings
from tests.admin_helpers import logged_in
from tests.mail.conftest import acknowledgement, file_deposit


def test_the_demonstration_page_lists_and_shows_the_messages_escaped(make_app):
    app = make_app()  # demonstration: built-in sandbox, no SMTP_HOST
    client = app.test_client()
    ref = file_deposit(client, intitule_projet="Jardin <b>bio</b> & compost")
    assert acknowledgement(app, ref)["status"] == outbox.DEMONSTRATION
    page = client.get("/demonstration").get_data(as_text=True)
    assert "Courriels de démonstration" in page
    assert f"Accusé de réception de votre demande {ref}" in page
    link = re.search(r'href="(/demonstration/courriels/\d+)"', page).group(1)
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = response.get_data(as_text=True)
    assert f"Référence\u202f: {ref}" in shown
    assert "Les Jardins Partagés" in shown and "1\u202f500,50\u00a0€" in shown
    assert "Jardin &lt;b&gt;bio&lt;/b&gt; &amp; compost" in shown
    assert "<b>bio</b>" not in shown
    assert "n'a pas été envoyé" in shown


def test_the_admin_sees_that_the_demonstration_kept_the_message(make_app):
    app = make_app()
    ref = file_deposit(app.test_client())
    page = logged_in(app).client.get(f"/admin/demandes/{ref}").get_data(as_text=True)
    assert "Démonstration</span>\u202f: non envoyé" in page


def test_no_message_is_readable_outside_the_demonstration(make_app):
    app = make_app()
    client = app.test_client()
    ref = file_deposit(client)
    message_id = acknowledgement(app, ref)["id"]
    assert client.get(f"/demonstration/courriels/{message_id}").status_code == 200
    db = database.connect(app.config["DATABASE"])
    settings.save(db, {"api_url": PRODUCTION_URL}, actor="test")
    db.conn.close()
    assert client.get(f"/demonstration/courriels/{message_id}").status_code == 404
    page = client.get("/demonstration").get_data(as_text=True)
    assert "Courriels de démonstration" not in page and ref not in page
    # Filed in production without SMTP_HOST: kept, said so, never on the demonstration page.
    later = file_deposit(client)
    assert acknowledgement(app, later)["status"] == outbox.NOT_CONFIGURED
    admin_page = logged_in(app).client.get(f"/admin/demandes/{later}").get_data(as_text=True)
    assert "Non envoyé</span>\u202f: l'envoi des courriels n'est pas configuré" in admin_page


def test_a_message_sent_for_real_is_never_on_the_demonstration_page(make_app):
    app = make_app()
    db = database.connect(app.config["DATABASE"])
    real = outbox.add(db, deposit_ref=None, recipient="a@example.org", subject="s", message="")
    db.conn.close()
    assert app.test_client().get(f"/demonstration/courriels/{real}").status_code == 404
    assert app.test_client().get("/demonstration/courriels/999999").status_code == 404


def test_a_visitor_sees_only_the_messages_of_the_deposits_filed_from_their_browser(make_app):
    # Even in the demonstration a visitor may type a real address: another browser must not
    # read it, nor guess the next message's number.
    app = make_app()
    alice, bob = app.test_client(), app.test_client()
    ref = file_deposit(alice, email="alice.real@example.org")
    message_id = acknowledgement(app, ref)["id"]
    assert client_sees(alice, ref, message_id)
    response = bob.get("/demonstration")
    assert response.headers["Cache-Control"] == "no-store"  # it lists addresses typed here
    page = response.get_data(as_text=True)
    assert ref not in page and "alice.real@example.org" not in page
    assert "Aucun courriel pour l'instant" in page
    assert bob.get(f"/demonstration/courriels/{message_id}").status_code == 404
    # Bob's own filing shows to Bob, and Alice's stays hers.
    own = file_deposit(bob)
    assert client_sees(bob, own, acknowledgement(app, own)["id"])
    assert ref not in bob.get("/demonstration").get_data(as_text=True)


def client_sees(client, ref: str, message_id: int) -> bool:
    page = client.get("/demonstration").get_data(as_text=True)
    response = client.get(f"/demonstration/courriels/{message_id}")
    return ref in page and response.status_code == 200 and ref in response.get_data(as_text=True)
