"""Admin authentication: login, logout, server-side sessions, `login_required` (htmx-aware).

The admin cookie (`portail_admin`, path `/admin`) holds only a random session id; the
session itself lives in SQLite (`portail.auth_sessions`). Flask's own signed cookie keeps
only the CSRF token, never who is logged in.

Cookie flags: HttpOnly and SameSite=Lax always. Secure always, except for a local
demonstration, where the browser talks plain HTTP to 127.0.0.1 and a Secure cookie would be
refused: the flag is left off only when the request came to a loopback host from a loopback
address AND the portal is in demonstration mode (built-in sandbox) or under TESTING. Behind a
TLS-terminating proxy the Host is the public name, so the flag stays on. `ADMIN_COOKIE_SECURE`
(True/False) overrides the automatic choice.

Configuration: `PASSWORD_SCRYPT_N` (default 2**17; tests lower it), `ADMIN_SESSION_IDLE_MINUTES`
(30), `ADMIN_SESSION_MAX_HOURS` (12), `DEMO_ADMIN` (create `admin` on a fresh demonstration
database; default True, False under TESTING so that every test app does not pay a full-cost
hash: tests create their admins themselves).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from forms.login import LoginForm
from portail import auth_accounts, auth_passwords, auth_sessions, auth_throttle, store
from portail.db import get_db
from portail.paris_time import PARIS

bp = Blueprint("auth", __name__, url_prefix="/admin")

COOKIE_NAME = "portail_admin"
COOKIE_PATH = "/admin"


# -- configuration helpers -------------------------------------------------------------


def password_params(app: Flask | None = None) -> auth_passwords.ScryptParams:
    """Hashing parameters from the configuration (N defaults to 2**17)."""
    app = app or current_app
    return auth_passwords.params_for(app.config.get("PASSWORD_SCRYPT_N"))


def _idle(app: Flask) -> timedelta:
    return timedelta(minutes=float(app.config.get("ADMIN_SESSION_IDLE_MINUTES", 30)))


def _max_age(app: Flask) -> timedelta:
    return timedelta(hours=float(app.config.get("ADMIN_SESSION_MAX_HOURS", 12)))


def purge_expired_sessions(db) -> None:
    """Drop the sessions this app's limits have expired (idle or too old)."""
    auth_sessions.purge_expired(db, _idle(current_app), _max_age(current_app))


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (with or without a port or brackets)."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cookie_secure() -> bool:
    """Whether the admin cookie gets the Secure flag for this request (see module doc)."""
    forced = current_app.config.get("ADMIN_COOKIE_SECURE")
    if forced is not None:
        return bool(forced)
    if request.is_secure:
        return True
    local = is_loopback_host(request.host) and is_loopback_host(request.remote_addr)
    if not local:
        return True
    if current_app.testing:
        return False
    from portail import settings

    return not settings.load(get_db()).demo


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other host, scheme) gives /admin/."""
    default = url_for("admin.dashboard")
    if not target or len(target) > 2000:
        return default
    # Backslashes and control characters: browsers read "/\evil" as "//evil".
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return default
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def client_ip() -> str | None:
    """The client address as the WSGI server saw it."""
    return request.remote_addr


# -- the current admin ------------------------------------------------------------------


def current_session() -> auth_sessions.AdminSession | None:
    """The logged-in admin's session for this request, or None."""
    if "admin_session" not in g:
        raw = request.cookies.get(COOKIE_NAME)
        g.admin_session = (
            auth_sessions.load(get_db(), raw, _idle(current_app), _max_age(current_app))
            if raw
            else None
        )
        g.admin_cookie_stale = bool(raw) and g.admin_session is None
    return g.admin_session


def _requested_page() -> str:
    """The page to come back to after logging in."""
    if request.headers.get("HX-Request") == "true":
        # An htmx request targets a fragment; come back to the page that made it.
        try:
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
        except ValueError:
            return url_for("admin.dashboard")
        if current.netloc == request.host and current.path:
            return current.path + (f"?{current.query}" if current.query else "")
        return url_for("admin.dashboard")
    if request.method != "GET":
        return request.path
    return request.full_path.rstrip("?")


