"""Shared fixtures: an app on a temporary database, its client and CLI runner; a migrated
database without an app (service-level tests); the loopback API double."""

from __future__ import annotations

import pytest

from app import create_app
from portail.storage import database as store
from tests.api_helpers import GATEWAYS
from tests.fault_double import FaultDouble


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


@pytest.fixture
def database(tmp_path):
    """A migrated database of its own, no Flask app (service-level tests)."""
    connection = store.connect(tmp_path / "service.sqlite3")
    store.migrate(connection)
    yield connection
    connection.conn.close()


@pytest.fixture
def double():
    """The loopback API Entreprise double with fault injection (tests/fault_double.py)."""
    with FaultDouble() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_gateways():
    """Each test starts with fresh gateways (calls in flight, refusals noted this minute)."""
    GATEWAYS.clear()
    yield
    GATEWAYS.clear()
