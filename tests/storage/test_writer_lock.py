"""One writer at a time per database file in a process (storage.database.immediate): the
process's writers queue on a lock before BEGIN IMMEDIATE instead of sleeping in SQLite's
busy handler with a growing back-off (issue 10, H9). Figures: bench/filing_bench.py."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time

import pytest

from portail.storage import database as store
from tests.api_helpers import lookup, settings_on, valid_siret
from tests.fault_double import Reply

ETAB = "/v4/insee/sirene/etablissements/diffusibles/"


def _open(path, *, busy_timeout_ms: int | None = None):
    db = store.connect(path)
    if busy_timeout_ms is not None:
        db.conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    return db


@pytest.fixture
def path(tmp_path):
    file = tmp_path / "writers.sqlite3"
    db = store.connect(file)
    store.migrate(db)
    db.execute("CREATE TABLE writes (thread INTEGER, n INTEGER)")
    db.conn.close()
    return file


def _hammer(path, threads=8, writes=25, hold=0.002) -> list[Exception]:
    """`threads` connections, each writing `writes` short transactions that hold the write
    lock `hold` seconds; SQLite's busy handler is off (busy timeout 0), so any writer that
    reaches BEGIN IMMEDIATE while another holds SQLite's lock fails at once."""
    errors: list[Exception] = []
    start = threading.Barrier(threads)

    def writer(index: int) -> None:
        db = _open(path, busy_timeout_ms=0)
        start.wait()
        try:
            for n in range(writes):
                with store.immediate(db):
                    db.execute("INSERT INTO writes VALUES (?, ?)", (index, n))
                    time.sleep(hold)
        except sqlite3.OperationalError as exc:
            errors.append(exc)
        finally:
            db.conn.close()

    workers = [threading.Thread(target=writer, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_writers_of_one_process_queue_on_the_lock_not_on_sqlite(path):
    assert _hammer(path) == []
    db = store.connect(path)
    assert db.execute("SELECT count(*) FROM writes").fetchone()[0] == 8 * 25
    db.conn.close()


def test_without_the_lock_the_same_writers_collide_in_sqlite(path, monkeypatch):
    # The scenario above is contended: without the lock every writer but one meets SQLite's
    # lock, which (busy handler off) fails; with the default handler it sleeps instead.
    monkeypatch.setattr(store, "WRITER_LOCK_ENABLED", False)
    errors = _hammer(path)
    assert errors and all("locked" in str(error) for error in errors)


def test_every_connection_to_one_file_shares_one_lock(path, tmp_path, monkeypatch):
    link = tmp_path / "link.sqlite3"
    link.symlink_to(path)
    monkeypatch.chdir(tmp_path)
    first, second, third = store.connect(path), store.connect(link), store.connect(path.name)
    other = store.connect(tmp_path / "other.sqlite3")
    memory = store.connect(":memory:")
    try:
        assert store.writer_lock(first) is store.writer_lock(second) is store.writer_lock(third)
        assert store.writer_lock(other) is not store.writer_lock(first)
        assert store.writer_lock(memory) is not store.writer_lock(store.connect(":memory:"))
    finally:
        for db in (first, second, third, other, memory):
            db.conn.close()


def test_nested_use_joins_the_outer_transaction_and_releases_the_lock(path):
    db = store.connect(path)
    lock = store.writer_lock(db)
    with pytest.raises(RuntimeError), store.immediate(db):
        db.execute("INSERT INTO writes VALUES (1, 1)")
        with store.immediate(db):  # joins: no second BEGIN, no deadlock
            db.execute("INSERT INTO writes VALUES (1, 2)")
        raise RuntimeError("the outer block fails")
    assert db.execute("SELECT count(*) FROM writes").fetchone()[0] == 0  # all rolled back
    assert lock.acquire(blocking=False)  # released after the failure
    lock.release()
    with store.immediate(db):
        db.execute("INSERT INTO writes VALUES (2, 1)")
    assert db.execute("SELECT count(*) FROM writes").fetchone()[0] == 1
    db.conn.close()


def test_a_writer_waiting_too_long_gets_database_is_locked(path, monkeypatch):
    monkeypatch.setattr(store, "WRITER_LOCK_TIMEOUT", 0.2)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        db = store.connect(path)
        with store.immediate(db):
            holding.set()
            done.wait(5)
        db.conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    db = store.connect(path)
    started = time.monotonic()
    with (
        pytest.raises(sqlite3.OperationalError, match="database is locked"),
        store.immediate(db),
    ):
        pass
    assert 0.15 < time.monotonic() - started < 2
    done.set()
    holder.join()
    with store.immediate(db):  # free again
        db.execute("INSERT INTO writes VALUES (3, 1)")
    db.conn.close()


def _child_writes(path: str, results) -> None:
    db = store.connect(path)
    with store.immediate(db):
        db.execute("INSERT INTO writes VALUES (9, 9)")
    results.put(os.getpid())


def test_a_forked_child_does_not_inherit_a_lock_held_by_a_parent_thread(path, monkeypatch):
    monkeypatch.setattr(store, "WRITER_LOCK_TIMEOUT", 3.0)
    parent = store.connect(path)
    lock = store.writer_lock(parent)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another thread of the parent holds the lock across the fork
        with lock:
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    try:
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_child_writes, args=(str(path), results))
        child.start()
        child.join(10)
        assert child.exitcode == 0
        assert results.get(timeout=1) == child.pid
    finally:
        release.set()
        holder.join()
    assert parent.execute("SELECT count(*) FROM writes WHERE thread = 9").fetchone()[0] == 1
    parent.conn.close()


def test_the_gateway_never_holds_the_lock_while_the_api_answers(database, double, tmp_path):
    # The API takes 1.5 s; meanwhile another writer of the same file must not wait for it.
    double.on(ETAB, Reply(delay=1.5))
    conf = settings_on(double.url)
    path = database.execute("PRAGMA database_list").fetchone()[2]
    outcome: list = []
    lookup_thread = threading.Thread(
        target=lambda: outcome.append(
            lookup(database, conf, valid_siret(1, series=63), object_="lent", client="192.0.2.1")
        )
    )
    lookup_thread.start()
    deadline = time.monotonic() + 5
    while double.count(ETAB) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # the call has left: budget taken, the API is "thinking"
    other = store.connect(path)
    started = time.monotonic()
    with store.immediate(other):
        other.execute("CREATE TABLE IF NOT EXISTS side (x)")
    waited = time.monotonic() - started
    lookup_thread.join()
    other.conn.close()
    assert waited < 0.5, f"a writer waited {waited:.2f} s behind an API call"
    assert outcome[0].level == "ok"
