"""Server-side admin sessions: the cookie holds a random id, everything else stays in SQLite.

Only the SHA-256 of the id is stored, so neither a database copy nor a log line can be turned
back into a working cookie. Ending a session (logout, password change, timeout) deletes its
row: a copied cookie then opens nothing.

A session ends after `ADMIN_SESSION_IDLE_MINUTES` (30) without a request and, whatever the
activity, `ADMIN_SESSION_MAX_HOURS` (12) after login.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from portail.storage.database import immediate

DEFAULT_IDLE = timedelta(minutes=30)


DEFAULT_MAX_AGE = timedelta(hours=12)


# Writing last_seen_at on every request would make each page view a write transaction.
TOUCH_EVERY = timedelta(seconds=60)


def now() -> datetime:
    """Current UTC time (tests replace this to move the clock)."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AdminSession:
    """A live session and the admin it belongs to."""

    admin_id: int
    username: str
    created_at: datetime
    last_seen_at: datetime


def create(db: sqlite_utils.Database, admin_id: int, ip: str | None) -> str:
    """Open a session for an admin; return the random id to put in the cookie."""
    session_id = secrets.token_urlsafe(32)
    moment = _iso(now())
    with immediate(db):
        db["admin_sessions"].insert(
            {
                "id_hash": _hash(session_id),
                "admin_id": admin_id,
                "created_at": moment,
                "last_seen_at": moment,
                "ip": ip,
            }
        )
    return session_id


def load(
    db: sqlite_utils.Database,
    session_id: str | None,
    idle: timedelta = DEFAULT_IDLE,
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> AdminSession | None:
    """The live session for a cookie value, or None (unknown, ended, idle or too old)."""
    if not session_id or len(session_id) > 128:
        return None
    id_hash = _hash(session_id)
    rows = list(
        db.query(
            "SELECT s.admin_id, s.created_at, s.last_seen_at, a.username "
            "FROM admin_sessions s JOIN admins a ON a.id = s.admin_id WHERE s.id_hash = ?",
            [id_hash],
        )
    )
    if not rows:
        return None
    row = rows[0]
    moment = now()
    created = datetime.fromisoformat(row["created_at"])
    seen = datetime.fromisoformat(row["last_seen_at"])
    if moment - seen > idle or moment - created > max_age:
        with immediate(db):
            db.execute("DELETE FROM admin_sessions WHERE id_hash = ?", [id_hash])
        return None
    if moment - seen >= TOUCH_EVERY:
        with immediate(db):
            db.execute(
                "UPDATE admin_sessions SET last_seen_at = ? WHERE id_hash = ?",
                [_iso(moment), id_hash],
            )
        seen = moment
    return AdminSession(
        admin_id=row["admin_id"], username=row["username"], created_at=created, last_seen_at=seen
    )


def end(db: sqlite_utils.Database, session_id: str | None) -> None:
    """End one session (logout)."""
    if session_id:
        with immediate(db):
            db.execute("DELETE FROM admin_sessions WHERE id_hash = ?", [_hash(session_id)])


def end_all_for(db: sqlite_utils.Database, admin_id: int) -> int:
    """End every session of an admin (password change); return how many were ended."""
    with immediate(db):
        cursor = db.execute("DELETE FROM admin_sessions WHERE admin_id = ?", [admin_id])
        return cursor.rowcount


def purge_expired(
    db: sqlite_utils.Database,
    idle: timedelta = DEFAULT_IDLE,
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> None:
    """Delete sessions that can no longer be used, so the table does not grow."""
    moment = now()
    with immediate(db):
        db.execute(
            "DELETE FROM admin_sessions WHERE last_seen_at < ? OR created_at < ?",
            [_iso(moment - idle), _iso(moment - max_age)],
        )
