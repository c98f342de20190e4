"""The portal's one time zone: authorities, applicants and receipts live on Paris time.

Stored times are UTC; this zone is for showing them and for turning a French calendar day
into a UTC range. tzdata is a pinned requirement, so summer time is right on every host.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def aware(value: datetime | str) -> datetime | None:
    """A stored time (ISO string or datetime) with its zone; a naive one is UTC, the form
    every table stores. None when the string is not an ISO time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def in_paris(value: datetime | str | None, pattern: str) -> str:
    """A stored time formatted in Paris time; "" for none, a non-time string unchanged."""
    if not value:
        return ""
    moment = aware(value)
    return value if moment is None else moment.astimezone(PARIS).strftime(pattern)
