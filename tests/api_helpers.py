"""A portal (or bare settings) pointed at a loopback API: the double or the sandbox server."""

from __future__ import annotations

from flask import Flask
from stdnum import luhn

from app import create_app
from portail.apientreprise.catalogue import ROUTE_ETABLISSEMENT_DIFFUSIBLE
from portail.core.settings_rules import Settings
from portail.core.tokens import mint_token
from portail.storage import database, journal, settings

RECIPIENT = "21999001700010"
CONTEXT = "Aides publiques"


def valid_siret(number: int, series: int = 77) -> str:
    """A fictitious SIRET that passes the form's checks (Luhn on SIREN and SIRET): distinct
    numbers give distinct SIRETs, and each test module may take its own `series`."""
    siren = f"{series * 1_000_000 + number:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def settings_on(api_url: str, scopes: tuple[str, ...] = ("open_data",)) -> Settings:
    """Complete settings with the switch on and a fresh fictitious token, for `api_url`."""
    return Settings(
        enabled=True,
        recipient_siret=RECIPIENT,
        token=mint_token(list(scopes)),
        context=CONTEXT,
        api_url=api_url,
    )


def portal_on(tmp_path, api_url: str, name: str = "portail.sqlite3", **config) -> Flask:
    """A test app whose saved settings point at `api_url` (accepted as an extra base URL)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / name),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DEMO_ADMIN": False,
            "EXTRA_API_BASE_URLS": [api_url],
            **config,
        }
    )
    conf = settings_on(api_url)
    db = database.connect(app.config["DATABASE"])
    try:
        settings.save(
            db,
            {
                "enabled": conf.enabled,
                "api_url": conf.api_url,
                "recipient_siret": conf.recipient_siret,
                "token": conf.token,
                "context": conf.context,
            },
            actor="test",
        )
    finally:
        db.conn.close()
    return app


def journal_row(db, **changes) -> None:
    """Append one journal row: a successful public lookup unless `changes` say otherwise."""
    values = {
        "route": ROUTE_ETABLISSEMENT_DIFFUSIBLE,
        "target": "12345678900011",
        "object_": "Demande test",
        "actor": "anonyme",
        "status": 200,
        "error_code": None,
        "duration_ms": 12.34,
        "request_id": "req-1",
    }
    values.update(changes)
    journal.record_call(db, **values)
