"""Filed deposits and the prefill snapshots they refer to.

A deposit is written once, in one BEGIN IMMEDIATE transaction, and never depends on the API:
it keeps the values as filed, the public API answers used for the prefill, and which
prefilled fields the applicant changed.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlite_utils

from portail.store import immediate, utcnow

# Crockford's base32 without I, L, O, U: no letter read as a digit, nothing rude by chance.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SNAPSHOT_KEEP_DAYS = 7


def new_reference(year: int | None = None) -> str:
    """A reference one can read aloud and nobody can guess: AIDE-2026-7KQM-3XPT-9ZDF (60 bits)."""
    year = year or datetime.now(UTC).year
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(12))
    return f"AIDE-{year}-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def save_snapshot(
    db: sqlite_utils.Database, siret: str, payload: dict, prefilled: dict[str, str]
) -> str:
    """Keep the public answers behind a prefill until the applicant files; return its id."""
    snapshot_id = secrets.token_urlsafe(16)
    cutoff = (datetime.now(UTC) - timedelta(days=SNAPSHOT_KEEP_DAYS)).isoformat(timespec="seconds")
    with immediate(db):
        # Unfiled prefills are kept a week at most: they are copied into the deposit on filing.
        db.execute("DELETE FROM prefill_snapshots WHERE created_at < ?", [cutoff])
        db["prefill_snapshots"].insert(
            {
                "id": snapshot_id,
                "siret": siret,
                "created_at": utcnow(),
                "payload": json.dumps(payload, ensure_ascii=False),
                "prefilled": json.dumps(prefilled, ensure_ascii=False),
            }
        )
    return snapshot_id


def load_snapshot(db: sqlite_utils.Database, snapshot_id: str, siret: str) -> dict | None:
    """The snapshot with that id if it was taken for that SIRET, else None."""
    if not snapshot_id or len(snapshot_id) > 64:
        return None
    rows = list(
        db.query(
            "SELECT payload, prefilled FROM prefill_snapshots WHERE id = ? AND siret = ?",
            [snapshot_id, siret],
        )
    )
    if not rows:
        return None
    return {
        "payload": json.loads(rows[0]["payload"]),
        "prefilled": json.loads(rows[0]["prefilled"]),
    }


@dataclass(frozen=True)
class FiledDeposit:
    """What the receipt shows."""

    ref: str
    created_at: str
    values: dict[str, str]
    prefilled: dict[str, str]
    changed_fields: list[str]


def file_deposit(
    db: sqlite_utils.Database,
    values: dict[str, str],
    amount: Decimal,
    snapshot: dict | None,
) -> FiledDeposit:
    """Store a deposit for good and return it. One transaction: all or nothing."""
    prefilled = snapshot["prefilled"] if snapshot else {}
    changed = sorted(
        name for name, value in prefilled.items() if (values.get(name) or "") != (value or "")
    )
    created_at = utcnow()
    for _attempt in range(5):
        ref = new_reference()
        try:
            with immediate(db):
                db["deposits"].insert(
                    {
                        "ref": ref,
                        "created_at": created_at,
                        "siret": values.get("siret", ""),
                        "raison_sociale": values.get("raison_sociale", ""),
                        "intitule_projet": values.get("intitule_projet", ""),
                        "montant_demande_cents": int(amount * 100),
                        "email": values.get("email", ""),
                        "values_json": json.dumps(values, ensure_ascii=False),
                        "snapshot_json": json.dumps(snapshot["payload"], ensure_ascii=False)
                        if snapshot
                        else None,
                        "prefilled_json": json.dumps(prefilled, ensure_ascii=False),
                        "changed_fields_json": json.dumps(changed),
                    }
                )
        except sqlite3.IntegrityError:
            continue  # 60-bit collision: astronomically rare, but never lose a deposit to it
        return FiledDeposit(ref, created_at, values, prefilled, changed)
    raise RuntimeError("could not allocate a unique deposit reference")


def get_deposit(db: sqlite_utils.Database, ref: str) -> FiledDeposit | None:
    """The deposit with that reference, or None."""
    rows = list(db.query("SELECT * FROM deposits WHERE ref = ?", [ref]))
    if not rows:
        return None
    row = rows[0]
    return FiledDeposit(
        ref=row["ref"],
        created_at=row["created_at"],
        values=json.loads(row["values_json"]),
        prefilled=json.loads(row["prefilled_json"] or "{}"),
        changed_fields=json.loads(row["changed_fields_json"] or "[]"),
    )
