"""A few password-hashing slots per app, never waited for.

One scrypt check at N=2**17 holds a server thread for ~0.4 s and 128 MiB. If a login waited
for a free slot, a flood of logins would park every server thread in that wait and the
applicant's pages would queue behind them (64 addresses × 3 logins at once made
`GET /demande` take 36 s). So a login that finds no free slot is answered at once, without
hashing (the login page answers 503 with Retry-After), and one address never holds more than
one slot, so that one client cannot take them all.

The slots belong to the app (created by `auth.views.init_app`, kept in `app.extensions`): two
apps in one process share nothing. A process serving the portal thus checks at most
LOGIN_HASH_SLOTS passwords at a time; the command line (`admin create`, `set-password`)
hashes outside them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

EXTENSION = "portail.auth.hashing"


# Seconds a refused login is told to wait: a check lasts ~0.4 s, a slot frees up soon.
RETRY_AFTER_SECONDS = 2


def default_slots() -> int:
    """One slot per two cores, one or two: a hash keeps a core busy, the others serve pages."""
    return max(1, min(2, (os.cpu_count() or 1) // 2))


class HashingSlots:
    """At most `slots` password checks at once, at most one per client address."""

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError("LOGIN_HASH_SLOTS must be at least 1")
        self.slots = slots
        self._lock = threading.Lock()
        self._busy: set[str] = set()

    @contextmanager
    def slot(self, address: str) -> Iterator[bool]:
        """Yield True with a slot held for `address`, or False at once when none is free."""
        with self._lock:
            taken = len(self._busy) < self.slots and address not in self._busy
            if taken:
                self._busy.add(address)
        try:
            yield taken
        finally:
            if taken:
                with self._lock:
                    self._busy.discard(address)

    def busy(self) -> int:
        """Slots held right now."""
        with self._lock:
            return len(self._busy)


def init_app(app: Flask) -> HashingSlots:
    """Give the app its slots (LOGIN_HASH_SLOTS, default: one per two cores, 1 or 2)."""
    slots = HashingSlots(int(app.config.get("LOGIN_HASH_SLOTS") or default_slots()))
    app.extensions[EXTENSION] = slots
    return slots


def hashing_slots() -> HashingSlots:
    """The current app's slots."""
    return current_app.extensions[EXTENSION]
