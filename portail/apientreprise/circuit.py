"""Circuit breaker shared by every worker (state in SQLite), one circuit per data provider.

After `threshold` consecutive provider failures or timeouts the circuit opens: for
`cooldown` seconds no call leaves and applicants are told at once that the service is
temporarily unavailable, instead of each waiting for a timeout. When the cool-down ends one
caller, and only one across all processes, is let through as a probe ("half open"): its
success closes the circuit, its failure opens it for another cool-down. A probe that never
reports (its worker died) is replaced after `probe_timeout` seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlite_utils

from portail.storage.database import fetch_one, immediate

CLOSED = "closed"


OPEN = "open"


HALF_OPEN = "half_open"


@dataclass(frozen=True)
class CircuitPolicy:
    """When to open and for how long."""

    threshold: int = 5
    cooldown: float = 30.0
    probe_timeout: float = 15.0


@dataclass(frozen=True)
class Permit:
    """Whether a call may leave now; `retry_at` (epoch seconds) when it may not."""

    allowed: bool
    probe: bool = False
    retry_at: float = 0.0


def _row(db: sqlite_utils.Database, name: str) -> dict | None:
    return fetch_one(db, "SELECT * FROM api_circuit WHERE name = ?", (name,))


def state(db: sqlite_utils.Database, name: str, now: float | None = None) -> str:
    """'closed', 'open' or 'half_open' as an observer (e.g. /healthz) would describe it."""
    row = _row(db, name)
    if row is None or row["state"] == CLOSED:
        return CLOSED
    now = time.time() if now is None else now
    if row["state"] == OPEN and row["open_until"] <= now:
        return HALF_OPEN  # the next call will be the probe
    return row["state"]


def before_call(
    db: sqlite_utils.Database, name: str, policy: CircuitPolicy, now: float | None = None
) -> Permit:
    """Ask whether a call may leave. A closed circuit costs one read, no write."""
    now = time.time() if now is None else now
    row = _row(db, name)
    if row is None or row["state"] == CLOSED:
        return Permit(True)
    # Open or half open: decide (and maybe claim the probe) under the write lock, so that
    # exactly one worker probes.
    with immediate(db):
        row = _row(db, name)
        if row is None or row["state"] == CLOSED:
            return Permit(True)
        if row["state"] == OPEN and row["open_until"] > now:
            return Permit(False, retry_at=row["open_until"])
        if row["state"] == HALF_OPEN and row["probe_started"] + policy.probe_timeout > now:
            return Permit(False, retry_at=row["probe_started"] + policy.probe_timeout)
        db.execute(
            "UPDATE api_circuit SET state = ?, probe_started = ?, changed_at = ? WHERE name = ?",
            (HALF_OPEN, now, now, name),
        )
        return Permit(True, probe=True)


def release_probe(db: sqlite_utils.Database, name: str) -> None:
    """Give back a probe claimed but not sent (e.g. no budget): the next caller probes."""
    with immediate(db):
        db.execute(
            "UPDATE api_circuit SET state = ?, open_until = ?, probe_started = 0 "
            "WHERE name = ? AND state = ?",
            (OPEN, time.time(), name, HALF_OPEN),
        )


def record_success(db: sqlite_utils.Database, name: str) -> None:
    """The provider answered: close the circuit and forget past failures."""
    row = _row(db, name)
    if row is None or (row["state"] == CLOSED and row["failures"] == 0):
        return  # the common case writes nothing
    with immediate(db):
        db.execute(
            "UPDATE api_circuit SET state = ?, failures = 0, open_until = 0, probe_started = 0, "
            "changed_at = ? WHERE name = ?",
            (CLOSED, time.time(), name),
        )


def record_failure(
    db: sqlite_utils.Database,
    name: str,
    policy: CircuitPolicy,
    *,
    error: str = "",
    now: float | None = None,
) -> str:
    """Count a provider failure or timeout; returns the circuit's state afterwards."""
    now = time.time() if now is None else now
    with immediate(db):
        row = _row(db, name)
        failures = (row["failures"] if row else 0) + 1
        probe_failed = row is not None and row["state"] == HALF_OPEN
        if probe_failed or failures >= policy.threshold:
            new_state, open_until = OPEN, now + policy.cooldown
        else:
            new_state, open_until = CLOSED, 0.0
        if row is not None and row["state"] == OPEN and row["open_until"] > now:
            # Calls admitted before the circuit opened keep failing: do not extend it.
            new_state, open_until = OPEN, row["open_until"]
        db.execute(
            "INSERT INTO api_circuit (name, state, failures, open_until, probe_started, "
            "changed_at, last_error) VALUES (?, ?, ?, ?, 0, ?, ?) ON CONFLICT(name) DO UPDATE "
            "SET state = excluded.state, failures = excluded.failures, "
            "open_until = excluded.open_until, probe_started = 0, "
            "changed_at = excluded.changed_at, last_error = excluded.last_error",
            (name, new_state, failures, open_until, now, error[:300]),
        )
        return new_state
