"""Applicant tests: the portal pointed at the sandbox served over real HTTP, so that a test
counts the calls the API receives."""

from __future__ import annotations

import pytest

from portail.apientreprise import sandbox
from portail.storage import settings


@pytest.fixture
def loopback(app, db):
    """The sandbox over loopback HTTP, saved as the portal's API URL."""
    with sandbox.LoopbackSandbox() as server:
        settings.save(db, {"api_url": server.url}, actor="test")
        yield server
