"""Benchmark of the admin lists at the size they will reach: /admin/demandes on 100,000
deposits and /admin/journal on 1,000,000 journal rows over 36 months.

Run: .venv/bin/python bench/admin_bench.py [--runs 5] [--rebuild] [--no-export]

The database is built once (bench/admin_bench_data.py, ~1 min) and cached under /tmp; each
run works on a copy. Every page variant is requested through the Flask test client with a
logged-in admin (the whole view: parsing, queries, template), `--runs` times, and printed
as min / median / max milliseconds. Then the CSV exports: throughput, and the memory they
hold (tracemalloc's peak of Python allocations during one export, and the process's RSS
growth).

Target (issue 9): every page under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import admin_bench_data  # noqa: E402

from portail.storage import database  # noqa: E402
from tests.admin_helpers import logged_in, make_app  # noqa: E402


def rss_mib() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def variants(db) -> list[tuple[str, str]]:
    """(label, URL) of every page variant, with cursors taken from the data."""

    def deep_id(sql: str) -> int:
        return db.conn.execute(sql).fetchone()[0]

    deposit_mid = deep_id(
        "SELECT id FROM deposits ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 50000"
    )
    journal_mid = deep_id(
        "SELECT id FROM api_journal ORDER BY at DESC, id DESC LIMIT 1 OFFSET 500000"
    )
    two_xx_mid = deep_id(
        "SELECT id FROM api_journal WHERE source = 'api' AND status BETWEEN 200 AND 299 "
        "ORDER BY at DESC, id DESC LIMIT 1 OFFSET 400000"
    )
    ref, siret = db.conn.execute("SELECT ref, siret FROM deposits WHERE id = 77777").fetchone()
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    d, j = "/admin/demandes", "/admin/journal"
    return [
        ("deposits: first page, unfiltered", d),
        ("deposits: keyset page at row 50,000 (apres=)", f"{d}?apres={deposit_mid}&page=1001"),
        ("deposits: keyset page before row 50,000 (avant=)", f"{d}?avant={deposit_mid}&page=1000"),
        ("deposits: ?page=200 (largest numbered page)", f"{d}?page=200"),
        ("deposits: name, common words (école musique)", f"{d}?q=%C3%A9cole+musique"),
        ("deposits: name, rare (harmonie sète)", f"{d}?q=harmonie+s%C3%A8te"),
        ("deposits: name, no match (zzzz)", f"{d}?q=zzzz"),
        ("deposits: SIRET typed with spaces", f"{d}?q={spaced.replace(' ', '+')}"),
        ("deposits: SIREN", f"{d}?q={siret[:9]}"),
        ("deposits: reference", f"{d}?q={ref}"),
        ("deposits: reference prefix (first group)", f"{d}?q={ref[:14]}"),
        ("deposits: reference prefix (AIDE-2025-7)", f"{d}?q=AIDE-2025-7"),
        ("deposits: one month", f"{d}?du=2025-06-01&au=2025-06-30"),
        ("deposits: one year", f"{d}?du=2025-01-01&au=2025-12-31"),
        ("deposits: certified = écarts", f"{d}?verification=differences"),
        ("deposits: certified = non vérifiée (capped count)", f"{d}?verification=non-verifiee"),
        (
            "deposits: name + year + écarts",
            f"{d}?q=club&du=2025-01-01&au=2025-12-31&verification=differences",
        ),
        ("journal: first page, unfiltered", j),
        ("journal: keyset page at row 500,000 (apres=)", f"{j}?apres={journal_mid}&page=10001"),
        ("journal: keyset page before row 500,000 (avant=)", f"{j}?avant={journal_mid}&page=10000"),
        ("journal: ?page=200 (largest numbered page)", f"{j}?page=200"),
        ("journal: 2xx (capped count)", f"{j}?statut=2xx"),
        ("journal: 2xx, keyset at row 400,000", f"{j}?statut=2xx&apres={two_xx_mid}&page=8001"),
        ("journal: erreur", f"{j}?statut=erreur"),
        ("journal: cache", f"{j}?statut=cache"),
        ("journal: transport", f"{j}?statut=transport"),
        ("journal: refuse", f"{j}?statut=refuse"),
        ("journal: 404", f"{j}?statut=404"),
        ("journal: 429", f"{j}?statut=429"),
        ("journal: SIRET", f"{j}?siret={siret}"),
        ("journal: SIREN", f"{j}?siret={siret[:9]}"),
        ("journal: one month", f"{j}?du=2025-06-01&au=2025-06-30"),
        ("journal: one year", f"{j}?du=2025-01-01&au=2025-12-31"),
        ("journal: one year + 2xx", f"{j}?du=2025-01-01&au=2025-12-31&statut=2xx"),
        ("journal: one year + erreur", f"{j}?du=2025-01-01&au=2025-12-31&statut=erreur"),
        ("journal: SIRET + one year", f"{j}?siret={siret}&du=2025-01-01&au=2025-12-31"),
    ]


def time_pages(client, pages, runs: int) -> list[tuple[str, list[float], str]]:
    results = []
    for label, url in pages:
        client.get(url)  # warm the page cache and the template
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        status = response.get_data(as_text=True).split('role="status" aria-live="polite">')[1]
        results.append((label, samples, status.split("</p>")[0][:60]))
    return results


def time_export(client, url: str, runs: int) -> dict[str, float]:
    def one() -> int:
        response = client.get(url, buffered=False)
        size = sum(len(chunk) for chunk in response.iter_encoded())
        response.close()
        return size

    seconds = []
    size = 0
    rss_before = rss_mib()
    for _ in range(runs):
        started = time.perf_counter()
        size = one()
        seconds.append(time.perf_counter() - started)
    rss_after = rss_mib()
    tracemalloc.start()
    one()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    best = min(seconds)
    return {
        "size (MiB)": size / 2**20,
        "time min/median/max (s)": (best, statistics.median(seconds), max(seconds)),
        "throughput at median (MiB/s)": size / 2**20 / statistics.median(seconds),
        "peak Python allocations (MiB, tracemalloc)": peak / 2**20,
        "RSS growth over the runs (MiB)": rss_after - rss_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()
    path, build_figures = admin_bench_data.ready_database(fresh=args.rebuild)
    for label, seconds in build_figures.items():
        print(f"build: {label}: {seconds:.1f}")
    db = database.connect(path)
    pages = variants(db)
    db.conn.close()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), DATABASE=str(path))
        auth = logged_in(app)
        print(f"\n{'page':<52} {'min':>7} {'median':>7} {'max':>7}  (ms, {args.runs} runs)  count")
        for label, samples, status in time_pages(auth.client, pages, args.runs):
            print(
                f"{label:<52} {min(samples):7.1f} {statistics.median(samples):7.1f} "
                f"{max(samples):7.1f}  {status}"
            )
        if args.no_export:
            return
        for label, url in (
            ("deposits CSV, all 100,000", "/admin/demandes?format=csv"),
            ("journal CSV, all 1,000,000 rows", "/admin/journal?format=csv"),
        ):
            print(f"\n{label}")
            for name, value in time_export(auth.client, url, args.export_runs).items():
                shown = (
                    "/".join(f"{v:.2f}" for v in value)
                    if isinstance(value, tuple)
                    else f"{value:.1f}"
                )
                print(f"  {name}: {shown}")


if __name__ == "__main__":
    main()
