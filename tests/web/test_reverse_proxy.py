"""Behind a real reverse proxy, as in production (issue 10, H9): the portal started with the
README's `waitress-serve` command, a forwarding proxy on loopback in front of it. Each
applicant behind the proxy has its own share of the API budget, and the throttle records
their addresses, not the proxy's. Without `--no-clear-untrusted-proxy-headers`, waitress
deletes X-Forwarded-For and every applicant shares the proxy's allowance."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portail.web.client_address import MISSING_FORWARDED_FOR_WARNING
from tests.api_helpers import valid_siret
from tests.server_process import PortalProcess, readme_production_command

HTMX = {"HX-Request": "true", "HX-Target": "tiers-block"}
SHARE = 3
CONFIG = {
    "RATE_BUDGET_PER_CLIENT_PER_MINUTE": SHARE,
    "LOOKUP_CACHE_SECONDS": 0,
    "LOOKUP_NEGATIVE_CACHE_SECONDS": 0,
}
SPENT = "de nombreuses recherches en peu de temps"
# Which address the proxy says the client has: the test's clients all connect from
# 127.0.0.1, so each names the address a real proxy would have seen.
CLIENT_HEADER = "X-Test-Client-Address"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer"}


@contextmanager
def forwarding_proxy(upstream_port: int) -> Iterator[int]:
    """A tiny reverse proxy on 127.0.0.1: appends the client's address to X-Forwarded-For
    (as nginx's $proxy_add_x_forwarded_for does), sets X-Forwarded-Proto, forwards to the
    portal and copies the answer back. Yields its port."""

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            client = self.headers.get(CLIENT_HEADER) or self.client_address[0]
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in HOP_BY_HOP and name != CLIENT_HEADER
            }
            previous = self.headers.get("X-Forwarded-For")
            headers["X-Forwarded-For"] = f"{previous}, {client}" if previous else client
            headers["X-Forwarded-Proto"] = "http"
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            finally:
                upstream.close()

        do_GET = do_POST = _forward

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def get(port: int, path: str, client: str | None = None, **headers) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if client:
            headers[CLIENT_HEADER] = client
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8")
    finally:
        connection.close()


def lookups(port: int, client: str, first: int, count: int, **headers) -> list[bool]:
    """`count` lookups of distinct SIRETs through the proxy; True for each one not refused."""
    served = []
    for number in range(first, first + count):
        status, page = get(
            port,
            f"/demande/tiers?siret={valid_siret(number, series=64)}",
            client,
            **HTMX,
            **headers,
        )
        assert status == 200
        served.append(SPENT not in page)
    return served


def throttled_clients(database) -> set[str]:
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute("SELECT DISTINCT client FROM rate_budget_calls").fetchall()
    finally:
        connection.close()
    return {row[0] for row in rows}


def test_the_documented_command_trusts_the_proxy_header():
    env, words = readme_production_command()
    assert env.get("PORTAIL_TRUSTED_PROXIES") == "1"
    assert "--no-clear-untrusted-proxy-headers" in words
    assert words[-2:] == ["--call", "app:create_app"]


def test_two_clients_behind_the_proxy_get_two_allowances(tmp_path):
    with PortalProcess(tmp_path, **CONFIG) as portal, forwarding_proxy(portal.port) as proxy:
        assert lookups(proxy, "192.0.2.10", 0, SHARE + 1) == [True] * SHARE + [False]
        # Another applicant behind the same proxy has its own allowance.
        assert lookups(proxy, "192.0.2.20", 100, SHARE) == [True] * SHARE
        # A forged X-Forwarded-For sent to the proxy changes nothing: only the address the
        # proxy appended is trusted (one hop).
        assert lookups(proxy, "192.0.2.10", 200, 1, **{"X-Forwarded-For": "198.51.100.99"}) == [
            False
        ]
        log = portal.output()
    assert throttled_clients(portal.database) == {"ip:192.0.2.10", "ip:192.0.2.20"}
    assert "client_share_spent, ip:192.0.2.10" in log  # the refusal names the client
    assert "127.0.0.1" not in " ".join(throttled_clients(portal.database))
    assert MISSING_FORWARDED_FOR_WARNING.format(hops=1) not in log


def test_health_details_stay_on_the_server_when_asked_through_the_proxy(tmp_path):
    with PortalProcess(tmp_path, **CONFIG) as portal, forwarding_proxy(portal.port) as proxy:
        status, body = get(proxy, "/healthz", "192.0.2.30")
        assert status == 200 and json.loads(body) == {"status": "ok"}
        status, body = get(portal.port, "/healthz")  # supervision on the server itself
        assert status == 200 and len(json.loads(body)) > 1


def test_without_the_waitress_option_every_client_shares_the_proxy_allowance(tmp_path):
    # What the README's command used to be: waitress deletes X-Forwarded-For, the portal
    # sees the proxy's address for everyone, and says so in its log.
    portal = PortalProcess(tmp_path, without=("--no-clear-untrusted-proxy-headers",), **CONFIG)
    with portal, forwarding_proxy(portal.port) as proxy:
        assert lookups(proxy, "192.0.2.10", 0, SHARE) == [True] * SHARE
        assert lookups(proxy, "192.0.2.20", 100, 1) == [False]
        log = portal.output()
    assert throttled_clients(portal.database) == {"ip:127.0.0.1"}
    assert MISSING_FORWARDED_FOR_WARNING.format(hops=1) in log
