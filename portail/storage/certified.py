"""The certified check of each deposit (table certified_checks): the protected answers an agent
fetched from API Entreprise, when and by whom, and the last failed attempt since.

One row per deposit. A successful check replaces the previous result and clears any failure
noted before it; a failed attempt is noted beside the result, which stays as it was. The
protected answers are kept here only, for the deposit page of logged-in agents: never in
the public lookup cache.
"""

from __future__ import annotations

import json

import sqlite_utils

from portail.core.certified import CertifiedCheck
from portail.storage.database import fetch_one, immediate, utcnow

_MESSAGE_MAX_CHARS = 2000


def _dumps(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _loads(text: str | None):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def get_check(db: sqlite_utils.Database, ref: str) -> CertifiedCheck | None:
    """The stored check of a deposit, or None if no agent has run one."""
    row = fetch_one(db, "SELECT * FROM certified_checks WHERE deposit_ref = ?", (ref,))
    if row is None:
        return None
    notes = _loads(row["notes_json"]) or []
    return CertifiedCheck(
        ref=row["deposit_ref"],
        siret=row["siret"],
        checked_at=row["checked_at"],
        checked_by=row["checked_by"] or "",
        state=row["state"],
        etablissement=_loads(row["etablissement_json"]),
        association=_loads(row["association_json"]),
        notes=tuple(str(note) for note in notes),
        failed_at=row["failed_at"],
        failed_by=row["failed_by"] or "",
        failure_kind=row["failure_kind"] or "",
        failure_title=row["failure_title"] or "",
        failure_message=row["failure_message"] or "",
    )


def save_result(
    db: sqlite_utils.Database,
    ref: str,
    *,
    siret: str,
    actor: str,
    state: str,
    etablissement: dict,
    association: dict | None = None,
    notes: list[str] | tuple[str, ...] = (),
    at: str | None = None,
) -> None:
    """Store a successful check, replacing the previous one and any failure noted since."""
    with immediate(db):
        db.execute(
            "INSERT INTO certified_checks (deposit_ref, siret, checked_at, checked_by, state, "
            "etablissement_json, association_json, notes_json, failed_at, failed_by, "
            "failure_kind, failure_title, failure_message) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL) "
            "ON CONFLICT (deposit_ref) DO UPDATE SET siret = excluded.siret, "
            "checked_at = excluded.checked_at, checked_by = excluded.checked_by, "
            "state = excluded.state, etablissement_json = excluded.etablissement_json, "
            "association_json = excluded.association_json, notes_json = excluded.notes_json, "
            "failed_at = NULL, failed_by = NULL, failure_kind = NULL, failure_title = NULL, "
            "failure_message = NULL",
            [
                ref,
                siret,
                at or utcnow(),
                actor,
                state,
                _dumps(etablissement),
                _dumps(association),
                _dumps(list(notes)),
            ],
        )


def save_failure(
    db: sqlite_utils.Database,
    ref: str,
    *,
    siret: str,
    actor: str,
    kind: str,
    title: str,
    message: str,
    at: str | None = None,
) -> None:
    """Note a failed attempt; the last successful result, if any, stays as it was."""
    with immediate(db):
        db.execute(
            "INSERT INTO certified_checks (deposit_ref, siret, failed_at, failed_by, "
            "failure_kind, failure_title, failure_message) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (deposit_ref) DO UPDATE SET failed_at = excluded.failed_at, "
            "failed_by = excluded.failed_by, failure_kind = excluded.failure_kind, "
            "failure_title = excluded.failure_title, "
            "failure_message = excluded.failure_message",
            [
                ref,
                siret,
                at or utcnow(),
                actor,
                kind,
                title[:200],
                message[:_MESSAGE_MAX_CHARS],
            ],
        )
