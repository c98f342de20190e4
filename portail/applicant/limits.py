"""The applicant side's tunables, read from app.config (instance/config.py or PORTAIL_<KEY>):

- FILING_LIMIT_PER_MINUTE, FILING_LIMIT_PER_DAY: deposits one client address may file
  (IPv6 per /64, three times more for its /48); 0 for no limit over that window;
- RECEIPT_PERSONAL_HOURS: how long after filing the receipt link still shows the personal
  fields (name, e-mail, phone, project, amount); after that, the reference, the date and
  the organisation only.

A value that is not a whole number >= 0 falls back to its default, with a warning in the log:
a typo in the configuration must not turn every filing into an error page.
"""

from __future__ import annotations

import logging

from flask import current_app

from portail.storage.filing_limits import DEFAULT_PER_DAY, DEFAULT_PER_MINUTE, FilingLimits

logger = logging.getLogger(__name__)


DEFAULT_RECEIPT_PERSONAL_HOURS = 24


def config_count(name: str, default: int) -> int:
    """A whole number >= 0 from app.config, else `default` (logged once per reading)."""
    raw = current_app.config.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = -1
    if value < 0 or isinstance(raw, bool) or (isinstance(raw, float) and raw != value):
        logger.warning("%s=%r : entier positif ou nul attendu, %s utilisé.", name, raw, default)
        return default
    return value


def filing_limits() -> FilingLimits:
    """The filing limits configured for this app."""
    return FilingLimits(
        per_minute=config_count("FILING_LIMIT_PER_MINUTE", DEFAULT_PER_MINUTE),
        per_day=config_count("FILING_LIMIT_PER_DAY", DEFAULT_PER_DAY),
    )


def receipt_personal_hours() -> int:
    """Hours after filing during which the receipt shows the personal fields."""
    return config_count("RECEIPT_PERSONAL_HOURS", DEFAULT_RECEIPT_PERSONAL_HOURS)
