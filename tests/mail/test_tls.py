"""The acknowledgement over an encrypted connection, as in production: STARTTLS (the default)
and TLS from the first byte, against a real SMTP server on loopback (aiosmtpd) with its own
certificate; and a certificate the portal does not trust stops the message, never the filing."""

from __future__ import annotations

import pytest

from portail.storage import outbox
from tests.mail.conftest import acknowledgement, file_deposit
from tests.mail.smtp_server import LoopbackSmtp, self_signed_certificate, wait_for


@pytest.fixture
def certificate(tmp_path):
    return self_signed_certificate(tmp_path)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_the_message_goes_over_tls_with_a_login(make_app, certificate, monkeypatch, security):
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # the relay's authority, trusted
    monkeypatch.setenv("PORTAIL_SMTP_PASSWORD", "Mot-de-passe-SMTP-tls")
    with LoopbackSmtp(
        security=security,
        certificate=certificate,
        user="portail",
        password="Mot-de-passe-SMTP-tls",
    ) as server:
        app = make_app(server.port, SMTP_SECURITY=security, SMTP_USER="portail")
        ref = file_deposit(app.test_client())
        wait_for(lambda: acknowledgement(app, ref)["status"] == outbox.SENT)
        assert len(server.messages) == 1 and ref in server.messages[0]["Subject"]
        assert server.logins == [("portail", True)]  # the login, inside the encryption


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_the_portal_does_not_trust_stops_the_message(make_app, certificate, security):
    # No SSL_CERT_FILE: the self-signed certificate is nobody's the portal knows.
    with LoopbackSmtp(security=security, certificate=certificate) as server:
        app = make_app(server.port, SMTP_SECURITY=security, MAIL_RETRY_DELAYS=[3600])
        ref = file_deposit(app.test_client())
        row = wait_for(lambda: (found := acknowledgement(app, ref))["attempts"] and found)
        assert server.messages == []
    assert row["status"] == outbox.RETRYING
    assert "CERTIFICATE_VERIFY_FAILED" in row["last_error"] or "certificate" in row["last_error"]
