"""A portal (or bare settings) pointed at a loopback API: the double or the sandbox server."""

from __future__ import annotations

from flask import Flask
from stdnum import luhn

from app import create_app
from portail.apientreprise import sandbox
from portail.apientreprise.catalogue import ROUTE_ETABLISSEMENT_DIFFUSIBLE, ROUTE_PRIVILEGES
from portail.apientreprise.gateway import Gateway
from portail.apientreprise.policy import GatewayPolicy
from portail.apientreprise.privileges import privileges_from
from portail.apientreprise.transport import HttpTransport
from portail.applicant.prefill import lookup_public_tiers
from portail.core.settings_rules import Settings
from portail.core.tokens import mint_token
from portail.storage import database, journal, settings

RECIPIENT = "21999001700010"
# Gateways of the running test, one per policy: a gateway holds process-wide state (calls in
# flight, refusals noted this minute), so calls of one test with one policy share one, as
# the requests of one app do. Emptied before each test (conftest).
GATEWAYS: dict[GatewayPolicy, Gateway] = {}
CONTEXT = "Aides publiques"


def valid_siret(number: int, series: int = 77) -> str:
    """A fictitious SIRET that passes the form's checks (Luhn on SIREN and SIRET): distinct
    numbers give distinct SIRETs, and each test module may take its own `series`."""
    siren = f"{series * 1_000_000 + number:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


def gateway_for(policy: GatewayPolicy | None = None) -> Gateway:
    """The test's gateway for `policy`: HTTP to the double, the built-in sandbox in process."""
    policy = policy or GatewayPolicy()
    if policy not in GATEWAYS:
        demo_api = sandbox.Sandbox()
        GATEWAYS[policy] = Gateway(policy, lambda: HttpTransport(sandbox_handler=demo_api.handle))
    return GATEWAYS[policy]


def lookup(db, conf: Settings, siret: str, *, policy: GatewayPolicy | None = None, **kwargs):
    """The applicant's prefill through the test's gateway for `policy`."""
    return lookup_public_tiers(gateway_for(policy), db, conf, siret, **kwargs)


def check_privileges(db, conf: Settings, *, actor: str, policy=None, **kwargs) -> list[str]:
    """The connection test's call: /privileges through the gateway, never waiting."""
    return (
        gateway_for(policy)
        .call(
            db,
            conf,
            ROUTE_PRIVILEGES,
            None,
            actor=actor,
            object_="test de connexion",
            check=privileges_from,
            wait=False,
            **kwargs,
        )
        .checked
    )


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
