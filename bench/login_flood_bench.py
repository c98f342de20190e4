"""Benchmark: the applicant's latency while a flood of logins hits the admin login page.

Run: .venv/bin/python bench/login_flood_bench.py [--runs 3] [--seconds 4] [--slots N]

Each run builds a fresh portal (demonstration, built-in sandbox in process, production
password cost: scrypt N=2**17), serves it with waitress on loopback (8 threads, one declared
proxy: TRUSTED_PROXIES=1), then, on two keep-alive connections opened beforehand, times
`GET /demande` and a cache-hit lookup (`GET /demande/tiers?siret=...` with htmx headers)
alternately: first quiet, then while 64 addresses × 3 attackers (another process, through
X-Forwarded-For) send their logins all at once every second, ignoring Retry-After
(tests/auth/login_flood.py). It prints p50 and p99 per run, quiet and flooded in the same
run, then min/median/max over the runs, and what the flood was answered.

`--slots` sets LOGIN_HASH_SLOTS (default: one per two cores, 1 or 2); `--slots 1000` takes
the bound away (one check per address still) and shows the stall the bound prevents:
waiting checks hold every server thread. Requests over 10 s count as 10 s.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portail.auth import hashing  # noqa: E402 - after the path is set
from portail.core import passwords  # noqa: E402
from portail.storage import accounts, database  # noqa: E402
from tests.admin_helpers import PASSWORD, USERNAME, make_app  # noqa: E402
from tests.auth.login_flood import flood, probe, serve  # noqa: E402

PATHS = ("form", "lookup")
LABELS = {"form": "GET /demande", "lookup": "lookup (cache hit)"}


def one_run(folder: Path, seconds: float, slots: int | None) -> tuple[dict, Counter, int]:
    config = {"PASSWORD_SCRYPT_N": None, "TRUSTED_PROXIES": 1}
    if slots:
        config["LOGIN_HASH_SLOTS"] = slots
    app = make_app(folder, **config)
    db = database.connect(app.config["DATABASE"])
    accounts.create(db, USERNAME, PASSWORD, passwords.params_for(None))
    db.conn.close()
    with serve(app) as base, probe(base) as applicant:
        quiet = applicant.measure(seconds)
        with flood(base, addresses=64, per_address=3, interval=1.0) as running:
            loaded = applicant.measure(seconds)
            statuses = running.stop()
    figures = {}
    for name in PATHS:
        figures[name] = {
            "quiet": (quiet[name].p50, quiet[name].p99, len(quiet[name].samples)),
            "flood": (loaded[name].p50, loaded[name].p99, len(loaded[name].samples)),
        }
    return figures, statuses, app.extensions[hashing.EXTENSION].slots


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--slots", type=int, default=None)
    args = parser.parse_args()
    # waitress warns at every queued task and at its connection limit during a burst: the
    # figures say it better.
    logging.getLogger("waitress").setLevel(logging.ERROR)

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(args.runs):
            started = time.monotonic()
            figures, statuses, slots = one_run(Path(tmp) / f"run{number}", args.seconds, args.slots)
            runs.append(figures)
            print(f"run {number + 1} ({time.monotonic() - started:.0f} s, {slots} slot(s)):")
            for name in PATHS:
                quiet, loaded = figures[name]["quiet"], figures[name]["flood"]
                print(
                    f"  {LABELS[name]:20} quiet p50 {ms(quiet[0])} p99 {ms(quiet[1])} "
                    f"(n={quiet[2]})  flood p50 {ms(loaded[0])} p99 {ms(loaded[1])} "
                    f"(n={loaded[2]})  p99 ratio {loaded[1] / quiet[1]:.1f}"
                )
            answered = ", ".join(
                f"{code}: {count}" for code, count in sorted(statuses.items(), key=str)
            )
            print(f"  flood answered: {answered}")

    print(f"\nover {args.runs} runs, min / median / max:")
    for name in PATHS:
        for phase in ("quiet", "flood"):
            for index, label in ((0, "p50"), (1, "p99")):
                values = [run[name][phase][index] for run in runs]
                print(
                    f"  {LABELS[name]:20} {phase:5} {label}  {ms(min(values))} "
                    f"{ms(statistics.median(values))} {ms(max(values))}"
                )


if __name__ == "__main__":
    main()
