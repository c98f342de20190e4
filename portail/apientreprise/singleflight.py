"""Join identical work in flight: the first caller runs it, the others wait for its result.

API Entreprise answers 409 to a request identical to one still running for the same token;
joining lookups in the process means the API never sees such a duplicate from our threads,
and ten applicants typing the same SIRET cost one call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class JoinTimeout(Exception):
    """The call being joined did not finish within the follower's wait."""


class _Call:
    __slots__ = ("done", "result", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Per-key deduplication of concurrent calls within one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, _Call] = {}

    def run(self, key: Hashable, work: Callable[[], T], *, wait: float) -> tuple[T, bool]:
        """Run `work` or join the identical call in flight; returns (result, joined).

        A follower waits at most `wait` seconds, then raises JoinTimeout; the leader's
        exception, if any, is raised in every follower too.
        """
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = _Call()
        if leader:
            try:
                call.result = work()
                return call.result, False
            except BaseException as error:
                call.error = error
                raise
            finally:
                with self._lock:
                    self._calls.pop(key, None)
                call.done.set()
        if not call.done.wait(wait):
            raise JoinTimeout(f"still running after {wait:g} s")
        if call.error is not None:
            raise call.error
        return call.result, True

    def in_flight(self) -> int:
        """How many distinct keys are running now (for tests and diagnostics)."""
        with self._lock:
            return len(self._calls)
