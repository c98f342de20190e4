"""Shared fixtures: an app on a temporary database, its client and CLI runner."""

from __future__ import annotations

import pytest

from app import create_app
from portail import store


@pytest.fixture
def app(tmp_path):
    """A fresh portal on its own database, seeded in demonstration mode like a first start."""
    application = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "portail.sqlite3"),
            "SECRET_KEY": "test-secret-key-not-for-production",
        }
    )
    yield application


@pytest.fixture
def client(app):
    """Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Flask CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A direct connection to the app's database."""
    database = store.connect(app.config["DATABASE"])
    yield database
    database.conn.close()
