"""How the API client reaches API Entreprise: real HTTP through urllib3, or the built-in
sandbox answering in process. Both hand back a urllib3 response whose body is read later,
under the client's size cap and deadline.

Real HTTP goes straight to urllib3 rather than through requests: the client needs none of
requests' conveniences (cookies, redirects, hooks, auth helpers), and they cost 0.3 ms a
call on the applicant's lookup path. What requests did that still matters is done here:

- never a retry, never a sleep on `Retry-After` (`retries=False`: errors come back as they
  are, a 429 comes back as a response), never a redirect followed;
- proxies from the environment (HTTPS_PROXY, NO_PROXY..., or the system settings on Windows
  and macOS: authorities often go through one), with credentials written in the proxy URL,
  read once per API URL rather than on every call;
- a CA bundle (file or hashed directory) named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (a
  proxy that inspects TLS); otherwise the system's trust store, so a server needs its
  ca-certificates package (Debian: `ca-certificates`).
"""

from __future__ import annotations

import functools
import io
import os
import threading
import time
import urllib.request
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import urllib3

POOL_SIZE = 16  # connections kept per host: one per server thread is plenty


@functools.lru_cache(maxsize=32)
def environ_proxy(base_url: str) -> str | None:
    """The proxy set for this URL (HTTPS_PROXY..., or the system's settings on Windows and
    macOS), honouring NO_PROXY; read once. A value without a scheme means http://."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def environ_ca_bundle() -> str | None:
    """A CA bundle (file or directory) named by the environment, else None (the system's
    trust store)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def _make_manager(proxy: str | None, pool_size: int) -> urllib3.PoolManager:
    options: dict = {"num_pools": 4, "maxsize": pool_size}
    bundle = environ_ca_bundle()
    if bundle and os.path.isdir(bundle):
        options["ca_cert_dir"] = bundle  # a hashed directory, like /etc/ssl/certs
    elif bundle:
        options["ca_certs"] = bundle
    if not proxy:
        return urllib3.PoolManager(**options)
    parts = urlsplit(proxy)
    if parts.username is not None or parts.password is not None:
        # urllib3 ignores credentials written in the proxy URL: send them as a header.
        credentials = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        options["proxy_headers"] = urllib3.make_headers(proxy_basic_auth=credentials)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        netloc = f"{host}:{parts.port}" if parts.port else host
        proxy = urlunsplit((parts.scheme, netloc, "", "", ""))
    return urllib3.ProxyManager(proxy, **options)


class HttpTransport:
    """Keep-alive connection pools, one per proxy (or none), shared by the server threads."""

    def __init__(self, pool_size: int = POOL_SIZE):
        self._pool_size = pool_size
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def _manager(self, proxy: str | None) -> urllib3.PoolManager:
        manager = self._managers.get(proxy)
        if manager is None:
            with self._lock:
                manager = self._managers.get(proxy)
                if manager is None:
                    manager = _make_manager(proxy, self._pool_size)
                    self._managers[proxy] = manager
        return manager

    def get(
        self, base_url: str, path_and_query: str, headers: dict[str, str], timeout: float
    ) -> urllib3.BaseHTTPResponse:
        """Send a GET; the body is left unread. Raises urllib3's errors as they are."""
        return self._manager(environ_proxy(base_url)).request(
            "GET",
            base_url + path_and_query,
            headers=headers,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            # Per request: PoolManager.urlopen ignores a manager-wide setting, and its default
            # retries a 429 after sleeping its Retry-After in the request thread.
            retries=False,
            redirect=False,
            preload_content=False,
        )

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()


class SandboxTransport:
    """The built-in sandbox (portail/sandbox.py), answered in process: no socket, so a
    server thread never waits on a loopback connection to itself.

    A slow persona is honoured like a real server: an answer slower than the timeout waits
    the timeout, then fails as a read timeout.
    """

    def get(
        self, base_url: str, path_and_query: str, headers: dict[str, str], timeout: float
    ) -> urllib3.BaseHTTPResponse:
        """Answer from the sandbox, as a urllib3 response over the answer's bytes."""
        from portail.apientreprise.sandbox import handle

        parts = urlsplit(path_and_query)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        answer = handle("GET", parts.path, query, dict(headers))
        if answer.delay:
            if answer.delay > timeout:
                time.sleep(timeout)
                raise urllib3.exceptions.ReadTimeoutError(
                    None, base_url + parts.path, f"Read timed out. (read timeout={timeout})"
                )
            time.sleep(answer.delay)
        return urllib3.HTTPResponse(
            body=io.BytesIO(answer.body),
            headers=answer.headers,
            status=answer.status,
            preload_content=False,
            decode_content=True,
        )

    def close(self) -> None:
        """Nothing to release."""
