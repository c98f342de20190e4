"""Filed deposits and the prefill snapshots they refer to.

A deposit is written once, in one BEGIN IMMEDIATE transaction, and never depends on the API:
it keeps the values as filed, the public API answers used for the prefill (carried by the
form as a signed snapshot), and which prefilled fields the applicant changed.

When API Entreprise answered for another SIRET than the one asked (a transferred
establishment), the deposit keeps the SIRET as filed and its stored snapshot says which SIRET
answered (`answered_siret`), so nobody mistakes the successor's data for the filed SIRET's.
"""

from __future__ import annotations

import functools
import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlite_utils
from itsdangerous import BadData, URLSafeTimedSerializer

from portail.core.prefill_edits import changed_fields
from portail.storage.database import immediate, utcnow
from portail.storage.deposit_search import search_key

# Crockford's base32 without I, L, O, U: no letter read as a digit, nothing rude by chance.
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


SNAPSHOT_KEEP_DAYS = 7


_SNAPSHOT_SALT = "portail.prefill-snapshot"


_SNAPSHOT_MAX_CHARS = 64 * 1024


def new_reference(year: int | None = None) -> str:
    """A reference one can read aloud and nobody can guess: AIDE-2026-7KQM-3XPT-9ZDF (60 bits)."""
    year = year or datetime.now(UTC).year
    chars = "".join(secrets.choice(_REF_ALPHABET) for _ in range(12))
    return f"AIDE-{year}-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


@functools.lru_cache(maxsize=4)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    # Built once per key: it sits on the lookup path, where every 0.05 ms shows.
    return URLSafeTimedSerializer(secret_key, salt=_SNAPSHOT_SALT)


def seal_snapshot(
    secret_key: str,
    siret: str,
    payload: dict,
    prefilled: dict[str, str],
    answered_siret: str = "",
) -> str:
    """Sign the public answers behind a prefill into a value the form carries back on filing.

    Nothing is written on the lookup path: the signature (HMAC with the app's secret key)
    proves at filing time what the API answered, and the snapshot is public data anyway.
    `siret` is the SIRET asked, `answered_siret` the one API Entreprise answered for when
    it differs (a transferred establishment).
    """
    return _serializer(secret_key).dumps(
        {
            "siret": siret,
            "answered_siret": answered_siret or siret,
            "payload": payload,
            "prefilled": prefilled,
        }
    )


def _unseal(secret_key: str, sealed: str | None) -> dict | None:
    """A snapshot's content if this portal sealed it within the last week, else None."""
    if not sealed or len(sealed) > _SNAPSHOT_MAX_CHARS:
        return None
    try:
        content = _serializer(secret_key).loads(sealed, max_age=SNAPSHOT_KEEP_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(content, dict) or not isinstance(content.get("siret"), str):
        return None
    asked = content["siret"]
    return {
        "siret": asked,
        "answered_siret": content.get("answered_siret") or asked,
        "payload": content.get("payload") or {},
        "prefilled": content.get("prefilled") or {},
    }


def open_snapshot(secret_key: str, sealed: str | None, siret: str) -> dict | None:
    """The snapshot sealed within the last week for that SIRET, else None (forged, stale).

    A snapshot opens for the SIRET asked and for the SIRET answered: the applicant may file
    with either, and `answered_siret` tells the filing which one the data describes.
    """
    content = _unseal(secret_key, sealed)
    if content is None or siret not in (content["siret"], content["answered_siret"]):
        return None
    return content


def open_previous_snapshot(secret_key: str, sealed: str | None) -> dict | None:
    """The snapshot of the form's last prefill, whatever SIRET the field holds now.

    Only for a new lookup: it tells which values the previous prefill proposed (a new SIRET
    must not keep them unless the applicant changed them). Never for filing: a deposit takes
    the snapshot of its own SIRET (`open_snapshot`).
    """
    return _unseal(secret_key, sealed)


@dataclass(frozen=True)
class FiledDeposit:
    """A filed deposit, as the receipt and the admin's deposit page show it."""

    ref: str
    created_at: str
    values: dict[str, str]
    prefilled: dict[str, str]
    changed_fields: list[str]
    amount_cents: int
    # The SIRET API Entreprise answered for, when not the one filed; else "".
    answered_siret: str = ""
    # The public API answers behind the prefill, as stored; None without prefill.
    snapshot: dict | None = None


def file_deposit(
    db: sqlite_utils.Database,
    values: dict[str, str],
    amount: Decimal,
    snapshot: dict | None,
) -> FiledDeposit:
    """Store a deposit for good and return it. One transaction: all or nothing."""
    prefilled = snapshot["prefilled"] if snapshot else {}
    changed = sorted(changed_fields(prefilled, values))
    stored_snapshot = None
    answered_siret = ""
    if snapshot:
        stored_snapshot = dict(snapshot["payload"])
        answered = snapshot.get("answered_siret") or ""
        if answered and answered != values.get("siret", ""):
            # Recorded next to the API answers, not among the filed values: the applicant
            # filed the SIRET as typed, the directory answered for its successor.
            answered_siret = answered
            stored_snapshot["answered_siret"] = answered
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
                        "search_name": search_key(values.get("raison_sociale")),
                        "intitule_projet": values.get("intitule_projet", ""),
                        "montant_demande_cents": int(amount * 100),
                        "email": values.get("email", ""),
                        "values_json": json.dumps(values, ensure_ascii=False),
                        "snapshot_json": json.dumps(stored_snapshot, ensure_ascii=False)
                        if stored_snapshot is not None
                        else None,
                        "prefilled_json": json.dumps(prefilled, ensure_ascii=False),
                        "changed_fields_json": json.dumps(changed),
                    }
                )
        except sqlite3.IntegrityError:
            continue  # 60-bit collision: astronomically rare, but never lose a deposit to it
        return FiledDeposit(
            ref,
            created_at,
            values,
            prefilled,
            changed,
            int(amount * 100),
            answered_siret,
            stored_snapshot,
        )
    raise RuntimeError("could not allocate a unique deposit reference")


def get_deposit(db: sqlite_utils.Database, ref: str) -> FiledDeposit | None:
    """The deposit with that reference, or None."""
    rows = list(db.query("SELECT * FROM deposits WHERE ref = ?", [ref]))
    if not rows:
        return None
    row = rows[0]
    stored_snapshot = json.loads(row["snapshot_json"]) if row["snapshot_json"] else None
    answered_siret = ""
    if isinstance(stored_snapshot, dict):
        answered_siret = stored_snapshot.get("answered_siret") or ""
    return FiledDeposit(
        ref=row["ref"],
        created_at=row["created_at"],
        values=json.loads(row["values_json"]),
        prefilled=json.loads(row["prefilled_json"] or "{}"),
        changed_fields=json.loads(row["changed_fields_json"] or "[]"),
        amount_cents=row["montant_demande_cents"],
        answered_siret=answered_siret,
        snapshot=stored_snapshot,
    )
