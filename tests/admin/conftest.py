"""Admin tests: the portal with a cheap password hash, and Alice logged in."""

from __future__ import annotations

import pytest

from tests.admin_helpers import logged_in, make_app


@pytest.fixture
def app(tmp_path):
    """The portal with a cheap password hash (CSRF stays on, as in production)."""
    return make_app(tmp_path)


@pytest.fixture
def auth(app, client):
    """Alice, logged in with the `client` fixture."""
    return logged_in(app, client)
