"""An online backup while applicants file (issue 10, durability): SQLite's backup API gives a
consistent copy holding every deposit acknowledged before it started, without stopping the
filings."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from decimal import Decimal

import pytest

from portail.storage import backup, deposits
from portail.storage import database as store

VALUES = {
    "siret": "73282932000074",
    "raison_sociale": "ASSOCIATION DES AMIS DU THÉÂTRE",
    "intitule_projet": "Saison culturelle",
    "email": "contact@example.org",
}


@pytest.fixture
def path(tmp_path):
    """A database with some volume, so that a backup takes a moment."""
    file = tmp_path / "portail.sqlite3"
    db = store.connect(file)
    store.migrate(db)
    filler = "x" * 2000
    with store.immediate(db):
        db.conn.executemany(
            "INSERT INTO deposits (ref, created_at, siret, raison_sociale, values_json) "
            "VALUES (?, '2026-01-01T00:00:00+00:00', '73282932000074', 'ANCIENNE', ?)",
            [(f"AIDE-2026-OLD-{number:06d}", filler) for number in range(10_000)],
        )
    db.conn.close()
    return file


def test_a_backup_during_filings_is_consistent_and_holds_every_acknowledged_deposit(path, tmp_path):
    acknowledged: list[tuple[float, str]] = []  # (when the filing returned, its reference)
    stop = threading.Event()
    errors: list[BaseException] = []

    def applicant() -> None:
        db = store.connect(path)
        try:
            while not stop.is_set():
                filed = deposits.file_deposit(db, VALUES, Decimal("1500"), None)
                acknowledged.append((time.monotonic(), filed.ref))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            db.conn.close()

    threads = [threading.Thread(target=applicant) for _ in range(3)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 20:  # filings under way before the backup starts
        time.sleep(0.005)
    started = time.monotonic()
    result = backup.backup(path, tmp_path / "copie.sqlite3")
    finished = time.monotonic()
    time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()

    assert errors == []
    before = {ref for moment, ref in acknowledged if moment < started}
    during = [ref for moment, ref in acknowledged if started <= moment < finished]
    copy = sqlite3.connect(result.path)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_copy = {
            row[0]
            for row in copy.execute(
                "SELECT ref FROM deposits WHERE ref LIKE 'AIDE-2026-%' AND ref NOT LIKE '%OLD%'"
            )
        }
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()
    assert before and before <= in_copy
    assert in_copy <= {ref for _moment, ref in acknowledged}
    # The applicants were not stopped: deposits were acknowledged while the copy was made.
    assert during, f"no filing during a {finished - started:.3f} s backup"
    assert result.deposits == 10_000 + len(in_copy)


def test_a_backup_is_one_private_file_and_never_replaces_another(tmp_path):
    path = tmp_path / "small.sqlite3"
    db = store.connect(path)
    store.migrate(db)
    db.conn.close()
    previous = os.umask(0o022)
    try:
        result = backup.backup(path, tmp_path)  # a folder: a dated name inside it
    finally:
        os.umask(previous)
    assert result.path.parent == tmp_path and result.path.name.startswith("portail-")
    assert os.stat(result.path).st_mode & 0o777 == 0o600
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert not result.path.with_name(result.path.name + "-wal").exists()

    with pytest.raises(backup.BackupError) as raised:
        backup.backup(path, result.path)
    assert "existe déjà" in raised.value.message
    with pytest.raises(backup.BackupError) as raised:
        backup.backup(path, tmp_path / "absent" / "copie.sqlite3")
    assert "n'existe pas" in raised.value.message
