"""Mini-portail des aides: create_app() builds the Flask application.

Run the demonstration with `make run`; serve in production behind the HTTPS proxy with
`PORTAIL_TRUSTED_PROXIES=1 waitress-serve --host 127.0.0.1 --port P
--no-clear-untrusted-proxy-headers --call app:create_app` (README: without the flag, waitress
deletes X-Forwarded-For and every applicant shares the proxy's address).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from portail.admin import blueprint as admin_blueprint
from portail.admin import maintenance_cli
from portail.apientreprise import sandbox
from portail.apientreprise.gateway import Gateway
from portail.apientreprise.policy import GatewayPolicy
from portail.apientreprise.transport import HttpTransport
from portail.applicant import demo_outbox
from portail.applicant import views as applicant_views
from portail.auth import views as auth_views
from portail.core import log_scrub
from portail.core.acknowledgement import DEFAULT_AUTHORITY
from portail.core.api_urls import SANDBOX_URL
from portail.core.settings_rules import DEFAULT_CONTEXT
from portail.core.tokens import mint_token
from portail.instruction import blueprint as instruction_blueprint
from portail.mail import smtp
from portail.mail.worker import DEFAULT_RETRY_DELAYS, Mailer
from portail.storage import token_key
from portail.web import client_address, extensions, health, layout, mail, security

# Threads of the waitress server (`python -m portail.serve --threads`): the HTTP pool to
# API Entreprise keeps as many connections.
DEFAULT_SERVER_THREADS = 8


def _private_instance(instance_path: str) -> None:
    """The instance folder (database, keys, documents) is the owner's only: 0700."""
    path = Path(instance_path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _load_or_create_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, generating it once (mode 0600) on first start."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Application factory: configuration, services, blueprints, CLI. The only wiring.

    `instance_path`: the instance folder (absolute), `instance/` beside this file unless given.
    """
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    _private_instance(app.instance_path)
    app.config.from_mapping(
        DATABASE=str(Path(app.instance_path) / "portail.sqlite3"),
        EXTRA_API_BASE_URLS=[],
        MAX_CONTENT_LENGTH=256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # CSRF token tied to the session, not to a clock
        # Set PORTAIL_SESSION_COOKIE_SECURE=true behind HTTPS; left off so the local
        # demonstration works over plain http://127.0.0.1.
        SESSION_COOKIE_SECURE=False,
        # Number of reverse proxies in front (X-Forwarded-For/Proto are trusted that deep),
        # so that per-IP throttling sees the client's address, not the proxy's.
        TRUSTED_PROXIES=0,
        # Host names the portal answers to (Flask checks the Host header against them, so a
        # forged Host never reaches a redirect): e.g. ["portail.example.fr"]. None: any.
        TRUSTED_HOSTS=None,
        # The authority receiving the applications: shown in the header, the receipt, the
        # acknowledgement e-mail and the legal pages. The AUTHORITY_* facts of the legal
        # notice (address, publication director, contact, host) are empty until filled.
        AUTHORITY_NAME=DEFAULT_AUTHORITY,
        AUTHORITY_ADDRESS="",
        AUTHORITY_PUBLICATION_DIRECTOR="",
        AUTHORITY_CONTACT="",
        AUTHORITY_HOST="",
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAIL")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _load_or_create_secret_key(app.instance_path)
    # The token's key is read where the database is opened (storage/token_key), never kept
    # in the configuration; created now on first start, or checked when given in the
    # environment (a malformed PORTAIL_TOKEN_KEY stops the start with a French message).
    app.config.pop("TOKEN_KEY", None)
    # The SMTP password lives in the mailer only (PORTAIL_SMTP_PASSWORD), never in app.config.
    smtp_config = smtp.from_config(app.config, os.environ)
    app.config.pop("SMTP_PASSWORD", None)
    token_key.prepare(app.config["DATABASE"])

    client_address.init_app(app)
    log_scrub.install()  # the API token is masked in every log line, whoever logs it
    extensions.init_app(app, _services(app, smtp_config))
    security.init_app(app)
    layout.init_app(app)

    app.register_blueprint(applicant_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(demo_outbox.bp)
    admin_blueprint.init_app(app)
    maintenance_cli.init_app(app)
    instruction_blueprint.init_app(app)

    seeded = extensions.prepare_database(app)
    mail.init_app(app)
    auth_views.init_app(app, demo_seeded=seeded)
    return app


def _services(app: Flask, smtp_config: smtp.SmtpConfig | None) -> extensions.Services:
    """The app's gateway (one HTTP session, the built-in sandbox answering in process), the
    demonstration the portal starts in, and the mail worker (its thread starts on demand)."""
    demo_api = sandbox.Sandbox()
    policy = GatewayPolicy.from_config(app.config)
    pool_size = int(app.config.get("SERVER_THREADS") or DEFAULT_SERVER_THREADS)

    def transport() -> HttpTransport:
        return HttpTransport(pool_size=pool_size, sandbox_handler=demo_api.handle)

    def demo_settings() -> dict:
        return {
            "enabled": True,
            "api_url": SANDBOX_URL,
            "recipient_siret": sandbox.DEMO_RECIPIENT_SIRET,
            "context": DEFAULT_CONTEXT,
            # Minted at first start, never committed: even a fictitious token is not a literal.
            "token": mint_token(list(sandbox.DEMO_SCOPES)),
        }

    return extensions.Services(
        gateway=Gateway(policy, transport),
        demo_settings=demo_settings,
        personas=sandbox.PERSONAS,
        mailer=Mailer(
            app.config["DATABASE"],
            smtp_config,
            sender=app.config.get("MAIL_SENDER"),
            retry_delays=app.config.get("MAIL_RETRY_DELAYS") or DEFAULT_RETRY_DELAYS,
            authority=app.config.get("AUTHORITY_NAME"),
        ),
    )
