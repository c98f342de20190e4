"""Benchmark of the SIRET lookup: what the portal adds to API Entreprise's own latency.

Run: .venv/bin/python bench/lookup_bench.py [--samples 400] [--seconds 5]

Three processes on loopback: a zero-latency API double (tests/fault_double.py), the real
app served by waitress (8 threads), and this client. It prints:

- upstream latency: a GET straight to the double (what the API itself costs here);
- lookup latency, cache off: `GET /demande/tiers?siret=...` with htmx headers, every lookup
  calling the double; the portal's added latency is this minus the upstream latency;
- the same at the service level (`lookup_public_tiers` in-process, no HTTP in front);
- cache-hit latency: the same route answered from the SQLite cache (and the service alone);
- throughput with 8 concurrent clients: cache-hit lookups/s next to /healthz/s.

Targets (issue 4): added latency < 3 ms median and < 15 ms p99; cache hit < 3 ms median;
cache-hit throughput >= 40 % of /healthz's.

The rate budget (200 calls/min) would refuse most of the cache-off samples: between
batches of 150 the bench empties the budget's call log in the database, so every sample
pays the real cost of the budget check without being refused.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECIPIENT = "21999001700010"
BATCH = 150


def luhn_siret(number: int) -> str:
    """A valid SIRET (Luhn on the SIREN and on the whole number) built from a number."""
    from stdnum import luhn

    siren = f"{99_000_000 + number // 1000:08d}"
    siren += luhn.calc_check_digit(siren)
    body = f"{siren}{number % 1000:04d}"
    return body + luhn.calc_check_digit(body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


# -- child processes -----------------------------------------------------------------------


def run_double(port_queue) -> None:
    """The zero-latency API double, in its own process."""
    from tests.fault_double import FaultDouble

    double = FaultDouble().start()
    port_queue.put(urlsplit(double.url).port)
    threading.Event().wait()


def prepare_database(path: str, api_url: str) -> None:
    """Point the portal's settings at the double."""
    from app import create_app
    from portail.core.tokens import mint_token
    from portail.storage import database, settings

    create_app(
        {
            "DATABASE": path,
            "SECRET_KEY": "bench",
            "EXTRA_API_BASE_URLS": [api_url],
            "DEMO_ADMIN": False,
        }
    )
    db = database.connect(path)
    settings.save(
        db,
        {
            "enabled": True,
            "api_url": api_url,
            "recipient_siret": RECIPIENT,
            "token": mint_token(["open_data"]),
            "context": "Benchmark",
        },
        actor="bench",
    )
    db.conn.close()


def run_portal(path: str, api_url: str, port: int, cache_seconds: int) -> None:
    """The real app under waitress, in its own process."""
    import logging

    import waitress

    from app import create_app

    logging.disable(logging.WARNING)
    app = create_app(
        {
            "DATABASE": path,
            "SECRET_KEY": "bench",
            "EXTRA_API_BASE_URLS": [api_url],
            "DEMO_ADMIN": False,
            "LOOKUP_CACHE_SECONDS": cache_seconds,
            "LOOKUP_NEGATIVE_CACHE_SECONDS": cache_seconds,
            # Every sample comes from one address: a share this large is never reached,
            # but its check still runs, so its cost is measured.
            "RATE_BUDGET_PER_CLIENT_PER_MINUTE": 1_000_000,
        }
    )
    waitress.serve(app, host="127.0.0.1", port=port, threads=8, ident="bench", _quiet=True)


# -- measuring -----------------------------------------------------------------------------


class Client:
    """A keep-alive HTTP/1.1 client with as little overhead as Python allows."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        self.connection.request("GET", path, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.read()


HTMX = {"HX-Request": "true", "HX-Target": "tiers-block"}


def process_cpu_ms(pid: int) -> float | None:
    """User + system CPU time of a process so far (ms), from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_per_call(pid: int, function, samples: int) -> tuple[list[float], float | None]:
    """`timed(function, samples)` and the process's CPU ms per call meanwhile."""
    before = process_cpu_ms(pid)
    durations = timed(function, samples)
    after = process_cpu_ms(pid)
    return durations, None if before is None or after is None else (after - before) / samples


