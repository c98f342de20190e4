"""Login tests: the portal with a cheap password hash."""

from __future__ import annotations

import pytest

from tests.admin_helpers import make_app


@pytest.fixture
def app(tmp_path):
    """The portal with a cheap password hash (CSRF stays on, as in production)."""
    return make_app(tmp_path)
