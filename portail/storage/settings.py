"""Runtime settings an admin changes on /admin/parametres, stored in SQLite, and the journal of
their changes (who changed which setting, when; never a token's value).

This module is the only reader and writer of the `settings` table. The token is stored
encrypted (storage/token_key: Fernet, the key outside the database); a token no key opens
(the key was lost) reads as absent, and `token_lost` tells the admin why. After a token
changes, the WAL is checkpointed and truncated and, with `secure_delete` on every connection,
no copy of the database file and its WAL keeps an old token, encrypted or not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlite_utils

from portail.core import log_scrub, settings_rules
from portail.core.formats import paris_date
from portail.core.settings_rules import Settings
from portail.core.tokens import NotAJwt, token_info
from portail.storage import settings, token_key
from portail.storage.database import immediate, utcnow
from portail.storage.token_key import TokenCipher, TokenUnreadable

KEYS = ("enabled", "recipient_siret", "token", "context", "api_url")

logger = logging.getLogger(__name__)


def _open_token(stored: str | None, db: sqlite_utils.Database, cipher: TokenCipher | None) -> str:
    """The token of a stored value; "" when there is none or no key opens it (a key file
    damaged while the portal runs included: a page never fails for it)."""
    if not stored:
        return ""
    if not token_key.is_sealed(stored):
        return stored  # plaintext left by an older version, until migration m0002 seals it
    try:
        return (cipher or token_key.cipher_for(db)).open(stored)
    except TokenUnreadable:
        return ""
    except token_key.KeyProblem as problem:
        logger.error("token key unusable: %s", problem.message)
        return ""


def load(db: sqlite_utils.Database, cipher: TokenCipher | None = None) -> Settings:
    """Read the settings; absent keys take their defaults. A token no key opens reads as
    absent (see `token_lost`). `cipher`: the database's own key unless given."""
    rows = dict(db.conn.execute("SELECT key, value FROM settings").fetchall())
    defaults = Settings()
    token = _open_token(rows.get("token"), db, cipher)
    if token:
        log_scrub.remember(token)  # masked in any log line from now on
    return Settings(
        enabled=rows.get("enabled", "off") == "on",
        recipient_siret=rows.get("recipient_siret", defaults.recipient_siret),
        token=token or defaults.token,
        context=rows.get("context", defaults.context),
        api_url=rows.get("api_url", defaults.api_url),
    )


def changed_at(db: sqlite_utils.Database, key: str) -> str | None:
    """When a setting was last changed (UTC ISO), None if it was never set."""
    rows = list(db.query("SELECT updated_at FROM settings WHERE key = ?", [key]))
    return rows[0]["updated_at"] if rows else None


def token_lost(db: sqlite_utils.Database, cipher: TokenCipher | None = None) -> bool:
    """True when a token is stored but no available key opens it (the key was lost)."""
    row = db.conn.execute("SELECT value FROM settings WHERE key = 'token'").fetchone()
    if not row or not token_key.is_sealed(row[0]):
        return False
    return not _open_token(row[0], db, cipher)


def forget_old_versions(db: sqlite_utils.Database) -> bool:
    """Checkpoint the WAL into the database and truncate it, so that the pages holding a
    replaced token leave both files (secure_delete zeroes them inside the database). Outside
    a transaction only; False when a reader kept it from completing (logged)."""
    if db.conn.in_transaction:
        return False
    busy, _log, _done = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        logger.warning("WAL checkpoint incomplete after a token change: a reader was busy")
    return not busy


