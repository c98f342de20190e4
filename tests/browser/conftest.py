"""Browser tests: one Debian Chromium per module, driven by Playwright (never a downloaded
browser). Without Chromium they skip locally and fail in CI (tests/browser_support.py)."""

from __future__ import annotations

import pytest

from tests import browser_support


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, launched headless once for the module."""
    with browser_support.browser() as launched:
        yield launched
