"""The acknowledgement e-mail, sent to a real SMTP server on loopback (aiosmtpd): one message
per filing, text and HTML, sent outside the request, retried, given up on a 5xx refusal, its
state on the admin's deposit page, the password nowhere."""

from __future__ import annotations

import logging
import re
import socket
import time
from datetime import datetime

from portail.storage import database, outbox
from tests.admin_helpers import logged_in
from tests.mail.conftest import acknowledgement, file_deposit
from tests.mail.smtp_server import LoopbackSmtp, free_port, wait_for

FACTS = ("Les Jardins Partagés", "Jardin pédagogique", "1\u202f500,50\u00a0€", "732 829 320 00074")


def test_filing_sends_one_message_with_every_fact_in_text_and_html(make_app):
    with LoopbackSmtp() as server:
        app = make_app(server.port)
        ref = file_deposit(app.test_client())
        wait_for(lambda: server.messages)
        time.sleep(0.5)  # nothing else comes
        assert len(server.messages) == 1
        message = server.messages[0]
    assert message["Subject"] == f"Accusé de réception de votre demande {ref}"
    assert message["From"] == "Ville de Rennes <aides@rennes.example>"
    # The headers a receiving server or filter expects: Date (RFC 5322), a Message-ID named
    # after the sender's own domain.
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@rennes.example>")
    assert message["To"] == "elise.durand@example.org"
    assert server.keeper.envelopes == [("aides@rennes.example", ["elise.durand@example.org"])]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    filed_at = acknowledgement(app, ref)["created_at"]
    sent_date = message["Date"].datetime
    assert abs((sent_date - datetime.fromisoformat(filed_at)).total_seconds()) < 1
    day = f"{filed_at[8:10]}/{filed_at[5:7]}/{filed_at[:4]}"
    for part in (text, html):
        assert ref in part
        assert day in part and "heure de Paris" in part
        for fact in FACTS:
            assert fact in part, fact
        assert "http" not in part and "href" not in part  # no link that opens anything more
    assert "Bonjour" in text and "Conservez ce message" in text
    assert acknowledgement(app, ref)["status"] == outbox.SENT


def test_a_silent_server_never_delays_filing_and_the_message_goes_once_it_is_back(make_app):
    port = free_port()
    # A server that takes the connection and never answers: a waiting filing would hang
    # for the whole SMTP timeout (2 s here, 15 s by default).
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", port))
    silent.listen(8)
    app = make_app(port)
    client = app.test_client()
    client.get("/demande")
    started = time.monotonic()
    ref = file_deposit(client)
    assert time.monotonic() - started < 1.0  # the 303 came at once
    assert acknowledgement(app, ref)["status"] in (outbox.PENDING, outbox.RETRYING)
    row = wait_for(lambda: (found := acknowledgement(app, ref))["attempts"] and found)
    assert row["status"] == outbox.RETRYING
    assert "Serveur injoignable" in row["last_error"]
    silent.close()
    with LoopbackSmtp(port) as server:
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT, timeout=15)
        assert len(server.messages) == 1
    assert acknowledgement(app, ref)["attempts"] >= 2


def test_a_server_that_refuses_connections_leaves_the_filing_alone(make_app):
    app = make_app(free_port())  # nothing listens there
    ref = file_deposit(app.test_client())
    row = wait_for(lambda: (found := acknowledgement(app, ref))["attempts"] and found)
    assert row["status"] == outbox.RETRYING
    # Every delay spent (five quick ones here): given up, said so.
    wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.FAILED, timeout=15)
    assert acknowledgement(app, ref)["attempts"] == 6


def test_an_address_the_server_refuses_for_good_ends_as_definitive_failure(make_app):
    with LoopbackSmtp() as server:
        app = make_app(server.port)
        ref = file_deposit(app.test_client(), email="refuse@example.org")
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.FAILED)
        assert server.messages == []
    row = acknowledgement(app, ref)
    assert row["attempts"] == 1  # a 5xx is not retried
    assert "550" in row["last_error"] and "Adresse refusée" in row["last_error"]


def test_the_admin_sees_the_state_of_the_acknowledgement(make_app):
    with LoopbackSmtp() as server:
        app = make_app(server.port)
        sent = file_deposit(app.test_client())
        refused = file_deposit(app.test_client(), email="refuse@example.org")
        wait_for(lambda: acknowledgement(app, sent)["status"] == outbox.SENT)
        wait_for(lambda: acknowledgement(app, refused)["status"] == outbox.FAILED)
    admin = logged_in(app)
    page = admin.client.get(f"/admin/demandes/{sent}").get_data(as_text=True)
    assert "Accusé de réception par courriel" in page
    assert "Envoyé</span> le " in page
    page = admin.client.get(f"/admin/demandes/{refused}").get_data(as_text=True)
    assert "Échec définitif</span>\u202f: Adresse refusée\u202f: 550" in page


