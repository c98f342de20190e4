"""Retention (issue 10): deposits and journal rows past their keeping period are deleted,
with everything kept about a deposit, in short transactions the portal's writers slip
between."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from portail.storage import accounts, attestations, deposits, retention, settings
from portail.storage import database as store
from tests.api_helpers import journal_row

NOW = datetime(2029, 6, 15, 10, 0, tzinfo=UTC)
OLD = "2026-06-01T09:00:00+00:00"  # past 36 months on NOW
RECENT = "2026-06-20T09:00:00+00:00"  # under 36 months
PDF = b"%PDF-1.4\n% test\n%%EOF\n"
ROOT = Path(__file__).resolve().parents[2]


def file_deposit(db, at: str, name: str = "ASSOCIATION") -> str:
    values = {"siret": "73282932000074", "raison_sociale": name, "email": "a@example.org"}
    filed = deposits.file_deposit(db, values, Decimal("100"), None)
    db.execute("UPDATE deposits SET created_at = ? WHERE ref = ?", [at, filed.ref])
    return filed.ref


def with_attestation(db, ref: str, documents: Path) -> str:
    name = attestations.write_document(documents, PDF)
    attestations.record(
        db,
        deposit_ref=ref,
        kind="fiscale",
        siren="732829320",
        actor="agent",
        status=attestations.OBTAINED,
        file_name=name,
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )
    db.execute(
        "INSERT INTO certified_checks (deposit_ref, siret, state) VALUES (?, ?, 'match')",
        [ref, "73282932000074"],
    )
    return name


def age_journals(db, at: str) -> None:
    for table in ("api_journal", "admin_events", "settings_changes"):
        db.execute(f"UPDATE {table} SET at = ?", [at])  # noqa: S608


@pytest.fixture
def documents(tmp_path):
    return tmp_path / "documents"


@pytest.fixture
def filled(database, documents):
    """Two old deposits (one with its attestation and certified check), a recent one with
    its own, and old journal rows of each kind; then recent journal rows."""
    old = [file_deposit(database, OLD), file_deposit(database, OLD)]
    old_file = with_attestation(database, old[0], documents)
    recent = file_deposit(database, RECENT)
    recent_file = with_attestation(database, recent, documents)
    journal_row(database)
    accounts.record_event(database, "login_succeeded", username="alice")
    settings.apply_changes(database, {"context": "Aides"}, actor="alice")
    age_journals(database, "2026-06-01T09:00:00.000+00:00")
    journal_row(database)
    accounts.record_event(database, "login_succeeded", username="alice")
    return {"old": old, "recent": recent, "old_file": old_file, "recent_file": recent_file}


def test_months_are_counted_on_the_calendar():
    assert retention.months_before(NOW, 36) == datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
    end_of_may = datetime(2029, 5, 31, tzinfo=UTC)
    assert retention.months_before(end_of_may, 3) == datetime(2029, 2, 28, tzinfo=UTC)
    assert retention.months_before(datetime(2028, 5, 31, tzinfo=UTC), 3).day == 29
    assert retention.months_before(datetime(2029, 1, 10, tzinfo=UTC), 13).year == 2027


def test_the_journal_is_kept_36_months_at_least():
    policy = retention.Policy.from_config(None, None)
    assert (policy.deposit_months, policy.journal_months, policy.warnings) == (36, 36, ())
    raised = retention.Policy.from_config(12, 12)
    assert (raised.deposit_months, raised.journal_months) == (12, 36)
    assert "36 mois" in raised.warnings[0] and "API Entreprise" in raised.warnings[0]
    assert retention.Policy.from_config("48", "60").journal_months == 60
    for wrong in ({"deposit_months": 0}, {"deposit_months": "trois"}, {"journal_months": 1.5}):
        values = {"deposit_months": None, "journal_months": None, **wrong}
        with pytest.raises(ValueError, match="mois"):
            retention.Policy.from_config(values["deposit_months"], values["journal_months"])


def test_the_data_notice_promises_what_the_defaults_keep():
    notice = (ROOT / "templates/deposit/data_notice.html").read_text(encoding="utf-8")
    assert f"conservées {retention.DEFAULT_DEPOSIT_MONTHS} mois" in notice
    assert retention.DEFAULT_JOURNAL_MONTHS == retention.MINIMUM_JOURNAL_MONTHS == 36


def test_a_dry_run_counts_what_the_purge_then_deletes(database, documents, filled):
    policy = retention.Policy()
    planned = retention.plan(database, policy, NOW)
    assert database.execute("SELECT count(*) FROM deposits").fetchone()[0] == 3

    done = retention.purge(database, policy, documents, now=NOW)
    assert (planned.deposits, planned.files, planned.related, planned.journals) == (
        done.deposits,
        done.files,
        done.related,
        done.journals,
    )
    assert done.deposits == 2 and done.files == 1
    assert done.related == {"attestations": 1, "certified_checks": 1}
    assert done.journals == {"api_journal": 1, "admin_events": 1, "settings_changes": 1}

    remaining = {row[0] for row in database.execute("SELECT ref FROM deposits")}
    assert remaining == {filled["recent"]}
    refs = {row[0] for row in database.execute("SELECT deposit_ref FROM attestations")}
    assert refs == {filled["recent"]}
    assert [p.name for p in documents.iterdir()] == [filled["recent_file"]]
    for table in ("api_journal", "admin_events"):
        assert database.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 1  # noqa: S608
    assert database.execute("SELECT count(*) FROM settings_changes").fetchone()[0] == 0
    # Nothing is left to do.
    assert retention.plan(database, policy, NOW).total == 0


def test_the_purge_goes_in_short_transactions_other_writers_slip_between(
    database, documents, tmp_path
):
    for _ in range(25):
        file_deposit(database, OLD)
    for _ in range(30):
        journal_row(database)
    database.execute("UPDATE api_journal SET at = ?", ["2026-01-01T00:00:00.000+00:00"])
    path = database.conn.execute("PRAGMA database_list").fetchone()[2]
    other = store.connect(path)
    other.conn.execute("PRAGMA busy_timeout = 0")  # fails at once if the purge held the lock
    slipped = []

    def between_batches():
        other.conn.execute("BEGIN IMMEDIATE")
        file_deposit(other, RECENT, "PENDANT LA PURGE")
        other.conn.execute("COMMIT")
        slipped.append(1)

    counts = retention.purge(database, retention.Policy(), documents, now=NOW, batch_size=10)
    assert counts.deposits == 25 and counts.journals["api_journal"] == 30
    counts = retention.purge(
        database, retention.Policy(), documents, now=NOW, batch_size=10, after_batch=None
    )
    assert counts.total == 0

    for _ in range(25):
        file_deposit(database, OLD)
    counts = retention.purge(
        database,
        retention.Policy(),
        documents,
        now=NOW,
        batch_size=10,
        after_batch=between_batches,
    )
    assert counts.deposits == 25
    # 3 batches of deposits, then one per journal: each released the write lock.
    assert len(slipped) == counts.batches == 6
    assert database.execute(
        "SELECT count(*) FROM deposits WHERE raison_sociale = 'PENDANT LA PURGE'"
    ).fetchone()[0] == len(slipped)
    other.conn.close()


def test_a_purge_that_fails_keeps_the_files_of_the_rows_it_kept(database, documents):
    ref = file_deposit(database, OLD)
    name = with_attestation(database, ref, documents)
    # The last statement of the batch fails (a trigger stands for any failure): the batch
    # rolls back, and the file of the attestation row it kept stays.
    database.execute(
        "CREATE TRIGGER refuse BEFORE DELETE ON deposits BEGIN SELECT RAISE(ABORT, 'non'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        retention.purge(database, retention.Policy(), documents, now=NOW)
    assert database.execute("SELECT count(*) FROM attestations").fetchone()[0] == 1
    assert (documents / name).exists()
