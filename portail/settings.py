"""Runtime settings an admin changes on /admin/parametres, stored in SQLite.

This module is the only reader and writer of the `settings` table, so that encrypting the
token at rest later changes one place. Validation of typed values lives in the admin form
and the CLI; here values are stored as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from portail import log_scrub
from portail.api_urls import PRODUCTION_URL, SANDBOX_URL
from portail.store import immediate, utcnow

DEFAULT_CONTEXT = "Aides publiques : dépôt et instruction des demandes de subvention"
CONTEXT_MAX_LENGTH = 200
KEYS = ("enabled", "recipient_siret", "token", "context", "api_url")


@dataclass(frozen=True)
class Settings:
    """The four DataPass settings and the feature switch."""

    enabled: bool = False
    recipient_siret: str = ""
    token: str = ""
    context: str = DEFAULT_CONTEXT
    api_url: str = PRODUCTION_URL

    @property
    def demo(self) -> bool:
        """True when the portal answers from its built-in sandbox of fictitious data."""
        return self.api_url == SANDBOX_URL

    @property
    def prefill_available(self) -> bool:
        """True when applicants get the SIRET prefill: switch on and settings complete."""
        return bool(self.enabled and self.recipient_siret and self.token and self.api_url)

    def __repr__(self) -> str:  # the token must never reach a log through repr()
        return (
            f"Settings(enabled={self.enabled!r}, recipient_siret={self.recipient_siret!r}, "
            f"token={'***' if self.token else ''!r}, context={self.context!r}, "
            f"api_url={self.api_url!r})"
        )


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


def seed_demonstration(db: sqlite_utils.Database) -> bool:
    """On a fresh database, switch to demonstration mode on the built-in sandbox.

    Returns True when the settings were seeded now. A database that already has settings
    (an authority's real configuration) is never touched.
    """
    from portail import sandbox
    from portail.tokens import mint_token

    if db["settings"].count:
        return False
    save(
        db,
        {
            "enabled": True,
            "api_url": SANDBOX_URL,
            "recipient_siret": sandbox.DEMO_RECIPIENT_SIRET,
            "context": DEFAULT_CONTEXT,
            # Minted at first start, never committed: even a fictitious token is not a literal.
            "token": mint_token(list(sandbox.DEMO_SCOPES)),
        },
        actor="démonstration",
    )
    return True
