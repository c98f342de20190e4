"""Blueprint /admin/connexion and /admin/deconnexion: logging in and out, and the
demonstration's first admin account.

A login attempt meets, in this order and each answered at once: the form and its CSRF token
(422/400), the throttle of its address and of the account from that address (429 with
Retry-After, storage/throttle.py: never the account as a whole, so an attacker cannot lock
the admin out), a free password-hashing slot (503 with Retry-After, auth/hashing.py), and
only then the password check.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime

import click
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from forms.login import LoginForm
from portail.auth import hashing
from portail.auth.guard import (
    COOKIE_NAME,
    _clear_cookie,
    _set_cookie,
    client_ip,
    current_session,
    password_params,
    purge_expired_sessions,
    safe_next,
)
from portail.core.paris_time import PARIS
from portail.storage import accounts, database, sessions, settings, throttle
from portail.web.extensions import get_db

bp = Blueprint("auth", __name__, url_prefix="/admin")


def _wait_words(until: datetime) -> str:
    """'à 14:32:10 (dans 40 secondes)' in Paris time."""
    seconds = max(1, math.ceil((until - throttle.now()).total_seconds()))
    if seconds < 60:
        delay = f"{seconds} seconde{'s' if seconds > 1 else ''}"
    else:
        minutes = math.ceil(seconds / 60)
        delay = f"{minutes} minute{'s' if minutes > 1 else ''}"
    clock = until.astimezone(PARIS).strftime("%H:%M:%S")
    return f"à partir de {clock} (dans {delay})"


def _render_login(form: LoginForm, next_url: str, status: int = 200, error: str | None = None):
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


def _busy(form: LoginForm, next_url: str):
    """Every hashing slot is taken: answer at once rather than hold a server thread."""
    response = _render_login(
        form,
        next_url,
        503,
        "Trop de connexions en cours, réessayez dans quelques secondes. "
        "Votre identifiant et votre mot de passe n'ont pas été vérifiés.",
    )
    response.headers["Retry-After"] = str(hashing.RETRY_AFTER_SECONDS)
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
    keys = throttle.login_keys(username, ip)
    # Every limit that needs no password check comes first: a refused attempt costs no hash.
    until = throttle.refused_until(db, keys)
    if until is not None:
        accounts.record_event(db, "login_throttled", username=username, ip=ip)
        response = _render_login(
            form,
            next_url,
            429,
            "Trop de tentatives de connexion ont échoué depuis votre adresse. Par sécurité, "
            f"la prochaine tentative sera possible {_wait_words(until)}.",
        )
        response.headers["Retry-After"] = str(
            max(1, math.ceil((until - throttle.now()).total_seconds()))
        )
        return response

    with hashing.hashing_slots().slot(keys.address) as slot_taken:
        if not slot_taken:
            return _busy(form, next_url)
        admin = accounts.authenticate(db, username, form.password.data, password_params())
    if admin is None:
        until = throttle.record_failure(db, keys)
        accounts.record_event(db, "login_failed", username=username, ip=ip)
        message = "Identifiant ou mot de passe incorrect."
        if until is not None:
            message += f" Par sécurité, la prochaine tentative sera possible {_wait_words(until)}."
        return _render_login(form, next_url, 401, message)

    throttle.record_success(db, keys)
    purge_expired_sessions(db)
    session_id = sessions.create(db, admin.id, ip)
    accounts.record_event(db, "login_succeeded", username=admin.username, admin_id=admin.id, ip=ip)
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
        sessions.end(db, raw)
        accounts.record_event(
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


def create_demo_admin(app: Flask) -> str | None:
    """Create `admin` with a random password on a fresh demonstration database.

    Returns the password (to print once) or None when an `admin` account already exists.
    Demonstration only: a real installation creates its admins with `admin create`.
    """
    db = database.connect(app.config["DATABASE"])
    try:
        if accounts.find(db, "admin") is not None:
            return None
        password = secrets.token_urlsafe(12)
        accounts.create(db, "admin", password, password_params(app), actor="démonstration")
        return password
    finally:
        db.conn.close()


def init_app(app: Flask, demo_seeded: bool = False) -> None:
    """Give the app its password-hashing slots; offer `current_admin()` to templates; on a
    fresh demonstration database, create the demo admin and print its password once."""

    @app.context_processor
    def admin_identity():
        def current_admin():
            admin_session = current_session()
            return admin_session.username if admin_session else None

        return {"current_admin": current_admin}

    hashing.init_app(app)

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
