"""How many deposits one client address may file: a few a minute, some tens a day.

One client once filed 200 deposits in 2.6 seconds. Every filing is counted under the
client's throttle keys (core.netaddr: IPv4 as is, IPv6 per /64, and the /48 around it with a
wider cap, since one IPv6 subscriber holds many /64s) over two sliding windows. The check
and the count happen in one BEGIN IMMEDIATE transaction, joined by the deposit's own insert
when the caller holds it: two processes can never both take the last filing, and a refused
or failed filing counts for nothing. Rows older than a day are purged on the way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlite_utils

from portail.core.netaddr import NETWORK_SHARE_FACTOR, ClientKeys
from portail.storage.database import immediate

MINUTE = 60.0


DAY = 86400.0


DEFAULT_PER_MINUTE = 3


DEFAULT_PER_DAY = 30


@dataclass(frozen=True)
class FilingLimits:
    """Filings allowed per client key; 0 means no limit over that window."""

    per_minute: int = DEFAULT_PER_MINUTE
    per_day: int = DEFAULT_PER_DAY
    network_factor: int = NETWORK_SHARE_FACTOR  # an IPv6 /48 may file this many times more

    @property
    def enabled(self) -> bool:
        """False when neither window limits anything."""
        return self.per_minute > 0 or self.per_day > 0


def _wait(db, key: str, window: float, cap: int, now: float) -> float:
    """Seconds until `key` may file again over `window`, 0.0 if it may now."""
    count = db.execute(
        "SELECT count(*) FROM filing_attempts WHERE key = ? AND at > ?", (key, now - window)
    ).fetchone()[0]
    if count < cap:
        return 0.0
    # The filing whose expiry brings the count under the cap (the oldest one, unless the
    # cap was lowered since).
    freeing = db.execute(
        "SELECT at FROM filing_attempts WHERE key = ? AND at > ? ORDER BY at LIMIT 1 OFFSET ?",
        (key, now - window, count - cap),
    ).fetchone()[0]
    return max(0.0, freeing + window - now)


def admit(
    db: sqlite_utils.Database,
    keys: ClientKeys,
    limits: FilingLimits,
    now: float | None = None,
) -> float | None:
    """Count one filing for these keys and return None, or return the seconds to wait.

    Run it inside the transaction that inserts the deposit (`immediate` joins it), so that
    the filing is counted only if the deposit is stored.
    """
    if not limits.enabled:
        return None
    with immediate(db):
        now = time.time() if now is None else now
        db.execute("DELETE FROM filing_attempts WHERE at <= ?", (now - DAY,))
        counted = [(keys.client, 1)]
        if keys.network:
            counted.append((keys.network, max(1, limits.network_factor)))
        wait = 0.0
        for key, factor in counted:
            for window, cap in ((MINUTE, limits.per_minute), (DAY, limits.per_day)):
                if cap > 0:
                    wait = max(wait, _wait(db, key, window, cap * factor, now))
        if wait > 0:
            return wait
        for key, _factor in counted:
            db.execute("INSERT INTO filing_attempts (key, at) VALUES (?, ?)", (key, now))
        return None
