"""The sandbox over real HTTP: a WSGI application, and a loopback server in a thread."""

from __future__ import annotations

import http
import threading
import time
from collections.abc import Callable
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from portail.apientreprise.sandbox.service import Sandbox


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def make_wsgi_app(
    sandbox: Sandbox | None = None,
    *,
    on_request: Callable[[str, str, dict, dict], None] | None = None,
    wait: Callable[[float], object] = time.sleep,
) -> Callable:
    """A WSGI application serving sandbox (a new one if None); `wait(delay)` runs before slow
    answers, `on_request(method, path, query, headers)` sees every request."""
    sandbox = sandbox if sandbox is not None else Sandbox()

    def application(environ: dict, start_response: Callable) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if on_request is not None:
            on_request(method, path, dict(query), dict(headers))
        # Document links point back at the host this server was reached at.
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        base_url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
        answer = sandbox.handle(method, path, query, headers, base_url=base_url)
        if answer.delay:
            wait(answer.delay)
        response_headers = list(answer.headers.items())
        response_headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {_reason(answer.status)}", response_headers)
        return [b"" if method.upper() == "HEAD" else answer.body]

    return application


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a slow answer in flight

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up on a slow answer closed its socket: nothing to report.
        pass


class LoopbackSandbox:
    """The sandbox on a real HTTP server (127.0.0.1, ephemeral port) in a daemon thread.

    Use as a context manager; `url` is the base URL, `requests_seen` lists
    (method, path, query, headers) for every request received. It serves `sandbox`, or a
    Sandbox of its own (with its own rate limits) when none is given.
    """

    def __init__(self, port: int = 0, sandbox: Sandbox | None = None) -> None:
        self.port = port
        self.sandbox = sandbox if sandbox is not None else Sandbox()
        self.url = ""
        self.requests_seen: list[tuple[str, str, dict, dict]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _record(self, method: str, path: str, query: dict, headers: dict) -> None:
        with self._lock:
            self.requests_seen.append((method, path, query, headers))

    def start(self) -> LoopbackSandbox:
        """Bind the port and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        app = make_wsgi_app(self.sandbox, on_request=self._record, wait=self._stopping.wait)
        self._server = make_server(
            "127.0.0.1",
            self.port,
            app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-loopback",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake up slow answers in flight, and release the port."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LoopbackSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
