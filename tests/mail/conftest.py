"""Mail tests: apps pointed at a real SMTP server on loopback, their mail worker stopped
after each test."""

from __future__ import annotations

import re

import pytest

from app import create_app
from portail.storage import database, outbox
from tests.applicant.htmx_helpers import complete_form

FAST_RETRIES = [0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.fixture
def make_app(tmp_path):
    """make_app(port, **config): a portal sending through 127.0.0.1:port (plain SMTP)."""
    apps = []

    def build(port: int | None = None, **config):
        settings = {
            "TESTING": True,
            "DATABASE": str(tmp_path / "portail.sqlite3"),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "MAIL_SENDER": "Ville de Rennes <aides@rennes.example>",
            "MAIL_RETRY_DELAYS": FAST_RETRIES,
            "SMTP_TIMEOUT_SECONDS": 2,
        }
        if port is not None:
            settings.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none")
        settings.update(config)
        application = create_app(settings)
        apps.append(application)
        return application

    yield build
    for application in apps:
        mailer = application.extensions["portail"].mailer
        if mailer is not None:
            mailer.stop()


def file_deposit(client, **overrides) -> str:
    """File the complete test deposit; returns its reference."""
    page = client.get("/demande").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/demande", data=complete_form(token, **overrides))
    assert response.status_code == 303, response.status_code
    return response.headers["Location"].split("/")[-2]


def acknowledgement(app, ref: str) -> dict | None:
    """The outbox row of a deposit's acknowledgement, read afresh."""
    db = database.connect(app.config["DATABASE"])
    try:
        return outbox.for_deposit(db, ref)
    finally:
        db.conn.close()
