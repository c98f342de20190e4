"""Attestation rows (random ids, one deposit each, newest first) and their PDF files (0700
directory, 0600 files, atomic, random names, checked on reading)."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from datetime import date
from decimal import Decimal

import pytest

from portail.storage import attestations as store
from portail.storage import deposits

PDF = b"%PDF-1.4\n% test\n%%EOF\n"


def file(db, siret: str = "99912340900016") -> str:
    return deposits.file_deposit(db, {"siret": siret}, Decimal("100"), None).ref


def obtained(db, ref: str, kind: str = "vigilance", at: str | None = None, **facts):
    return store.record(
        db,
        deposit_ref=ref,
        kind=kind,
        siren="999123409",
        actor="alice",
        status=store.OBTAINED,
        at=at,
        **facts,
    )


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_row_keeps_the_providers_facts_under_a_random_id(database):
    ref = file(database)
    row = obtained(
        database,
        ref,
        delivered_on="2026-03-02",
        valid_until="2026-09-30",
        security_code="SBX999123409",
        file_name="a" * 32 + ".pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )
    assert store.is_attestation_id(row.id)
    assert store.get(database, ref, row.id) == row
    assert row.downloadable
    (listed,) = store.list_for_deposit(database, ref)
    assert listed == row
    assert (listed.valid_until, listed.actor, listed.status) == ("2026-09-30", "alice", "obtenue")


def test_ids_are_128_random_bits(database):
    ref = file(database)
    ids = {obtained(database, ref).id for _ in range(50)}
    assert len(ids) == 50
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)


def test_an_id_is_found_only_with_its_own_deposit(database):
    mine, other = file(database), file(database, "99923451100023")
    row = obtained(database, mine)
    assert store.get(database, other, row.id) is None
    assert store.get(database, mine, row.id.upper()) is None
    assert store.get(database, mine, "../" + row.id) is None
    assert store.get(database, mine, "") is None


def test_attempts_are_listed_newest_first_per_deposit(database):
    ref, other = file(database), file(database, "99923451100023")
    first = obtained(database, ref, "fiscale", at="2026-03-01T10:00:00+00:00")
    refused = store.record(
        database,
        deposit_ref=ref,
        kind="vigilance",
        siren="999123409",
        actor="bob",
        status=store.REFUSED,
        at="2026-03-02T10:00:00+00:00",
        message="L'Urssaf a refusé de délivrer l'attestation de vigilance : …",
    )
    obtained(database, other)
    assert [row.id for row in store.list_for_deposit(database, ref)] == [refused.id, first.id]
    assert not refused.downloadable


def test_unknown_statuses_kinds_and_deposits_are_refused(database):
    ref = file(database)
    with pytest.raises(ValueError):
        store.record(database, deposit_ref=ref, kind="vigilance", siren="1", actor="a", status="ok")
    with pytest.raises(sqlite3.IntegrityError):
        store.record(
            database, deposit_ref=ref, kind="kbis", siren="1", actor="a", status=store.FAILED
        )
    with pytest.raises(sqlite3.IntegrityError):
        store.record(
            database,
            deposit_ref="AIDE-0000-NONE",
            kind="fiscale",
            siren="1",
            actor="a",
            status=store.FAILED,
        )


def test_a_long_message_is_bounded(database):
    row = store.record(
        database,
        deposit_ref=file(database),
        kind="fiscale",
        siren="999123409",
        actor="alice",
        status=store.FAILED,
        message="x" * 5000,
    )
    assert len(store.list_for_deposit(database, row.deposit_ref)[0].message) == 2000


# -- files ------------------------------------------------------------------------------------


def test_a_document_is_written_0600_in_a_0700_directory_under_a_random_name(tmp_path):
    folder = tmp_path / "instance" / "documents"
    name = store.write_document(folder, PDF)
    assert mode(folder) == 0o700
    assert mode(folder / name) == 0o600
    assert (folder / name).read_bytes() == PDF
    assert len(name) == 36 and name.endswith(".pdf")
    assert store.write_document(folder, PDF) != name
    assert not [path for path in folder.iterdir() if path.name.endswith(".part")]


def test_a_loose_directory_is_tightened(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    store.write_document(folder, PDF)
    assert mode(folder) == 0o700


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    folder = tmp_path / "documents"

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.write_document(folder, PDF)
    assert list(folder.iterdir()) == []


def test_reading_checks_size_and_digest(database, tmp_path):
    folder = tmp_path / "documents"
    name = store.write_document(folder, PDF)
    row = obtained(
        database,
        file(database),
        file_name=name,
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )
    assert store.read_document(folder, row) == PDF

    (folder / name).write_bytes(PDF.replace(b"test", b"TEST"))  # same size, other bytes
    with pytest.raises(store.DocumentUnavailable):
        store.read_document(folder, row)
    (folder / name).unlink()
    with pytest.raises(store.DocumentUnavailable):
        store.read_document(folder, row)


def test_only_names_the_store_hands_out_are_read_or_removed(database, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_bytes(b"%PDF- not really")
    row = obtained(database, file(database), file_name="../secret_key", size=16, sha256="x")
    with pytest.raises(store.DocumentUnavailable):
        store.read_document(tmp_path / "documents", row)
    store.remove_document(tmp_path / "documents", "../secret_key")
    assert secret.exists()


def test_a_vigilance_past_its_last_valid_day_is_expired(database):
    ref = file(database)
    row = obtained(database, ref, valid_until="2026-06-30")
    assert not row.expired_on(date(2026, 6, 30))  # the last day still counts
    assert row.expired_on(date(2026, 7, 1))
    assert not obtained(database, ref, kind="fiscale").expired_on(date(2030, 1, 1))