def test_the_admin_sees_a_provisional_failure_and_the_next_try(make_app):
    app = make_app(free_port(), MAIL_RETRY_DELAYS=[3600])
    ref = file_deposit(app.test_client())
    wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.RETRYING)
    page = logged_in(app).client.get(f"/admin/demandes/{ref}").get_data(as_text=True)
    assert "Échec provisoire</span>\u202f: Serveur injoignable" in page
    assert re.search(
        r"nouvel essai prévu vers \d{1,2}(er)? \w+ \d{4} à \d{1,2}\u00a0h\u00a0\d{2}", page
    )


def test_the_password_comes_from_the_environment_and_is_never_shown(make_app, monkeypatch, caplog):
    secret = "Mot-de-passe-SMTP-7f3a"
    monkeypatch.setenv("PORTAIL_SMTP_PASSWORD", secret)
    caplog.set_level(logging.DEBUG)
    with LoopbackSmtp(user="portail", password=secret) as server:
        app = make_app(server.port, SMTP_USER="portail")
        ref = file_deposit(app.test_client())
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT)
        assert server.logins == [("portail", True)]
    with LoopbackSmtp(user="portail", password="un-autre") as server:
        app = make_app(server.port, SMTP_USER="portail", MAIL_RETRY_DELAYS=[3600])
        ref = file_deposit(app.test_client())
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.RETRYING)
        assert server.logins == [("portail", False)]
    row = acknowledgement(app, ref)
    assert "Identification refusée" in row["last_error"]
    page = logged_in(app).client.get(f"/admin/demandes/{ref}").get_data(as_text=True)
    assert "Identification refusée" in page
    mailer = app.extensions["portail"].mailer
    for shown in (page, row["last_error"], caplog.text, repr(mailer), repr(mailer.config)):
        assert secret not in shown
    assert secret not in repr(dict(app.config))
    assert "Courriel" in caplog.text  # the failure was logged, without the password


def test_a_broken_outbox_never_fails_the_filing(make_app, caplog):
    with LoopbackSmtp() as server:
        app = make_app(server.port)
        db = database.connect(app.config["DATABASE"])
        db.execute("DROP TABLE outbox")
        ref = file_deposit(app.test_client())  # 303 all the same
        assert db.execute("SELECT count(*) FROM deposits WHERE ref = ?", [ref]).fetchone()[0]
        db.conn.close()
    assert "non enregistré" in caplog.text


def test_the_operators_command_sends_what_waits(make_app, tmp_path):
    with LoopbackSmtp() as server:
        app = make_app(server.port)
        ref = file_deposit(app.test_client())
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT)
        db = database.connect(app.config["DATABASE"])
        message = db.execute("SELECT message FROM outbox").fetchone()[0]
        outbox.add(db, deposit_ref=ref, recipient="x@example.org", subject="s", message=message)
        db.conn.close()
        app.extensions["portail"].mailer.stop()  # only the command sends now
        result = app.test_cli_runner().invoke(args=["mail", "send-pending"])
        assert "Courriels envoyés : 1" in result.output, result.output
        assert len(server.messages) == 2


def test_messages_left_waiting_are_sent_when_the_portal_starts_again(make_app):
    with LoopbackSmtp() as server:
        app = make_app(free_port(), MAIL_RETRY_DELAYS=[0.1])
        ref = file_deposit(app.test_client())
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.RETRYING)
        app.extensions["portail"].mailer.stop()
        make_app(server.port)  # the same database, now with a server that answers
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT)
        assert len(server.messages) == 1


def test_without_smtp_host_nothing_is_sent(make_app):
    app = make_app()
    ref = file_deposit(app.test_client())
    assert acknowledgement(app, ref)["status"] == outbox.DEMONSTRATION
    result = app.test_cli_runner().invoke(args=["mail", "send-pending"])
    assert "non configuré" in result.output
    db = database.connect(app.config["DATABASE"])
    db.execute("DELETE FROM deposits WHERE ref = ?", [ref])  # as `flask purge` does
    db.conn.close()
    result = app.test_cli_runner().invoke(args=["mail", "send-pending"])
    assert "effacés : 1" in result.output
    assert acknowledgement(app, ref) is None