def _login_redirect():
    """Send an anonymous visitor to the login page (htmx: HX-Redirect, not a swap)."""
    if g.get("admin_cookie_stale"):
        flash("Votre session a expiré. Reconnectez-vous pour continuer.", "info")
    target = url_for("auth.login", next=safe_next(_requested_page()))
    if request.headers.get("HX-Request") == "true":
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
    else:
        response = redirect(target, 303)
    if g.get("admin_cookie_stale"):
        _clear_cookie(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def login_required(view):
    """Let only logged-in admins through; others go to the login page and come back."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_session() is None:
            return _login_redirect()
        return view(*args, **kwargs)

    return wrapped


def _set_cookie(response, session_id: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(),
    )


def _clear_cookie(response) -> None:
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=cookie_secure()
    )


# -- views ------------------------------------------------------------------------------


def _wait_words(until: datetime) -> str:
    """'à 14:32:10 (dans 40 secondes)' in Paris time."""
    seconds = max(1, math.ceil((until - auth_throttle.now()).total_seconds()))
    if seconds < 60:
        delay = f"{seconds} seconde{'s' if seconds > 1 else ''}"
    else:
        minutes = math.ceil(seconds / 60)
        delay = f"{minutes} minute{'s' if minutes > 1 else ''}"
    clock = until.astimezone(PARIS).strftime("%H:%M:%S")
    return f"à partir de {clock} (dans {delay})"


def _render_login(form: LoginForm, next_url: str, status: int = 200, error: str | None = None):
    from portail import settings

    demo = settings.load(get_db()).demo
    response = current_app.make_response(
        (
            render_template(
                "auth/login.html", form=form, next_url=next_url, login_error=error, demo=demo
            ),
            status,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    """The login page and its submission (fields `username`, `password`)."""
    next_url = safe_next(request.values.get("next"))
    if current_session() is not None:
        return redirect(next_url, 303)
    form = LoginForm()
    if request.method == "GET":
        return _render_login(form, next_url)

    if not form.validate():
        return _render_login(form, next_url, 422)

    db = get_db()
    username = form.username.data.strip()
    ip = client_ip()
    keys = [auth_throttle.ip_key(ip), auth_throttle.account_key(username)]
    until = auth_throttle.blocked_until(db, keys)
    if until is not None:
        auth_accounts.record_event(db, "login_throttled", username=username, ip=ip)
        response = _render_login(
            form,
            next_url,
            429,
            "Trop de tentatives de connexion ont échoué. Par sécurité, la prochaine "
            f"tentative sera possible {_wait_words(until)}.",
        )
        response.headers["Retry-After"] = str(
            max(1, math.ceil((until - auth_throttle.now()).total_seconds()))
        )
        return response

    admin = auth_accounts.authenticate(db, username, form.password.data, password_params())
    if admin is None:
        until = auth_throttle.record_failure(db, keys)
        auth_accounts.record_event(db, "login_failed", username=username, ip=ip)
        message = "Identifiant ou mot de passe incorrect."
        if until is not None:
            message += f" Par sécurité, la prochaine tentative sera possible {_wait_words(until)}."
        return _render_login(form, next_url, 401, message)

    auth_throttle.record_success(db, keys)
    purge_expired_sessions(db)
    session_id = auth_sessions.create(db, admin.id, ip)
    auth_accounts.record_event(
        db, "login_succeeded", username=admin.username, admin_id=admin.id, ip=ip
    )
    # A fresh CSRF token for the logged-in session: one seen before login is not reused.
    session.pop("csrf_token", None)
    response = redirect(next_url, 303)
    _set_cookie(response, session_id)
    return response


@bp.post("/deconnexion")
def logout():
    """End the session server-side (a copied cookie stops working) and clear the cookie."""
    db = get_db()
    admin_session = current_session()
    raw = request.cookies.get(COOKIE_NAME)
    if admin_session is not None:
        auth_sessions.end(db, raw)
        auth_accounts.record_event(
            db,
            "logout",
            username=admin_session.username,
            admin_id=admin_session.admin_id,
            ip=client_ip(),
        )
        flash("Vous êtes déconnecté.", "info")
    session.pop("csrf_token", None)
    target = url_for("auth.login")
    if request.headers.get("HX-Request") == "true":
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = target
    else:
        response = redirect(target, 303)
    _clear_cookie(response)
    return response


@bp.after_request
def _no_store(response):
    # Admin pages must not stay in a shared cache or come back with the Back button.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- app wiring -------------------------------------------------------------------------


def create_demo_admin(app: Flask) -> str | None:
    """Create `admin` with a random password on a fresh demonstration database.

    Returns the password (to print once) or None when an `admin` account already exists.
    Demonstration only: a real installation creates its admins with `admin create`.
    """
    db = store.connect(app.config["DATABASE"])
    try:
        if auth_accounts.find(db, "admin") is not None:
            return None
        password = secrets.token_urlsafe(12)
        auth_accounts.create(db, "admin", password, password_params(app), actor="démonstration")
        return password
    finally:
        db.conn.close()


def init_app(app: Flask, demo_seeded: bool = False) -> None:
    """Register CLI commands and the admin template context; on a fresh demonstration
    database, create the demo admin and print its password once on the console."""
    from portail import admin, admin_cli

    admin_cli.init_app(app)
    admin.init_app(app)

    @app.context_processor
    def admin_identity():
        def current_admin():
            admin_session = current_session()
            return admin_session.username if admin_session else None

        return {"current_admin": current_admin}

    if demo_seeded and app.config.get("DEMO_ADMIN", not app.testing):
        password = create_demo_admin(app)
        if password:
            # stderr: the console of whoever started the portal, not the access log.
            click.echo(
                "\nMode démonstration : un compte administrateur a été créé.\n"
                "  Identifiant : admin\n"
                f"  Mot de passe : {password}\n"
                "Ce mot de passe n'est affiché qu'une seule fois. Pour en choisir un autre :\n"
                "  .venv/bin/flask --app app admin set-password admin\n",
                err=True,
            )
