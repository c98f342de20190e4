"""Runtime settings an admin changes on /admin/parametres, stored in SQLite, and the journal of
their changes (who changed which setting, when; never a token's value).

This module is the only reader and writer of the `settings` table, so that encrypting the
token at rest changes one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlite_utils

from portail.core import log_scrub, settings_rules
from portail.core.formats import paris_date
from portail.core.settings_rules import Settings
from portail.core.tokens import NotAJwt, token_info
from portail.storage import settings
from portail.storage.database import immediate, utcnow

KEYS = ("enabled", "recipient_siret", "token", "context", "api_url")


def load(db: sqlite_utils.Database) -> Settings:
    """Read the settings; absent keys take their defaults."""
    rows = dict(db.conn.execute("SELECT key, value FROM settings").fetchall())
    defaults = Settings()
    if rows.get("token"):
        log_scrub.remember(rows["token"])  # masked in any log line from now on
    return Settings(
        enabled=rows.get("enabled", "off") == "on",
        recipient_siret=rows.get("recipient_siret", defaults.recipient_siret),
        token=rows.get("token", defaults.token),
        context=rows.get("context", defaults.context),
        api_url=rows.get("api_url", defaults.api_url),
    )


def changed_at(db: sqlite_utils.Database, key: str) -> str | None:
    """When a setting was last changed (UTC ISO), None if it was never set."""
    rows = list(db.query("SELECT updated_at FROM settings WHERE key = ?", [key]))
    return rows[0]["updated_at"] if rows else None


def save(db: sqlite_utils.Database, changes: dict[str, str | bool], actor: str) -> list[str]:
    """Store the given settings (already validated); return the keys that actually changed."""
    current = {row["key"]: row["value"] for row in db.query("SELECT key, value FROM settings")}
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
            db["settings"].upsert(
                {"key": key, "value": value, "updated_at": now, "updated_by": actor}, pk="key"
            )
            changed.append(key)
    return changed


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


logger = logging.getLogger(__name__)


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
        return f"« {new_value} »"
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
    if changed:
        logger.info("settings changed by %s: %s", actor, ", ".join(changed))
    return changed


def recent_changes(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    """The latest settings changes, newest first."""
    return list(db.query("SELECT * FROM settings_changes ORDER BY id DESC LIMIT ?", [limit]))
