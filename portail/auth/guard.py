"""Who is logged in, and `login_required` (htmx-aware): the admin cookie, safe redirects.

The admin cookie (`portail_admin`, path `/admin`) holds only a random session id; the
session lives in SQLite (storage.sessions).
"""

from __future__ import annotations

import functools
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    redirect,
    request,
    url_for,
)

from portail.core import passwords
from portail.core.netaddr import is_loopback_host
from portail.storage import accounts, sessions, settings
from portail.web.extensions import get_db

COOKIE_NAME = "portail_admin"


COOKIE_PATH = "/admin"


def password_params(app: Flask | None = None) -> passwords.ScryptParams:
    """Hashing parameters from the configuration (N defaults to 2**17)."""
    app = app or current_app
    return passwords.params_for(app.config.get("PASSWORD_SCRYPT_N"))


def _idle(app: Flask) -> timedelta:
    return timedelta(minutes=float(app.config.get("ADMIN_SESSION_IDLE_MINUTES", 30)))


def _max_age(app: Flask) -> timedelta:
    return timedelta(hours=float(app.config.get("ADMIN_SESSION_MAX_HOURS", 12)))


def purge_expired_sessions(db) -> None:
    """Drop the sessions this app's limits have expired (idle or too old)."""
    sessions.purge_expired(db, _idle(current_app), _max_age(current_app))


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
    return not settings.load(get_db()).demo


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other host, scheme) gives /admin/."""
    default = url_for("admin.dashboard.index")
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


def current_session() -> sessions.AdminSession | None:
    """The logged-in admin's session for this request, or None."""
    if "admin_session" not in g:
        raw = request.cookies.get(COOKIE_NAME)
        g.admin_session = (
            sessions.load(get_db(), raw, _idle(current_app), _max_age(current_app)) if raw else None
        )
        g.admin_cookie_stale = bool(raw) and g.admin_session is None
    return g.admin_session


def record_agent_event(db, event: str, detail: str | None = None) -> None:
    """Append what the logged-in admin did to the admin event journal, with their address
    (deposits viewed, exports, downloads: agents' access is traced)."""
    admin_session = current_session()
    accounts.record_event(
        db,
        event,
        username=admin_session.username,
        admin_id=admin_session.admin_id,
        ip=client_ip(),
        detail=detail,
    )


def _requested_page() -> str:
    """The page to come back to after logging in."""
    if request.headers.get("HX-Request") == "true":
        # An htmx request targets a fragment; come back to the page that made it.
        try:
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
        except ValueError:
            return url_for("admin.dashboard.index")
        if current.netloc == request.host and current.path:
            return current.path + (f"?{current.query}" if current.query else "")
        return url_for("admin.dashboard.index")
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
