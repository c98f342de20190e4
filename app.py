"""Mini-portail des aides: create_app() builds the Flask application.

Run the demonstration with `make run`; serve in production with
`waitress-serve --host H --port P --call app:create_app`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from portail.admin import cli as admin_cli
from portail.admin import journal_views
from portail.admin import views as admin_views
from portail.applicant import views as applicant_views
from portail.auth import views as auth_views
from portail.core import log_scrub
from portail.web import client_address, extensions, health, layout, security


def _load_or_create_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, generating it once (mode 0600) on first start."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: configuration, database, blueprints, security headers."""
    app = Flask(__name__, instance_relative_config=True)
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
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAIL")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _load_or_create_secret_key(app.instance_path)

    client_address.init_app(app)
    log_scrub.install()  # the API token is masked in every log line, whoever logs it
    extensions.init_app(app)
    security.init_app(app)
    layout.init_app(app)

    app.register_blueprint(applicant_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(journal_views.bp)
    admin_views.init_app(app)
    admin_cli.init_app(app)

    seeded = extensions.prepare_database(app)
    auth_views.init_app(app, demo_seeded=seeded)
    return app
