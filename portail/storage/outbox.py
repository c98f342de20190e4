"""The outbox: e-mails waiting to be sent, sent, or given up, one row per message.

A message is written right after the deposit it acknowledges, never inside a network call;
its body is dropped once sent, and `prune` drops the messages of purged deposits.
Workers of any process claim due rows in one BEGIN IMMEDIATE (a lease in `claimed_until`),
send outside any transaction, then record the outcome: sent, or retried after a growing
delay, or given up ("échec définitif").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from portail.storage.database import fetch_all, fetch_one, immediate, utcnow

PENDING = "en attente"
SENT = "envoyé"
RETRYING = "échec provisoire"
FAILED = "échec définitif"
DEMONSTRATION = "démonstration"
NOT_CONFIGURED = "non configuré"

DUE_STATES = (PENDING, RETRYING)
ACKNOWLEDGEMENT = "accuse_reception"
ERROR_MAX_CHARS = 300


@dataclass(frozen=True)
class Claimed:
    """A row a worker holds the lease of: what it needs to send it."""

    id: int
    recipient: str
    message: str
    attempts: int


def add(
    db: sqlite_utils.Database,
    *,
    deposit_ref: str | None,
    recipient: str,
    subject: str,
    message: str,
    status: str = PENDING,
    last_error: str | None = None,
    kind: str = ACKNOWLEDGEMENT,
) -> int:
    """Store one message; due at once when pending. Returns its id."""
    with immediate(db):
        cursor = db.conn.execute(
            "INSERT INTO outbox (deposit_ref, kind, recipient, subject, message, status, "
            "next_try_at, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                deposit_ref,
                kind,
                recipient,
                subject,
                message,
                status,
                time.time() if status in DUE_STATES else None,
                last_error,
                utcnow(),
            ),
        )
        return int(cursor.lastrowid)


def claim(
    db: sqlite_utils.Database, lease_seconds: float, limit: int = 20, now: float | None = None
) -> list[Claimed]:
    """Take the lease of up to `limit` due rows, so no other worker sends them meanwhile.

    A worker that dies holding a lease only delays its rows until the lease ends."""
    now = time.time() if now is None else now
    with immediate(db):
        rows = fetch_all(
            db,
            "SELECT id, recipient, message, attempts FROM outbox "
            "WHERE status IN (?, ?) AND next_try_at <= ? "
            "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_try_at LIMIT ?",
            (*DUE_STATES, now, now, limit),
        )
        for row in rows:
            db.conn.execute(
                "UPDATE outbox SET claimed_until = ? WHERE id = ?", (now + lease_seconds, row["id"])
            )
    return [Claimed(**row) for row in rows]


def mark_sent(db: sqlite_utils.Database, message_id: int) -> None:
    """The server accepted the message."""
    with immediate(db):
        db.conn.execute(
            # The body is dropped once sent: the state stays for the admin page.
            "UPDATE outbox SET status = ?, attempts = attempts + 1, sent_at = ?, message = '', "
            "next_try_at = NULL, claimed_until = NULL, last_error = NULL WHERE id = ?",
            (SENT, utcnow(), message_id),
        )


def mark_failed(
    db: sqlite_utils.Database,
    message_id: int,
    error: str,
    *,
    permanent: bool,
    retry_delays: Sequence[float],
    now: float | None = None,
) -> str:
    """Record a failed attempt: retried after the next delay, or given up when the failure
    is permanent or every delay is spent. Returns the new status."""
    now = time.time() if now is None else now
    with immediate(db):
        row = fetch_one(db, "SELECT attempts FROM outbox WHERE id = ?", (message_id,))
        attempts = (row["attempts"] if row else 0) + 1
        give_up = permanent or attempts > len(retry_delays)
        status = FAILED if give_up else RETRYING
        next_try = None if give_up else now + float(retry_delays[attempts - 1])
        db.conn.execute(
            "UPDATE outbox SET status = ?, attempts = ?, next_try_at = ?, claimed_until = NULL, "
            "last_error = ? WHERE id = ?",
            (status, attempts, next_try, error[:ERROR_MAX_CHARS], message_id),
        )
    return status


def next_due(db: sqlite_utils.Database) -> float | None:
    """When the next pending or retried message falls due (epoch seconds), or None."""
    row = fetch_one(
        db,
        "SELECT min(max(next_try_at, coalesce(claimed_until, 0))) AS due FROM outbox "
        "WHERE status IN (?, ?)",
        DUE_STATES,
    )
    return row["due"] if row else None


def for_deposit(db: sqlite_utils.Database, deposit_ref: str) -> dict | None:
    """The latest acknowledgement of a deposit (status, attempts, times, last error);
    `next_try` is the next attempt's time as stored times are (UTC ISO), or None."""
    row = fetch_one(
        db,
        "SELECT id, status, attempts, next_try_at, last_error, created_at, sent_at "
        "FROM outbox WHERE deposit_ref = ? AND kind = ? ORDER BY id DESC LIMIT 1",
        (deposit_ref, ACKNOWLEDGEMENT),
    )
    if row is not None:
        due = row["next_try_at"]
        row["next_try"] = (
            datetime.fromtimestamp(due, UTC).isoformat(timespec="seconds") if due else None
        )
    return row


def latest(db: sqlite_utils.Database, status: str, refs: list[str], limit: int = 20) -> list[dict]:
    """The latest messages in one state of the deposits `refs`, newest first (the
    demonstration's outbox shows a browser its own filings only)."""
    if not refs:
        return []
    marks = ", ".join("?" * len(refs))
    return fetch_all(
        db,
        "SELECT id, deposit_ref, recipient, subject, created_at FROM outbox "  # noqa: S608  # nosec B608
        f"WHERE status = ? AND deposit_ref IN ({marks}) ORDER BY id DESC LIMIT ?",
        (status, *refs, limit),
    )


def prune(db: sqlite_utils.Database) -> int:
    """Delete the messages of deposits no longer kept (`flask purge` removed them).
    Returns how many."""
    with immediate(db):
        return db.conn.execute(
            "DELETE FROM outbox WHERE deposit_ref IS NOT NULL "
            "AND deposit_ref NOT IN (SELECT ref FROM deposits)"
        ).rowcount


def get(db: sqlite_utils.Database, message_id: int) -> dict | None:
    """One message, whole."""
    return fetch_one(db, "SELECT * FROM outbox WHERE id = ?", (message_id,))
