"""The one SQLite file: connections, write transactions, named migrations.

Every module reaches SQLite through sqlite-utils on a connection opened here. Writers use
`immediate()` (BEGIN IMMEDIATE with a busy timeout) so concurrent processes queue for the
write lock instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from portail.storage import migrations

BUSY_TIMEOUT_MS = 10_000


def utcnow() -> str:
    """Current UTC time as ISO 8601 with seconds, the format stored in every table."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# The database and the files SQLite keeps beside it hold personal data: owner only.
PRIVATE_FILE_MODE = 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _private_files(path: Path) -> None:
    """Create the database file 0600 (SQLite gives its -wal, -shm and -journal the mode of
    the database file), in a folder created 0700, whatever the umask; bring back to 0600
    the files an older version left readable by others."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process created it meanwhile
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for file in (path, *(path.with_name(path.name + side) for side in _SIDE_FILES)):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(PRIVATE_FILE_MODE)
        except FileNotFoundError:
            continue
        except OSError:  # another owner's file: SQLite will say what it can do with it
            continue


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database with the pragmas every connection needs."""
    if str(path) != ":memory:":
        _private_files(Path(path))
    # isolation_level=None: no implicit BEGIN from the sqlite3 module; transactions are
    # explicit (immediate() here, atomic() in sqlite-utils).
    conn = sqlite3.connect(
        str(path),
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # FULL sync makes an acknowledged commit durable even on power loss (a filed deposit
    # must never be lost). WAL mode is persistent in the file: migrate() sets it once.
    conn.execute("PRAGMA synchronous = FULL")
    # Deleted content is overwritten with zeros: a replaced token, a purged deposit do not
    # linger in free space for a copy of the file to reveal.
    conn.execute("PRAGMA secure_delete = ON")
    return sqlite_utils.Database(conn)


def fetch_all(db: sqlite_utils.Database, sql: str, params: tuple | list = ()) -> list[dict]:
    """The rows of a read as dicts, straight from the connection.

    sqlite-utils' `query()` wraps every read in a SAVEPOINT/RELEASE pair: two statements
    more per read, which the lookup path (five reads a call) pays in latency.
    """
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_one(db: sqlite_utils.Database, sql: str, params: tuple | list = ()) -> dict | None:
    """The first row of a read as a dict, or None."""
    rows = fetch_all(db, sql, params)
    return rows[0] if rows else None


@contextlib.contextmanager
def relaxed_durability(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """synchronous=NORMAL for the block: for rows whose loss on power failure harms nobody
    (caches, counters, refused-call notes). Never for deposits nor for the journal of data
    access.

    In WAL mode a NORMAL commit is still atomic, isolated and durable against a crash of the
    process; only a power loss may drop it, and the next FULL commit on the file syncs it.
    Inside an outer transaction the outer one's setting applies (a pragma cannot change it).
    """
    if db.conn.in_transaction:
        yield db
        return
    previous = db.conn.execute("PRAGMA synchronous").fetchone()[0]
    db.conn.execute("PRAGMA synchronous = NORMAL")
    try:
        yield db
    finally:
        db.conn.execute(f"PRAGMA synchronous = {int(previous)}")


# One writer at a time per database file in this process. SQLite's busy handler makes a
# waiting writer sleep with a growing back-off (1, 2, 5 ... 100 ms) before it retries, so
# under eight server threads a write holding the lock ~2 ms could wait up to ~2 s. Queued on
# this lock first, the next writer starts as soon as the previous one commits: under eight
# clients, filing p99 636 -> 122 ms and max 1.1 -> 0.34 s, throughput no lower (medians of
# 3 runs, bench/filing_bench.py). Other processes still queue on SQLite's own lock.
# Off only in the filing benchmark, to measure the difference.
WRITER_LOCK_ENABLED = True
WRITER_LOCK_TIMEOUT = BUSY_TIMEOUT_MS / 1000  # then "database is locked", as SQLite says

_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _forget_writer_locks() -> None:
    # A forked child must not inherit a lock held by one of its parent's threads.
    global _writer_locks_guard
    _writer_locks.clear()
    _writer_locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_writer_locks)


def writer_lock(db: sqlite_utils.Database) -> threading.RLock:
    """The lock every connection of this process to `db`'s file takes before BEGIN IMMEDIATE.

    Found by the file's real path (symbolic links and relative paths resolved) and kept on the
    Database object; an in-memory or temporary database has a lock of its own.
    """
    cached = getattr(db, "_portail_writer_lock", None)
    if cached is not None and cached[0] == os.getpid():
        return cached[1]
    row = db.conn.execute("PRAGMA database_list").fetchone()  # (seq, "main", file)
    path = os.path.realpath(row[2]) if row and row[2] else None
    if path is None:
        lock = threading.RLock()
    else:
        with _writer_locks_guard:
            lock = _writer_locks.setdefault(path, threading.RLock())
    db._portail_writer_lock = (os.getpid(), lock)
    return lock


@contextlib.contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Run a block in a write transaction taken at once (BEGIN IMMEDIATE).

    Nested use joins the outer transaction. sqlite-utils writes inside the block use
    savepoints, so they commit or roll back with it. The process's writers of one file queue
    on `writer_lock` first: keep the block short and never call the network inside it.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    lock = writer_lock(db) if WRITER_LOCK_ENABLED else None
    if lock is not None and not lock.acquire(timeout=WRITER_LOCK_TIMEOUT):
        raise sqlite3.OperationalError("database is locked")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
    finally:
        if lock is not None:
            lock.release()


def _migration_modules() -> list[tuple[str, object]]:
    """Named migrations: modules portail/migrations/mNNNN_name.py, applied in name order."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(migrations.__path__)
        if info.name.startswith("m") and info.name[1:5].isdigit()
    )
    return [(name, importlib.import_module(f"portail.storage.migrations.{name}")) for name in names]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet applied; idempotent. Returns the names applied now."""
    applied_now = []
    # WAL lets readers run during a write; the mode is stored in the file.
    db.conn.execute("PRAGMA journal_mode = WAL")
    with immediate(db):
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {row["name"] for row in db.query("SELECT name FROM _migrations")}
        rewrite = False
        for name, module in _migration_modules():
            if name in done:
                continue
            module.up(db)
            db["_migrations"].insert({"name": name, "applied_at": utcnow()})
            applied_now.append(name)
            rewrite = rewrite or getattr(module, "VACUUM_AFTER", False)
        if applied_now:
            # Fresh statistics for the planner: with several indexes able to serve a
            # filter, it picks the one that reads fewest rows (a table that is still
            # empty gets none, and the planner keeps its defaults).
            db.execute("ANALYZE")
    if rewrite:
        # A migration removed secrets (m0002: a plaintext token): rebuild the file so no
        # free page keeps them, then empty the WAL that received the rebuilt pages.
        db.conn.execute("VACUUM")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return applied_now
