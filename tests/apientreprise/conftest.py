"""API Entreprise tests: settings pointing at the loopback double (tests/fault_double.py)."""

from __future__ import annotations

import pytest

from tests.api_helpers import settings_on


@pytest.fixture
def conf(double):
    """Settings pointing at the double, with a fresh fictitious token."""
    return settings_on(double.url)