def timed(function, samples: int) -> list[float]:
    """Milliseconds per call."""
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        function()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def quantiles(durations: list[float]) -> tuple[float, float]:
    ordered = sorted(durations)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return median, p99


def reset_budget(path: str) -> None:
    from portail.storage import database

    db = database.connect(path)
    with database.immediate(db):
        db.execute("DELETE FROM rate_budget_calls")
    db.conn.close()


def throughput(port: int, path: str, headers: dict, seconds: float, clients: int = 8) -> float:
    """Requests per second with `clients` concurrent keep-alive connections."""
    counts = [0] * clients
    stop = threading.Event()
    errors = []

    def worker(index):
        client = Client(port)
        while not stop.is_set():
            status, _body = client.get(path, headers)
            if status != 200:
                errors.append(status)
            counts[index] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # warm-up
    start_counts = sum(counts)
    started = time.perf_counter()
    time.sleep(seconds)
    done = sum(counts) - start_counts
    elapsed = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} non-200 answers during the throughput run: {errors[:5]}")
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    spawn = multiprocessing.get_context("spawn")
    port_queue = spawn.Queue()
    double = spawn.Process(target=run_double, args=(port_queue,), daemon=True)
    double.start()
    double_port = port_queue.get(timeout=20)
    api_url = f"http://127.0.0.1:{double_port}"
    workdir = tempfile.mkdtemp(prefix="portail-bench-")
    portals = []
    try:
        sirets = [luhn_siret(n) for n in range(args.samples)]
        route = ROUTE = "/v4/insee/sirene/etablissements/diffusibles/"
        params = f"?recipient={RECIPIENT}&context=Benchmark&object=bench"

        # 1. Upstream alone.
        upstream = Client(double_port)
        for siret in sirets[:50]:
            upstream.get(route + siret + params)
        cycle = iter(sirets * 2)
        up = timed(lambda: upstream.get(ROUTE + next(cycle) + params), args.samples)

        # 2. Service level, in-process, cache off.
        service_db = os.path.join(workdir, "service.sqlite3")
        prepare_database(service_db, api_url)
        from portail.apientreprise.gateway import Gateway
        from portail.apientreprise.policy import GatewayPolicy
        from portail.applicant.prefill import lookup_public_tiers
        from portail.storage import database, settings

        db = database.connect(service_db)
        conf = settings.load(db)
        uncached = Gateway(GatewayPolicy(cache_seconds=0, negative_cache_seconds=0))
        service = []
        for start in range(0, args.samples, BATCH):
            reset_budget(service_db)
            chunk = iter(sirets[start : start + BATCH])

            def one(chunk=chunk):
                outcome = lookup_public_tiers(uncached, db, conf, next(chunk), object_="bench")
                assert outcome.level == "ok", outcome.message

            service += timed(one, len(sirets[start : start + BATCH]))
        cached = Gateway(GatewayPolicy())
        lookup_public_tiers(cached, db, conf, sirets[0], object_="bench")
        service_hits = timed(
            lambda: lookup_public_tiers(cached, db, conf, sirets[0], object_="bench"),
            args.samples,
        )
        db.conn.close()

        # 3. Through the route, cache off.
        off_db = os.path.join(workdir, "off.sqlite3")
        prepare_database(off_db, api_url)
        off_port = free_port()
        portal = spawn.Process(target=run_portal, args=(off_db, api_url, off_port, 0), daemon=True)
        portal.start()
        portals.append(portal)
        wait_for_port(off_port)
        client = Client(off_port)
        for siret in sirets[:20]:  # warm-up (imports, templates, connections)
            reset_budget(off_db)
            client.get(f"/demande/tiers?siret={siret}", HTMX)
        healthz, cpu_healthz = cpu_per_call(
            portal.pid, lambda: client.get("/healthz"), args.samples
        )
        route_off = []
        cpu_off = 0.0  # ms of the portal's CPU over every cache-off lookup
        for start in range(0, args.samples, BATCH):
            reset_budget(off_db)
            chunk = iter(sirets[start : start + BATCH])

            def call(chunk=chunk):
                status, body = client.get(f"/demande/tiers?siret={next(chunk)}", HTMX)
                assert status == 200 and "DOUBLE DE TEST" in body.decode(), body[:300]

            durations, cpu = cpu_per_call(portal.pid, call, len(sirets[start : start + BATCH]))
            route_off += durations
            cpu_off = None if cpu is None or cpu_off is None else cpu_off + cpu * len(durations)

        # 4. Through the route, cache on: hits.
        on_db = os.path.join(workdir, "on.sqlite3")
        prepare_database(on_db, api_url)
        on_port = free_port()
        portal = spawn.Process(
            target=run_portal, args=(on_db, api_url, on_port, 86400), daemon=True
        )
        portal.start()
        portals.append(portal)
        wait_for_port(on_port)
        client = Client(on_port)
        hot = sirets[:8]
        for siret in hot:
            client.get(f"/demande/tiers?siret={siret}", HTMX)
        hot_cycle = iter(hot * args.samples)
        hits, cpu_hit = cpu_per_call(
            portal.pid,
            lambda: client.get(f"/demande/tiers?siret={next(hot_cycle)}", HTMX),
            args.samples,
        )
        healthz_on = timed(lambda: client.get("/healthz"), args.samples)

        # 5. Throughput, 8 concurrent clients, same server.
        hit_rate = throughput(on_port, f"/demande/tiers?siret={hot[0]}", HTMX, args.seconds)
        health_rate = throughput(on_port, "/healthz", {}, args.seconds)

        up_med, up_p99 = quantiles(up)
        off_med, off_p99 = quantiles(route_off)
        svc_med, svc_p99 = quantiles(service)
        hit_med, hit_p99 = quantiles(hits)
        svc_hit_med, svc_hit_p99 = quantiles(service_hits)
        hz_med, hz_p99 = quantiles(healthz)
        hz2_med, _ = quantiles(healthz_on)
        added = [value - up_med for value in route_off]
        added_med, added_p99 = quantiles(added)
        svc_added_med, svc_added_p99 = quantiles([value - up_med for value in service])

        def verdict(ok: bool) -> str:
            return "OK" if ok else "MISSED"

        print(f"\nLookup benchmark ({args.samples} samples, {os.cpu_count()} CPU)")
        print(
            f"  upstream alone (GET to the double)   median {up_med:6.2f} ms   p99 {up_p99:6.2f} ms"
        )
        print(
            f"  /healthz                             median {hz_med:6.2f} ms   p99 {hz_p99:6.2f} ms"
        )
        print(
            f"  lookup route, cache off              median {off_med:6.2f} ms   "
            f"p99 {off_p99:6.2f} ms"
        )
        print(
            f"  lookup service in-process, cache off median {svc_med:6.2f} ms   "
            f"p99 {svc_p99:6.2f} ms"
        )
        print(
            f"  portal's added latency (route)       median {added_med:6.2f} ms   "
            f"p99 {added_p99:6.2f} ms   [{verdict(added_med < 3 and added_p99 < 15)}: <3 / <15]"
        )
        print(
            f"  added latency (service only)         median {svc_added_med:6.2f} ms   "
            f"p99 {svc_added_p99:6.2f} ms"
        )
        print(
            f"  cache hit (route)                    median {hit_med:6.2f} ms   "
            f"p99 {hit_p99:6.2f} ms   [{verdict(hit_med < 3)}: <3]   (/healthz {hz2_med:.2f} ms)"
        )
        print(
            f"  cache hit (service only)             median {svc_hit_med:6.2f} ms   "
            f"p99 {svc_hit_p99:6.2f} ms"
        )
        ratio = hit_rate / health_rate
        print(
            f"  8 clients: cache-hit lookups {hit_rate:7.0f}/s, /healthz {health_rate:7.0f}/s, "
            f"ratio {ratio:.0%}   [{verdict(ratio >= 0.4)}: >=40%]"
        )
        if cpu_hit is not None and cpu_off is not None:
            print(
                f"  portal CPU per request: lookup cache off {cpu_off / len(route_off):.2f} ms, "
                f"cache hit {cpu_hit:.2f} ms, /healthz {cpu_healthz:.2f} ms\n"
            )
    finally:
        for portal in portals:
            portal.terminate()
        double.terminate()


if __name__ == "__main__":
    main()
