"""What `PRAGMA secure_delete = ON` (storage/database.connect) costs on the portal's hottest
writes: one transaction per lookup that notes the call in the rate budget, forgets the calls
older than a minute and appends a journal row (the gateway's pattern), and the purge's
batched deletes. Prints min/median/max over runs, ON and OFF.

Measured on the shared 2-core machine, 3 runs (ms per lookup-like transaction, median of
2,000; s to purge 50,000 journal rows): ON 0.271/0.277/3.987 ms and 0.218/0.370/0.378 s,
OFF 0.265/0.278/0.552 ms and 0.314/0.351/0.459 s: no cost above the noise.

    .venv/bin/python bench/secure_delete_bench.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portail.storage import database as store  # noqa: E402

RUNS = 3
LOOKUPS = 2000
ROWS = 50_000


def lookups(db) -> float:
    """Seconds per lookup-like write transaction (median of LOOKUPS)."""
    times = []
    for number in range(LOOKUPS):
        now = 1e9 + number * 0.05  # 20 calls a second: 1,200 rows live in the window
        started = time.perf_counter()
        with store.immediate(db):
            db.conn.execute(
                "INSERT INTO rate_budget_calls (bucket, at, client) VALUES ('json', ?, 'ip:x')",
                (now,),
            )
            db.conn.execute(
                "DELETE FROM rate_budget_calls WHERE bucket = 'json' AND at < ?", (now - 60,)
            )
            db.conn.execute(
                "INSERT INTO api_journal (at, route, target, status, source) "
                "VALUES ('2026-01-01T00:00:00.000+00:00', '/v4/x', '12345678900011', 200, 'api')"
            )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def purge(db) -> float:
    """Seconds to delete ROWS journal rows in batches of 500."""
    db.conn.executemany(
        "INSERT INTO api_journal (at, route, target, status, source) "
        "VALUES (?, '/v4/x', ?, 200, 'api')",
        [("2020-01-01T00:00:00.000+00:00", f"{n:014d}") for n in range(ROWS)],
    )
    started = time.perf_counter()
    while True:
        with store.immediate(db):
            deleted = db.conn.execute(
                "DELETE FROM api_journal WHERE id IN (SELECT id FROM api_journal "
                "WHERE at < '2021-01-01' ORDER BY at LIMIT 500)"
            ).rowcount
        if deleted < 500:
            return time.perf_counter() - started


def main() -> None:
    results: dict[str, dict[str, list[float]]] = {}
    for _run in range(RUNS):
        for mode in ("ON", "OFF"):
            with tempfile.TemporaryDirectory() as folder:
                db = store.connect(Path(folder) / "bench.sqlite3")
                store.migrate(db)
                db.conn.execute(f"PRAGMA secure_delete = {mode}")
                figures = results.setdefault(mode, {"lookup_ms": [], "purge_s": []})
                figures["lookup_ms"].append(lookups(db) * 1000)
                figures["purge_s"].append(purge(db))
                db.conn.close()
    for mode, figures in results.items():
        for name, values in figures.items():
            print(
                f"secure_delete={mode:3} {name:9} min {min(values):.3f}  "
                f"median {statistics.median(values):.3f}  max {max(values):.3f}"
            )


if __name__ == "__main__":
    main()
