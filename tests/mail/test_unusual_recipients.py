"""Addresses that are valid but unusual, and a message that breaks in an unexpected way:
each one ends sent or failed with a French reason, and never stalls the messages behind it
(a real SMTP server on loopback, aiosmtpd, with and without SMTPUTF8)."""

from __future__ import annotations

import pytest

from portail.mail import smtp
from portail.storage import outbox
from tests.mail.conftest import acknowledgement, file_deposit
from tests.mail.smtp_server import LoopbackSmtp, wait_for


def test_an_accented_domain_travels_in_its_ascii_form(make_app):
    with LoopbackSmtp() as server:  # no SMTPUTF8 needed for an accented domain
        app = make_app(server.port)
        ref = file_deposit(app.test_client(), email="paul@café.example")
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT)
    assert server.keeper.envelopes[0][1] == ["paul@xn--caf-dma.example"]
    assert server.messages[0]["To"] == "paul@xn--caf-dma.example"


def test_an_accented_address_goes_to_a_server_that_offers_smtputf8(make_app):
    with LoopbackSmtp(smtputf8=True) as server:
        app = make_app(server.port)
        ref = file_deposit(app.test_client(), email="élise@exemple.example")
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT)
    assert server.keeper.envelopes[0][1] == ["élise@exemple.example"]
    assert server.messages[0]["To"] == "élise@exemple.example"
    assert ref in server.messages[0]["Subject"]


def test_an_accented_address_a_server_cannot_take_fails_alone_and_the_others_go(make_app):
    with LoopbackSmtp() as server:  # no SMTPUTF8
        app = make_app(server.port)
        client = app.test_client()
        accented = file_deposit(client, email="élise@exemple.example")
        plain = file_deposit(client, email="paul@example.org")
        wait_for(lambda: acknowledgement(app, plain)["status"] == outbox.SENT)
        wait_for(lambda: acknowledgement(app, accented)["status"] == outbox.FAILED)
        assert [message["To"] for message in server.messages] == ["paul@example.org"]
    row = acknowledgement(app, accented)
    assert row["attempts"] == 1  # retrying cannot help
    assert "SMTPUTF8" in row["last_error"] and "accentuée" in row["last_error"]


def test_an_unexpected_error_on_one_message_fails_it_and_the_batch_goes_on(make_app, monkeypatch):
    real_send = smtp.send

    def send_breaking_on_one(config, recipient, message):
        if recipient.startswith("bug"):
            raise UnicodeEncodeError("ascii", recipient, 0, 1, "simulated")
        return real_send(config, recipient, message)

    # A fault no real server produces on demand: a bug below smtp.send for one address.
    monkeypatch.setattr(smtp, "send", send_breaking_on_one)
    with LoopbackSmtp() as server:
        app = make_app(server.port)
        client = app.test_client()
        broken = file_deposit(client, email="bug@example.org")
        fine = file_deposit(client, email="paul@example.org")
        wait_for(lambda: acknowledgement(app, fine)["status"] == outbox.SENT)
        assert len(server.messages) == 1
    row = acknowledgement(app, broken)
    assert row["status"] == outbox.FAILED
    assert "Erreur inattendue" in row["last_error"] and "UnicodeEncodeError" in row["last_error"]


@pytest.mark.parametrize("host", ["smtp.example.fr", "192.0.2.10"])
def test_plain_smtp_is_refused_beyond_this_machine(host):
    with pytest.raises(smtp.SmtpConfigError, match="relais local"):
        smtp.from_config({"SMTP_HOST": host, "SMTP_SECURITY": "none"}, {})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_plain_smtp_to_a_local_relay_is_accepted(host):
    config = smtp.from_config({"SMTP_HOST": host, "SMTP_SECURITY": "none"}, {})
    assert config.security == "none" and config.port == 25


def test_an_accented_sender_domain_travels_in_its_ascii_form(make_app):
    with LoopbackSmtp() as server:
        app = make_app(server.port, MAIL_SENDER="Ville d'Évry <aides@évry.example>")
        ref = file_deposit(app.test_client())
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT)
    assert server.keeper.envelopes[0][0] == "aides@xn--vry-9la.example"
    message = server.messages[0]
    assert message["From"].addresses[0].addr_spec == "aides@xn--vry-9la.example"
    assert message["From"].addresses[0].display_name == "Ville d'Évry"
    assert message["Message-ID"].endswith("@xn--vry-9la.example>")
