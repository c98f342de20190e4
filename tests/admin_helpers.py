"""Helpers for the admin tests: an app with a cheap password hash, and AuthActions."""

from __future__ import annotations

import re
from pathlib import Path

from app import create_app
from portail import auth_accounts, auth_passwords, store

# Production hashes use N=2**17 (~0.4 s each); tests lower the cost through the config key.
TEST_SCRYPT_N = 2**10
PASSWORD = "cheval correct agrafe batterie"
USERNAME = "alice"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, **config):
    """A fresh portal (demonstration mode, like a first start) with a cheap password hash."""
    settings = {
        "TESTING": True,
        "DATABASE": str(tmp_path / "portail.sqlite3"),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PASSWORD_SCRYPT_N": TEST_SCRYPT_N,
        "DEMO_ADMIN": False,
    }
    settings.update(config)
    return create_app(settings)


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
        db = store.connect(self.app.config["DATABASE"])
        try:
            return auth_accounts.create(
                db, username, password, auth_passwords.params_for(TEST_SCRYPT_N)
            )
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
