"""Retention: deposits and journal rows past their keeping period are deleted.

- Deposits older than DEPOSIT_RETENTION_MONTHS (36 by default, what the data notice promises
  applicants) go with everything kept about them: the rows of every table that refers to
  the deposit (certified checks, attestations...) and the attestations' PDF files.
- The journals (API calls, admin events, settings changes) are kept JOURNAL_RETENTION_MONTHS,
  never less than 36: API Entreprise's rules require 36 months of traces of data access.

The purge is safe while the portal serves: rows go in small batches, each its own short
BEGIN IMMEDIATE transaction, so an applicant's filing waits one batch at most. A PDF file is
removed once the batch that deleted its row has committed. With `secure_delete` on every
connection (storage/database), deleted rows are overwritten with zeros.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from portail.storage import attestations
from portail.storage.database import immediate

DEFAULT_DEPOSIT_MONTHS = 36
DEFAULT_JOURNAL_MONTHS = 36
MINIMUM_JOURNAL_MONTHS = 36  # API Entreprise: 36 months of traces
BATCH_SIZE = 500

# The journals: table, French label. Each has an `at` column (UTC ISO) under an index.
JOURNALS = (
    ("api_journal", "journal des appels à API Entreprise"),
    ("admin_events", "journal d'administration"),
    ("settings_changes", "historique des paramètres"),
)


def months_before(moment: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier (the 31st becomes the month's last
    day: 31 May minus 3 months is 28 or 29 February)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class Policy:
    """The keeping periods, in months, as applied (the journal's raised to its minimum)."""

    deposit_months: int = DEFAULT_DEPOSIT_MONTHS
    journal_months: int = DEFAULT_JOURNAL_MONTHS
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, deposit_months, journal_months) -> Policy:
        """From configuration values (None: the default). ValueError (French) for a value
        that is not a whole number of months, or a deposit period under one month."""
        deposits = _months(deposit_months, DEFAULT_DEPOSIT_MONTHS, "DEPOSIT_RETENTION_MONTHS")
        journal = _months(journal_months, DEFAULT_JOURNAL_MONTHS, "JOURNAL_RETENTION_MONTHS")
        if deposits < 1:
            raise ValueError("DEPOSIT_RETENTION_MONTHS doit valoir au moins 1 (mois).")
        warnings = []
        if journal < MINIMUM_JOURNAL_MONTHS:
            warnings.append(
                f"JOURNAL_RETENTION_MONTHS vaut {journal} : les règles d'API Entreprise "
                f"imposent de garder les traces {MINIMUM_JOURNAL_MONTHS} mois, "
                f"{MINIMUM_JOURNAL_MONTHS} mois sont appliqués."
            )
            journal = MINIMUM_JOURNAL_MONTHS
        return cls(deposits, journal, tuple(warnings))


def _months(value, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        months = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} doit être un nombre entier de mois.") from None
    if isinstance(value, float) and value != months:
        raise ValueError(f"{name} doit être un nombre entier de mois.")
    return months


@dataclass
class Counts:
    """What a purge deletes (or, in a dry run, would delete)."""

    deposits_before: str = ""  # the cut-off instants (UTC ISO)
    journal_before: str = ""
    deposits: int = 0
    related: dict[str, int] = field(default_factory=dict)  # table -> rows
    files: int = 0  # attestation PDFs
    journals: dict[str, int] = field(default_factory=dict)  # table -> rows
    batches: int = 0

    @property
    def total(self) -> int:
        return self.deposits + sum(self.related.values()) + sum(self.journals.values())


def _cutoffs(policy: Policy, now: datetime | None) -> tuple[str, str]:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return (
        months_before(now, policy.deposit_months).isoformat(timespec="seconds"),
        months_before(now, policy.journal_months).isoformat(timespec="seconds"),
    )


