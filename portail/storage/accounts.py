"""Admin accounts and the admin event journal (logins, logouts, password changes, deletions,
access).

Accounts are created from the command line only: there is no default account and no
first-visitor setup page, so a freshly installed portal cannot be claimed by whoever finds it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from portail.core import passwords
from portail.storage import sessions, throttle
from portail.storage.database import immediate, utcnow

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class AccountError(ValueError):
    """An account operation refused, with a French message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Admin:
    """An admin account (never carries the password hash outside this module)."""

    id: int
    username: str


@dataclass(frozen=True)
class AccountSummary:
    """What `admin list` shows of an account: never its password hash."""

    username: str
    created_at: str
    last_login_at: str | None
    open_sessions: int
    # Login attempts for this account are refused until then (growing delays after
    # failures; there is no permanent lock-out nor a disabled state).
    throttled_until: datetime | None


def validate_username(username: str) -> str:
    """Return the username if acceptable, else raise AccountError."""
    username = unicodedata.normalize("NFC", (username or "").strip())
    if not USERNAME_RE.fullmatch(username):
        raise AccountError(
            "L'identifiant doit compter de 1 à 64 caractères : lettres sans accent, chiffres, "
            "points, tirets, arobases ou soulignés, en commençant par une lettre ou un chiffre."
        )
    return username


def find(db: sqlite_utils.Database, username: str) -> Admin | None:
    """The admin with this username (case-insensitive), or None."""
    rows = list(db.query("SELECT id, username FROM admins WHERE username = ?", [username]))
    return Admin(id=rows[0]["id"], username=rows[0]["username"]) if rows else None


def count(db: sqlite_utils.Database) -> int:
    """Number of admin accounts."""
    return db["admins"].count


def create(
    db: sqlite_utils.Database,
    username: str,
    password: str,
    params: passwords.ScryptParams,
    actor: str = "cli",
) -> Admin:
    """Create an admin; raise AccountError or WeakPassword with a French message."""
    username = validate_username(username)
    passwords.check_policy(password, username)
    if find(db, username):
        raise AccountError(f"Un administrateur « {username} » existe déjà.")
    password_hash = passwords.hash_password(password, params)
    moment = utcnow()
    with immediate(db):
        admin_id = (
            db["admins"]
            .insert(
                {
                    "username": username,
                    "password_hash": password_hash,
                    "created_at": moment,
                    "password_changed_at": moment,
                }
            )
            .last_pk
        )
        record_event(db, "admin_created", username=username, admin_id=admin_id, detail=actor)
    return Admin(id=admin_id, username=username)


def set_password(
    db: sqlite_utils.Database,
    username: str,
    password: str,
    params: passwords.ScryptParams,
    actor: str = "cli",
) -> int:
    """Change a password and end every session of that admin; return sessions ended."""
    admin = find(db, (username or "").strip())
    if admin is None:
        raise AccountError(f"Aucun administrateur « {username} ».")
    passwords.check_policy(password, admin.username)
    password_hash = passwords.hash_password(password, params)
    with immediate(db):
        db.execute(
            "UPDATE admins SET password_hash = ?, password_changed_at = ? WHERE id = ?",
            [password_hash, utcnow(), admin.id],
        )
        ended = sessions.end_all_for(db, admin.id)
        record_event(
            db, "password_changed", username=admin.username, admin_id=admin.id, detail=actor
        )
    return ended


def list_accounts(db: sqlite_utils.Database) -> list[AccountSummary]:
    """Every admin account, by username, with its open sessions and any login delay."""
    rows = db.query(
        "SELECT a.username, a.created_at, a.last_login_at, "
        "(SELECT COUNT(*) FROM admin_sessions s WHERE s.admin_id = a.id) AS open_sessions "
        "FROM admins a ORDER BY a.username COLLATE NOCASE"
    )
    return [
        AccountSummary(
            username=row["username"],
            created_at=row["created_at"],
            last_login_at=row["last_login_at"],
            open_sessions=row["open_sessions"],
            throttled_until=throttle.blocked_until(db, [throttle.account_key(row["username"])]),
        )
        for row in rows
    ]


def ensure_not_last(db: sqlite_utils.Database, admin: Admin) -> None:
    """Raise AccountError when `admin` is the only account left."""
    if count(db) <= 1:
        raise AccountError(
            f"« {admin.username} » est le dernier administrateur : le supprimer fermerait "
            "l'administration du portail à tout le monde. Créez d'abord un autre compte "
            "(flask --app app admin create NOM), puis recommencez."
        )


def delete(db: sqlite_utils.Database, username: str, actor: str = "cli") -> int:
    """Delete an admin and end its sessions; return how many sessions were ended.

    Refuses to delete the last admin: accounts are created from the command line only, so
    an empty table would leave the admin pages locked to everyone.
    """
    with immediate(db):
        # Counted inside the write transaction: two deletions run at once cannot both see
        # "two admins left" and remove them both.
        admin = find(db, (username or "").strip())
        if admin is None:
            raise AccountError(f"Aucun administrateur « {(username or '').strip()} ».")
        ensure_not_last(db, admin)
        ended = sessions.end_all_for(db, admin.id)
        db.execute("DELETE FROM admins WHERE id = ?", [admin.id])
        record_event(db, "admin_deleted", username=admin.username, admin_id=admin.id, detail=actor)
    return ended


def authenticate(
    db: sqlite_utils.Database,
    username: str,
    password: str,
    params: passwords.ScryptParams,
) -> Admin | None:
    """The admin if username and password match, else None (same cost either way)."""
    rows = list(
        db.query(
            "SELECT id, username, password_hash FROM admins WHERE username = ?",
            [(username or "").strip()],
        )
    )
    if not rows:
        passwords.burn_time(password, params)
        return None
    row = rows[0]
    if not passwords.verify_password(password, row["password_hash"]):
        return None
    if passwords.needs_rehash(row["password_hash"], params):
        # The cost was raised since this password was set: upgrade while we hold it.
        new_hash = passwords.hash_password(password, params)
        with immediate(db):
            db.execute("UPDATE admins SET password_hash = ? WHERE id = ?", [new_hash, row["id"]])
    with immediate(db):
        db.execute("UPDATE admins SET last_login_at = ? WHERE id = ?", [utcnow(), row["id"]])
    return Admin(id=row["id"], username=row["username"])


def record_event(
    db: sqlite_utils.Database,
    event: str,
    *,
    username: str | None = None,
    admin_id: int | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one row to the admin event journal."""
    with immediate(db):
        db["admin_events"].insert(
            {
                "at": utcnow(),
                "event": event,
                # What was typed in the username field, bounded: never the password.
                "username": (username or "")[:64] or None,
                "admin_id": admin_id,
                "ip": ip,
                "detail": detail,
            }
        )


def recent_events(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    """The latest admin events, newest first."""
    return list(
        db.query("SELECT * FROM admin_events ORDER BY id DESC LIMIT ?", [limit])  # noqa: S608
    )
