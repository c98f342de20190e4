"""A login flood against the real portal, and the applicant's latency measured meanwhile.

Shared by tests/auth/test_login_flood.py (a generous bound) and bench/login_flood_bench.py
(the figures). The portal is served by waitress on loopback with the production's 8 threads;
the flood runs in a process of its own (an attacker is another machine: its threads must not
take the server's interpreter lock), `per_address` threads per simulated address, each
sending logins back to back, ignoring Retry-After, through the portal's declared proxy
(X-Forwarded-For, TRUSTED_PROXIES=1).
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
import waitress

DEMO_SIRET = "99912340900016"  # the sandbox's head office: found, open data
HX = {"HX-Request": "true", "HX-Target": "tiers-block", "HX-Trigger": "f-siret"}
LOOKUP = f"/demande/tiers?siret={DEMO_SIRET}"
FOUND = "Informations publiques trouvées"
SERVER_THREADS = 8
# A request that takes longer is counted at this value (the bug made them wait 36 s).
REQUEST_TIMEOUT = 10.0

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def serve(app, threads: int = SERVER_THREADS) -> Iterator[str]:
    """Serve the app with waitress on 127.0.0.1 (ephemeral port), as in production behind
    the proxy: X-Forwarded-For is left to the app (`--no-clear-untrusted-proxy-headers`)."""
    server = waitress.create_server(
        app, host="127.0.0.1", port=0, threads=threads, clear_untrusted_proxy_headers=False
    )
    thread = threading.Thread(target=server.run, name="waitress-flood", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def flood_address(number: int) -> str:
    """The number-th simulated address (198.18.0.0/15 is reserved for benchmarks)."""
    return f"198.18.{number // 250}.{number % 250 + 1}"


def _attacker(base, address, username, interval, ready, stop, results) -> None:
    """One login per `interval` from one address, ignoring Retry-After, until `stop`.

    Every attacker fires at the same ticks (all the flood's logins at once), or at once
    when its previous login was answered after the tick: never more than one in flight.
    """
    session = requests.Session()
    # A new connection per login, as many browsers would: waitress keeps at most 100 open.
    headers = {"X-Forwarded-For": address, "Connection": "close"}
    statuses: Counter = Counter()
    try:
        page = session.get(f"{base}/admin/connexion", headers=headers, timeout=REQUEST_TIMEOUT)
        token = _CSRF.search(page.text).group(1)
    except requests.RequestException:
        token = ""  # every login will be a 400 (no CSRF token): still a request to serve
    finally:
        ready.release()
    count = 0
    origin = time.monotonic()
    while not stop.is_set():
        count += 1
        ticks = (time.monotonic() - origin) / interval
        if stop.wait(max(0.0, (math.ceil(ticks) - ticks) * interval)):
            break
        # The real admin's name and invented ones: both cost a password check.
        name = username if count % 2 else f"inconnu-{address}-{count}"
        try:
            response = session.post(
                f"{base}/admin/connexion",
                data={"username": name, "password": "pas le bon mot de passe", "csrf_token": token},
                headers=headers,
                timeout=REQUEST_TIMEOUT,
                allow_redirects=False,
            )
            statuses[response.status_code] += 1
        except requests.RequestException:
            statuses["error"] += 1
    results.put(dict(statuses))


def _flood_process(base, addresses, per_address, username, interval, started, stop, results):
    ready = threading.Semaphore(0)
    threads = [
        threading.Thread(
            target=_attacker,
            args=(base, flood_address(number), username, interval, ready, stop, results),
            daemon=True,
        )
        for number in range(addresses)
        for _ in range(per_address)
    ]
    for thread in threads:
        thread.start()
    for _ in threads:
        ready.acquire()
    started.set()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * 3)


@dataclass
class Flood:
    """A flood running in its own process; `statuses` once stopped."""

    process: multiprocessing.Process
    stop_event: object
    results: object
    threads: int
    statuses: Counter | None = None

    def stop(self) -> Counter:
        self.stop_event.set()
        total: Counter = Counter()
        for _ in range(self.threads):
            try:
                total.update(self.results.get(timeout=REQUEST_TIMEOUT * 3))
            except Exception:  # noqa: BLE001 - a stuck attacker thread: count what came back
                break
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.statuses = total
        return total


@contextmanager
def flood(
    base: str,
    addresses: int = 64,
    per_address: int = 3,
    interval: float = 1.0,
    username: str = "alice",
):
    """Run the flood while the block runs: addresses × per_address logins at once, every
    `interval` seconds (64 × 3 at once was the issue's stall)."""
    context = multiprocessing.get_context("spawn")
    started, stop, results = context.Event(), context.Event(), context.Queue()
    process = context.Process(
        target=_flood_process,
        args=(base, addresses, per_address, username, interval, started, stop, results),
        daemon=True,
    )
    process.start()
    running = Flood(process, stop, results, addresses * per_address)
    try:
        if not started.wait(timeout=60):
            raise RuntimeError("the flood's attackers did not start")
        yield running
    finally:
        if running.statuses is None:
            running.stop()


@dataclass(frozen=True)
class Latencies:
    """Seconds per request of one path, sorted."""

    samples: list[float]

    def percentile(self, fraction: float) -> float:
        index = min(len(self.samples) - 1, max(0, round(fraction * len(self.samples)) - 1))
        return self.samples[index]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


def _timed_get(connection: http.client.HTTPConnection, path: str, headers: dict) -> tuple:
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    return time.perf_counter() - started, response.status, body


class Probe:
    """An applicant's two requests, timed: GET /demande and a cache-hit lookup.

    Each path has a keep-alive connection opened before the flood, as a browser already on
    the page has: waitress accepts at most 100 connections at once, and a flood of
    connections waiting at the door is the reverse proxy's business, not what is measured.
    A request over REQUEST_TIMEOUT counts as REQUEST_TIMEOUT.
    """

    # An applicant behind the same proxy as the flood, from an address of their own.
    APPLICANT = {"X-Forwarded-For": "192.0.2.10"}
    PATHS = {
        "form": ("/demande", APPLICANT, "<form"),
        "lookup": (LOOKUP, {**HX, **APPLICANT}, FOUND),
    }

    def __init__(self, base: str):
        self.host = base.removeprefix("http://")
        self.connections = {name: self._connect() for name in self.PATHS}
        for name, (path, headers, _marker) in self.PATHS.items():
            _timed_get(self.connections[name], path, headers)  # connected; lookup cached

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, timeout=REQUEST_TIMEOUT)

    def measure(self, seconds: float, pause: float = 0.01) -> dict[str, Latencies]:
        """Alternate the two requests for `seconds`; their latencies."""
        samples: dict[str, list[float]] = {name: [] for name in self.PATHS}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, (path, headers, marker) in self.PATHS.items():
                try:
                    elapsed, status, body = _timed_get(self.connections[name], path, headers)
                except (TimeoutError, OSError, http.client.HTTPException):
                    self.connections[name].close()
                    self.connections[name] = self._connect()
                    elapsed, status, body = REQUEST_TIMEOUT, 0, b""
                if status and (status != 200 or marker.encode() not in body):
                    raise AssertionError(f"{path}: unexpected answer {status}")
                samples[name].append(elapsed)
            time.sleep(pause)
        return {name: Latencies(sorted(values)) for name, values in samples.items()}

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()


@contextmanager
def probe(base: str) -> Iterator[Probe]:
    """A Probe connected to the portal (before any flood starts)."""
    prober = Probe(base)
    try:
        yield prober
    finally:
        prober.close()
