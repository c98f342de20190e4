"""The sandbox's per-token rate limit: fixed one-minute windows, like the real API."""

from __future__ import annotations

import threading

RATE_LIMIT = 250  # requests per token per minute on JSON routes, like the real API

WINDOW_SECONDS = 60


class RateLimiter:
    """Fixed one-minute windows per token, shared by every thread using one Sandbox."""

    def __init__(self, limit: int = RATE_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}

    def hit(self, token: str, now: float) -> tuple[bool, int, int]:
        """Count one request; returns (allowed, remaining, reset epoch seconds)."""
        window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(token, 0) + 1
            self._counts[token] = count
        return count <= self.limit, max(0, self.limit - count), window + WINDOW_SECONDS

    def reset(self) -> None:
        """Forget every count, as if a new minute had started."""
        with self._lock:
            self._window, self._counts = 0, {}
