"""Helpers for the admin and login tests: an app with a cheap password hash, AuthActions.

The root conftest's `app` pays the production password cost; tests/admin/ and tests/auth/
override it with the cheap one in their conftest.py.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from app import create_app
from portail.core import passwords, settings_rules
from portail.storage import accounts, database, settings

# Production hashes use N=2**17 (~0.4 s each); tests lower the cost through the config key.
TEST_SCRYPT_N = 2**10
PASSWORD = "cheval correct agrafe batterie"
USERNAME = "alice"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, *, production_defaults: bool = False, **config):
    """A fresh portal (demonstration mode, like a first start) with a cheap password hash.

    The database is `tmp_path/portail.sqlite3`: calling again with the same `tmp_path`
    restarts the portal on the same data. `production_defaults` leaves out TESTING and
    DEMO_ADMIN, so the portal starts as an operator's would (demo admin printed included).
    """
    values = {
        "DATABASE": str(tmp_path / "portail.sqlite3"),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PASSWORD_SCRYPT_N": TEST_SCRYPT_N,
    }
    if not production_defaults:
        values.update({"TESTING": True, "DEMO_ADMIN": False})
    values.update(config)
    return create_app(values)


def saved_settings(app) -> settings_rules.Settings:
    """The settings as stored in the app's database."""
    db = database.connect(app.config["DATABASE"])
    try:
        return settings.load(db)
    finally:
        db.conn.close()


def save_settings(app, **changes) -> None:
    """Store settings directly, as another process would (no validation, actor `test`)."""
    db = database.connect(app.config["DATABASE"])
    try:
        settings.save(db, changes, actor="test")
    finally:
        db.conn.close()


def page_text(response, collapse_spaces: bool = False) -> str:
    """The response body with HTML entities decoded (apostrophes come as &#39;)."""
    body = html.unescape(response.get_data(as_text=True))
    return re.sub(r"[ \t\r\n]+", " ", body) if collapse_spaces else body


def csrf_from(html: str | bytes) -> str:
    """The CSRF token of the first form in a page."""
    if isinstance(html, bytes):
        html = html.decode()
    match = _CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


class AuthActions:
    """Create admins and log in/out through the real pages (CSRF included)."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def create_admin(self, username: str = USERNAME, password: str = PASSWORD):
        """Create an admin directly in the database."""
        db = database.connect(self.app.config["DATABASE"])
        try:
            return accounts.create(db, username, password, passwords.params_for(TEST_SCRYPT_N))
        finally:
            db.conn.close()

    def login(
        self,
        username: str = USERNAME,
        password: str = PASSWORD,
        next_url: str | None = None,
        ip: str = "127.0.0.1",
    ):
        """Submit the login form; returns the response (not followed)."""
        page = self.client.get("/admin/connexion", environ_base={"REMOTE_ADDR": ip})
        data = {"username": username, "password": password, "csrf_token": csrf_from(page.data)}
        if next_url is not None:
            data["next"] = next_url
        return self.client.post("/admin/connexion", data=data, environ_base={"REMOTE_ADDR": ip})

    def logout(self):
        """Submit the logout button of an admin page."""
        page = self.client.get("/admin/")
        return self.client.post("/admin/deconnexion", data={"csrf_token": csrf_from(page.data)})

    def csrf(self, path: str = "/admin/parametres") -> str:
        """The CSRF token of an admin page."""
        return csrf_from(self.client.get(path).data)

    def session_cookie(self) -> str | None:
        """The admin session cookie's value, as a thief would copy it."""
        cookie = self.client.get_cookie("portail_admin", path="/admin")
        return cookie.value if cookie else None


def logged_in(app, client=None, username: str = USERNAME) -> AuthActions:
    """An admin created and logged in through the login page (new client unless given)."""
    actions = AuthActions(app, client or app.test_client())
    actions.create_admin(username)
    response = actions.login(username)
    assert response.status_code == 303, response.status_code
    return actions