def save(
    db: sqlite_utils.Database,
    changes: dict[str, str | bool],
    actor: str,
    cipher: TokenCipher | None = None,
) -> list[str]:
    """Store the given settings (already validated); return the keys that actually changed.
    The token is stored encrypted (`cipher`: the database's own key unless given)."""
    cipher = cipher or token_key.cipher_for(db)
    current = {row["key"]: row["value"] for row in db.query("SELECT key, value FROM settings")}
    if token_key.is_sealed(current.get("token")):
        try:
            current["token"] = cipher.open(current["token"])
        except TokenUnreadable:
            current["token"] = None  # unreadable: any value, even "", replaces it
    changed = []
    now = utcnow()
    with immediate(db):
        for key, value in changes.items():
            if key not in KEYS:
                raise KeyError(key)
            if isinstance(value, bool):
                value = "on" if value else "off"
            if key == "token" and value:
                log_scrub.remember(value)
            if current.get(key) == value:
                continue
            stored = cipher.seal(value) if key == "token" and value else value
            db["settings"].upsert(
                {"key": key, "value": stored, "updated_at": now, "updated_by": actor}, pk="key"
            )
            changed.append(key)
    if "token" in changed:
        forget_old_versions(db)  # no-op inside an outer transaction: its caller does it
    return changed


def seal_plaintext_token(db: sqlite_utils.Database, cipher: TokenCipher | None = None) -> bool:
    """Encrypt a token an older version stored in plaintext (migration m0002). True if one
    was sealed; the caller then rewrites the file (VACUUM) so no plaintext survives."""
    row = db.conn.execute("SELECT value FROM settings WHERE key = 'token'").fetchone()
    if not row or not row[0] or token_key.is_sealed(row[0]):
        return False
    sealed = (cipher or token_key.cipher_for(db)).seal(row[0])
    with immediate(db):
        db.execute("UPDATE settings SET value = ? WHERE key = 'token'", [sealed])
    return True


def reseal_token(db: sqlite_utils.Database, cipher: TokenCipher) -> str:
    """Encrypt the stored token again with `cipher`'s first key (key rotation; `cipher`
    also holds the old key). Returns "resealed", "none" (no token) or "unreadable"."""
    with immediate(db):
        row = db.conn.execute("SELECT value FROM settings WHERE key = 'token'").fetchone()
        if not row or not row[0]:
            return "none"
        stored = row[0] if token_key.is_sealed(row[0]) else cipher.seal(row[0])
        try:
            resealed = cipher.reseal(stored)
        except TokenUnreadable:
            return "unreadable"
        db.execute("UPDATE settings SET value = ? WHERE key = 'token'", [resealed])
    forget_old_versions(db)
    return "resealed"


def seed_demonstration(db: sqlite_utils.Database, demo: Callable[[], dict]) -> bool:
    """On a fresh database, save the demonstration settings `demo()` gives (the built-in
    sandbox, a fictitious token minted now: even a fictitious token is never a literal).

    Returns True when the settings were seeded now. A database that already has settings
    (an authority's real configuration) is never touched.
    """
    if db["settings"].count:
        return False
    save(db, demo(), actor="démonstration")
    return True


def _summary(key: str, old: settings_rules.Settings, new_value) -> str:
    if key == "enabled":
        return "fonctionnalité activée" if new_value else "fonctionnalité désactivée"
    if key == "token":
        if not new_value:
            return "jeton effacé"
        try:
            info = token_info(str(new_value))
        except NotAJwt:
            return "jeton remplacé"
        expiry = f", expire le {paris_date(info.expires_at)}" if info.expires_at else ""
        return f"jeton remplacé (se termine par …{info.last4}{expiry})"
    if key == "recipient_siret":
        return f"{old.recipient_siret or '(vide)'} → {new_value}"
    if key == "api_url":
        return f"{old.api_url} → {new_value}"
    if key == "context":
        return f"« {new_value} »"
    return "modifié"


def apply_changes(
    db: sqlite_utils.Database, changes: dict[str, str | bool], actor: str
) -> list[str]:
    """Save validated settings and journal each change (who, when, which; never a token)."""
    with immediate(db):
        before = settings.load(db)
        changed = settings.save(db, changes, actor)
        moment = utcnow()
        for key in changed:
            db["settings_changes"].insert(
                {
                    "at": moment,
                    "actor": actor,
                    "key": key,
                    "summary": _summary(key, before, changes[key]),
                }
            )
    if "token" in changed:
        forget_old_versions(db)
    if changed:
        logger.info("settings changed by %s: %s", actor, ", ".join(changed))
    return changed


def recent_changes(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    """The latest settings changes, newest first."""
    return list(db.query("SELECT * FROM settings_changes ORDER BY id DESC LIMIT ?", [limit]))
