"""The acknowledgement's message (pure) and the outbox's claims and retries (storage)."""

from __future__ import annotations

import pytest

from portail.core import acknowledgement
from portail.mail import smtp
from portail.storage import outbox

ACK = acknowledgement.Acknowledgement(
    ref="AIDE-2026-7KQM-3XPT-9ZDF",
    filed_at="2026-03-01T09:30:00+00:00",
    organisation="École <de> musique",
    siret="73282932000074",
    project="Concerts",
    amount_cents=123456,
    recipient="claire@example.org",
)


def test_the_message_has_a_text_and_an_html_version_stating_the_facts():
    message = acknowledgement.build(ACK, "Mairie <aides@mairie.example>")
    assert message["Subject"] == "Accusé de réception de votre demande AIDE-2026-7KQM-3XPT-9ZDF"
    assert message.get_content_type() == "multipart/alternative"
    text = acknowledgement.text_part(message)
    assert "Déposée le\u202f: 01/03/2026 à 10:30 (heure de Paris)" in text
    assert "Organisation\u202f: École <de> musique (SIRET 732 829 320 00074)" in text
    assert "Montant demandé\u202f: 1\u202f234,56\u00a0€" in text
    page = message.get_body(preferencelist=("html",)).get_content()
    assert "École &lt;de&gt; musique" in page and "<de>" not in page
    assert 'lang="fr"' in page


@pytest.mark.parametrize("address", ["", "a@example.org\r\nBcc: x@example.org", "a@x.fr, b@y.fr"])
def test_an_address_that_could_carry_headers_or_more_recipients_is_refused(address):
    with pytest.raises(acknowledgement.InvalidRecipient):
        acknowledgement.build(
            acknowledgement.Acknowledgement(**{**ACK.__dict__, "recipient": address})
        )


def _add(database):
    return outbox.add(
        database, deposit_ref=None, recipient="a@example.org", subject="s", message="m"
    )


def test_a_claimed_row_is_nobody_elses_until_its_lease_ends(database):
    message_id = _add(database)
    assert [row.id for row in outbox.claim(database, lease_seconds=60)] == [message_id]
    assert outbox.claim(database, lease_seconds=60) == []
    later = outbox.claim(database, lease_seconds=60, now=outbox.time.time() + 61)
    assert [row.id for row in later] == [message_id]


def test_failures_are_retried_after_each_delay_then_given_up(database):
    message_id = _add(database)
    delays = [60, 600]
    now = 1_000_000.0
    assert (
        outbox.mark_failed(database, message_id, "x", permanent=False, retry_delays=delays, now=now)
        == outbox.RETRYING
    )  # noqa: E501
    assert outbox.get(database, message_id)["next_try_at"] == now + 60
    assert (
        outbox.mark_failed(database, message_id, "x", permanent=False, retry_delays=delays, now=now)
        == outbox.RETRYING
    )  # noqa: E501
    assert outbox.get(database, message_id)["next_try_at"] == now + 600
    assert (
        outbox.mark_failed(database, message_id, "x", permanent=False, retry_delays=delays, now=now)
        == outbox.FAILED
    )  # noqa: E501
    row = outbox.get(database, message_id)
    assert row["attempts"] == 3 and row["next_try_at"] is None
    assert outbox.next_due(database) is None


def test_smtp_settings_are_read_and_checked():
    assert smtp.from_config({}, {}) is None
    config = smtp.from_config({"SMTP_HOST": "smtp.example.fr", "SMTP_SECURITY": "tls"}, {})
    assert (config.port, config.security) == (465, "tls")
    config = smtp.from_config(
        {"SMTP_HOST": "h", "SMTP_PASSWORD": "ignored"}, {"PORTAIL_SMTP_PASSWORD": "123"}
    )  # noqa: E501
    assert (config.port, config.password) == (587, "123")  # as typed, never read as JSON
    assert "123" not in repr(config)
    with pytest.raises(smtp.SmtpConfigError, match="SMTP_SECURITY"):
        smtp.from_config({"SMTP_HOST": "h", "SMTP_SECURITY": "ssl"}, {})


def test_the_messages_of_purged_deposits_are_dropped_and_sent_bodies_are_not_kept(database):
    kept = outbox.add(
        database, deposit_ref="AIDE-X", recipient="a@example.org", subject="s", message="m"
    )
    outbox.mark_sent(database, kept)
    assert outbox.get(database, kept)["message"] == ""
    assert outbox.prune(database) == 1  # its deposit is not (or no longer) in deposits
    assert outbox.get(database, kept) is None