def _children(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """Every (table, column, deposits' column) whose foreign key refers to deposits."""
    found = []
    for (table,) in db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        for row in db.conn.execute("SELECT * FROM pragma_foreign_key_list(?)", (table,)):
            # (id, seq, table, from, to, on_update, on_delete, match)
            if row[2] == "deposits":
                found.append((table, row[3], row[4] or "id"))
    return sorted(found)


def plan(db: sqlite_utils.Database, policy: Policy, now: datetime | None = None) -> Counts:
    """What `purge` would delete now (a dry run: nothing is written)."""
    deposits_before, journal_before = _cutoffs(policy, now)
    counts = Counts(deposits_before, journal_before)
    old = "SELECT {column} FROM deposits WHERE created_at < ?"
    counts.deposits = db.conn.execute(
        "SELECT count(*) FROM deposits WHERE created_at < ?", (deposits_before,)
    ).fetchone()[0]
    for table, column, parent in _children(db):
        counts.related[table] = db.conn.execute(
            f"SELECT count(*) FROM {table} WHERE {column} IN ({old.format(column=parent)})",  # noqa: S608  # nosec B608
            (deposits_before,),
        ).fetchone()[0]
    counts.files = db.conn.execute(
        "SELECT count(*) FROM attestations WHERE file_name IS NOT NULL "
        "AND deposit_ref IN (SELECT ref FROM deposits WHERE created_at < ?)",
        (deposits_before,),
    ).fetchone()[0]
    for table, _label in JOURNALS:
        counts.journals[table] = db.conn.execute(
            f"SELECT count(*) FROM {table} WHERE at < ?",  # noqa: S608  # nosec B608
            (journal_before,),
        ).fetchone()[0]
    return counts


def purge(
    db: sqlite_utils.Database,
    policy: Policy,
    documents_dir: str | Path,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[], None] | None = None,
) -> Counts:
    """Delete what is past its keeping period, in batches of `batch_size` rows, each batch
    one short write transaction; `after_batch` is called between them (lock released)."""
    deposits_before, journal_before = _cutoffs(policy, now)
    counts = Counts(deposits_before, journal_before)
    children = _children(db)
    while True:
        files: list[str] = []
        with immediate(db):
            rows = db.conn.execute(
                "SELECT id, ref FROM deposits WHERE created_at < ? ORDER BY created_at LIMIT ?",
                (deposits_before, batch_size),
            ).fetchall()
            if not rows:
                break
            ids = {"id": [row[0] for row in rows], "ref": [row[1] for row in rows]}
            marks = ",".join("?" * len(rows))
            files = [
                name
                for (name,) in db.conn.execute(
                    f"SELECT file_name FROM attestations WHERE file_name IS NOT NULL "  # noqa: S608  # nosec B608
                    f"AND deposit_ref IN ({marks})",
                    ids["ref"],
                )
            ]
            for table, column, parent in children:
                deleted = db.conn.execute(
                    f"DELETE FROM {table} WHERE {column} IN ({marks})",  # noqa: S608  # nosec B608
                    ids[parent],  # a deposit is referred to by its id or its ref
                ).rowcount
                counts.related[table] = counts.related.get(table, 0) + deleted
            counts.deposits += db.conn.execute(
                f"DELETE FROM deposits WHERE id IN ({marks})",  # noqa: S608  # nosec B608
                ids["id"],
            ).rowcount
        counts.batches += 1
        for name in files:  # after the commit: a rolled-back batch keeps its files
            if (Path(documents_dir) / name).exists():
                attestations.remove_document(documents_dir, name)
                counts.files += 1
        if after_batch:
            after_batch()
    for table, _label in JOURNALS:
        counts.journals[table] = 0
        while True:
            with immediate(db):
                deleted = db.conn.execute(
                    f"DELETE FROM {table} WHERE id IN "  # noqa: S608  # nosec B608
                    f"(SELECT id FROM {table} WHERE at < ? ORDER BY at LIMIT ?)",
                    (journal_before, batch_size),
                ).rowcount
            counts.batches += 1
            counts.journals[table] += deleted
            if after_batch:
                after_batch()
            if deleted < batch_size:
                break
    return counts
