"""Instruction tests: the portal with a cheap password hash, Alice logged in, and the
sandbox served over real HTTP so that a test counts the calls the API receives."""

from __future__ import annotations

import pytest

from portail.apientreprise import sandbox
from portail.storage import settings
from tests.admin_helpers import logged_in, make_app


@pytest.fixture
def app(tmp_path):
    """The portal with a cheap password hash (CSRF stays on, as in production)."""
    return make_app(tmp_path)


@pytest.fixture
def auth(app, client):
    """Alice, logged in with the `client` fixture."""
    return logged_in(app, client)


@pytest.fixture
def loopback(app, db):
    """The sandbox over loopback HTTP, saved as the portal's API URL (demonstration token,
    protected scopes included)."""
    with sandbox.LoopbackSandbox() as server:
        settings.save(db, {"api_url": server.url}, actor="test")
        yield server
