"""Benchmark of filing under concurrency: the in-process writer lock against SQLite's busy
handler alone (issue 10, H9).

Run: .venv/bin/python bench/filing_bench.py [--seconds 5] [--runs 3] [--clients 8]

The real app served by waitress (8 threads, as in production) in one process, or in two
processes on the same database file; 8 concurrent keep-alive clients (threads of this
process), each with its own session and CSRF token, filing complete deposits
(`POST /demande`, answered 303) for `--seconds`. Each configuration runs `--runs` times, on
a fresh database each time, configurations interleaved so that the machine's noise falls on
all of them alike. It prints, per configuration, the min / median / max over the runs of:
deposits per second, and the p50, p99 and max filing latency (ms) of each run.

"lock" is `storage.database.immediate` as shipped (one writer per file in a process queues
on a lock before BEGIN IMMEDIATE); "no lock" turns it off in the server processes (a switch
for this benchmark only), leaving the waiting to SQLite's busy handler and its back-off.
Filing limits per address are off: the clients file far faster than people do.
"""

from __future__ import annotations

import argparse
import http.client
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.applicant.htmx_helpers import complete_form  # noqa: E402 - after the path is set

SERVER_THREADS = 8
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the server process --------------------------------------------------------------------


def serve(port: int, path: str, writer_lock: bool) -> None:
    """The real app under waitress, as in production, with or without the writer lock."""
    import logging

    import waitress

    from app import create_app
    from portail.storage import database

    database.WRITER_LOCK_ENABLED = writer_lock
    logging.disable(logging.WARNING)
    app = create_app(
        {
            "DATABASE": path,
            "SECRET_KEY": "bench",
            "DEMO_ADMIN": False,
            "FILING_LIMIT_PER_MINUTE": 0,
            "FILING_LIMIT_PER_DAY": 0,
        }
    )
    waitress.serve(
        app,
        host="127.0.0.1",
        port=port,
        threads=SERVER_THREADS,
        ident="bench",
        clear_untrusted_proxy_headers=False,
        _quiet=True,
    )


def start_server(path: str, writer_lock: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = [sys.executable, __file__, "--serve", str(port), "--db", path]
    if not writer_lock:
        argv.append("--no-writer-lock")
    process = subprocess.Popen(argv, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return process, port
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.05)
    raise SystemExit(f"nothing answers on port {port}")


# -- the clients ---------------------------------------------------------------------------


def client(port: int, index: int, stop: threading.Event, samples: list, errors: list) -> None:
    """One applicant's browser filing deposits back to back; latencies in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    address = {"X-Forwarded-For": f"192.0.2.{index + 1}"}
    connection.request("GET", "/demande", headers=address)
    answer = connection.getresponse()
    page = answer.read().decode()
    cookie = "; ".join(
        value.split(";", 1)[0] for name, value in answer.getheaders() if name == "Set-Cookie"
    )
    headers = {
        **address,
        "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    form = complete_form(_TOKEN.search(page).group(1))
    number = 0
    while not stop.is_set():
        form["intitule_projet"] = f"Projet {index}-{number}"
        body = urlencode(form)
        started = time.perf_counter()
        connection.request("POST", "/demande", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status != 303:
            errors.append(answer.status)
        else:
            samples.append((time.monotonic(), elapsed))
        number += 1
    connection.close()


def one_run(processes: int, writer_lock: bool, clients: int, seconds: float) -> dict:
    """Filing for `seconds` (after a 1 s warm-up) against 1 or 2 server processes."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "filing.sqlite3")
        servers = [start_server(path, writer_lock) for _ in range(processes)]
        try:
            stop = threading.Event()
            samples: list = []
            errors: list = []
            threads = [
                threading.Thread(
                    target=client,
                    args=(servers[index % processes][1], index, stop, samples, errors),
                )
                for index in range(clients)
            ]
            for thread in threads:
                thread.start()
            time.sleep(1.0)
            begin = time.monotonic()
            time.sleep(seconds)
            end = time.monotonic()
            stop.set()
            for thread in threads:
                thread.join()
        finally:
            for process, _port in servers:
                process.terminate()
                process.wait(10)
    kept = sorted(ms for at, ms in samples if begin <= at <= end)
    if errors or not kept:
        raise SystemExit(f"filing failed: {errors[:5]}")
    return {
        "deposits/s": len(kept) / (end - begin),
        "p50 ms": statistics.median(kept),
        "p99 ms": kept[min(len(kept) - 1, round(0.99 * (len(kept) - 1)))],
        "max ms": kept[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--no-writer-lock", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.db, writer_lock=not args.no_writer_lock)
        return

    configurations = [(p, lock) for p in (1, 2) for lock in (True, False)]
    results: dict = {c: [] for c in configurations}
    for run in range(args.runs):
        for processes, lock in configurations:
            result = one_run(processes, lock, args.clients, args.seconds)
            results[(processes, lock)].append(result)
            print(
                f"run {run + 1}: {processes} process(es), {'lock' if lock else 'no lock'}: "
                + ", ".join(f"{k} {v:.1f}" for k, v in result.items()),
                flush=True,
            )
    print(
        f"\nFiling, {args.clients} clients, {args.seconds:g} s per run, {args.runs} runs: "
        "min / median / max over runs"
    )
    for processes, lock in configurations:
        print(f"\n{processes} process(es), {'writer lock' if lock else 'no writer lock'}:")
        for metric in ("deposits/s", "p50 ms", "p99 ms", "max ms"):
            values = [result[metric] for result in results[(processes, lock)]]
            print(
                f"  {metric:<11} {min(values):8.1f} {statistics.median(values):8.1f} "
                f"{max(values):8.1f}"
            )


if __name__ == "__main__":
    main()
