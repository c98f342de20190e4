"""Login throttling per IP address and per account, with growing delays.

After a few free failures, each further failure makes the next attempt wait twice as long,
up to a ceiling. There is no permanent lock-out: anyone can type someone else's username, so
a lock-out would let an attacker shut the real admin out for good. Throttling is a time
before which attempts are refused at once (no password check, no sleeping request thread);
the login page tells the admin when to try again. A success clears the counters; failures
older than a day are forgotten.

IPv6 clients are counted per /64, the block one subscriber usually holds. Behind a reverse
proxy every request has the proxy's address: the per-IP counter then throttles everyone,
which is why it allows more free failures than the per-account counter.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime, timedelta

import sqlite_utils

from portail.storage.database import immediate

ACCOUNT_FREE_FAILURES = 3


IP_FREE_FAILURES = 10


BASE_DELAY = timedelta(seconds=5)


MAX_DELAY = timedelta(minutes=15)


FORGET_AFTER = timedelta(days=1)


USERNAME_KEY_LENGTH = 64


def now() -> datetime:
    """Current UTC time (tests replace this to move the clock)."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def account_key(username: str | None) -> str:
    """Throttle key for a typed username (known or not, so both behave the same)."""
    name = unicodedata.normalize("NFC", (username or "").strip()).casefold()
    return f"account:{name[:USERNAME_KEY_LENGTH]}"


def delay_after(failures: int, free: int) -> timedelta:
    """Wait imposed after `failures` consecutive failures: none, then 5 s, 10 s, 20 s..."""
    if failures <= free:
        return timedelta(0)
    exponent = min(failures - free - 1, 20)  # 2**20 * 5 s is far beyond the ceiling
    return min(BASE_DELAY * (2**exponent), MAX_DELAY)


def _free_failures(key: str) -> int:
    return IP_FREE_FAILURES if key.startswith("ip:") else ACCOUNT_FREE_FAILURES


def blocked_until(db: sqlite_utils.Database, keys: list[str]) -> datetime | None:
    """The time before which a login attempt is refused, or None if it may proceed."""
    moment = now()
    latest = None
    placeholders = ",".join("?" for _ in keys)
    rows = db.query(
        # Bandit B608: only "?" placeholders are formatted in; the keys are bound.
        f"SELECT blocked_until FROM login_throttle WHERE key IN ({placeholders})",  # noqa: S608  # nosec B608
        keys,
    )
    for row in rows:
        until = datetime.fromisoformat(row["blocked_until"]) if row["blocked_until"] else None
        if until and until > moment and (latest is None or until > latest):
            latest = until
    return latest


def record_failure(db: sqlite_utils.Database, keys: list[str]) -> datetime | None:
    """Count a failure for each key; return the time before which the next try is refused."""
    moment = now()
    latest = None
    with immediate(db):
        # Forget stale counters here so the table cannot grow with invented usernames.
        db.execute(
            "DELETE FROM login_throttle WHERE last_failure_at < ?", [_iso(moment - FORGET_AFTER)]
        )
        for key in keys:
            rows = list(db.query("SELECT failures FROM login_throttle WHERE key = ?", [key]))
            failures = (rows[0]["failures"] if rows else 0) + 1
            delay = delay_after(failures, _free_failures(key))
            # Round up to whole seconds: the stored time has one-second precision.
            until = moment + timedelta(seconds=math.ceil(delay.total_seconds()))
            db["login_throttle"].upsert(
                {
                    "key": key,
                    "failures": failures,
                    "last_failure_at": _iso(moment),
                    "blocked_until": _iso(until) if delay else None,
                },
                pk="key",
            )
            if delay and (latest is None or until > latest):
                latest = until
    return latest


def record_success(db: sqlite_utils.Database, keys: list[str]) -> None:
    """Clear the counters of a successful login."""
    with immediate(db):
        for key in keys:
            db.execute("DELETE FROM login_throttle WHERE key = ?", [key])
