"""Refusals to send a call: why, in the admin's words, and which were already noted this
minute (in process).

A refusal costs the refused client nothing upstream, so a script can be refused a thousand
times a minute; the journal, kept 36 months, and the log must not grow with it. The first
refusal per minute of each key is noted, the rest only counted into the next note. A key is
(network or client, kind) for a share spent, (None, kind) for the portal-wide refusals
(budget, open circuit). The keys are few (a client must spend its share before being refused
for it), and at most MAX_KEYS are remembered, the oldest forgotten first. Several worker
processes may each note one: still a handful a minute.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from portail.apientreprise.catalogue import Route


class RefusalNotes:
    """Per-key "noted this minute" memory, shared by the threads of one gateway."""

    WINDOW = 60.0
    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._noted: OrderedDict[tuple[str | None, str], tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def should_note(self, key: tuple[str | None, str]) -> int | None:
        """None when this refusal is only counted; else how many were skipped since the
        last note (0 for the first)."""
        now = time.monotonic()
        with self._lock:
            noted_at, skipped = self._noted.get(key, (None, 0))
            if noted_at is not None and now - noted_at < self.WINDOW:
                self._noted[key] = (noted_at, skipped + 1)
                return None
            self._noted[key] = (now, 0)
            self._noted.move_to_end(key)
            while len(self._noted) > self.MAX_KEYS:
                self._noted.popitem(last=False)
            return skipped

    def clear(self) -> None:
        """Forget every note."""
        with self._lock:
            self._noted.clear()


# Why the budget refused, in the admin's words (shown in the journal and the deposit page).
REASON_WORDS = {
    "budget": "quota du portail atteint pour cette minute",
    "per_second": "quota du portail atteint pour cette seconde",
    "rate_limited": "appels suspendus après une réponse 429 de l'API",
    "api_remaining": "l'API signale que son quota de la minute est presque épuisé",
    "client": "part d'une même adresse atteinte",
    "network": "part d'un même réseau atteinte",
    "client_reserve": "réserve des demandeurs occasionnels protégée",
    "network_reserve": "réserve des demandeurs occasionnels protégée",
}


def refusal_note(reason: str, route: Route) -> str:
    """The refusal's reason in words, naming the quota of document routes when it is theirs
    (their setting is RATE_BUDGET_DOCUMENTS_PER_MINUTE, not the JSON one)."""
    words = REASON_WORDS.get(reason, reason)
    if route.document:
        words += " (routes de documents : RATE_BUDGET_DOCUMENTS_PER_MINUTE)"
    return words
