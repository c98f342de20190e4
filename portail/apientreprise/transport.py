"""How the API client reaches API Entreprise: one `requests.Session`, its answers streamed.

The session hands back a `requests.Response` whose body is left unread (`stream=True`): the
client reads `response.raw` itself, under its size cap and total deadline. What the session
is set up to do, and not to do:

- never a retry, never a sleep on `Retry-After` (`max_retries=0`: errors come back as they
  are, a 429 comes back as a response), never a redirect followed (`allow_redirects=False`);
- one keep-alive pool per host, sized to the server threads, shared by them;
- proxies from the environment (HTTPS_PROXY, NO_PROXY..., or the system settings on Windows
  and macOS: authorities often go through one), credentials written in the proxy URL
  included, and a CA bundle (file or hashed directory) named by REQUESTS_CA_BUNDLE or
  CURL_CA_BUNDLE (a proxy that inspects TLS), else requests' own (certifi's). Both are read
  through requests' own environment handling, once per API URL, then passed explicitly: the
  session itself never looks at the environment (nor at ~/.netrc) on a call;
- no cookie kept: an API answer never sets anything the next call would send back.

The built-in sandbox answers in process through an adapter mounted on its URL (no socket, so
a server thread never waits on a loopback connection to itself); its handler is injected by
the wiring, this module does not know the sandbox.
"""

from __future__ import annotations

import http
import http.cookiejar
import io
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from portail.core.api_urls import SANDBOX_URL

POOL_SIZE = 16  # connections kept per host: one per server thread is plenty


class HandlerAnswer(Protocol):
    """What an in-process handler answers (the sandbox's SandboxAnswer)."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float


# handler(method, path, query, headers) -> answer
Handler = Callable[[str, str, dict[str, str], dict[str, str]], HandlerAnswer]


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Refuse every cookie, so none is ever stored nor sent."""

    def set_ok(self, cookie, request) -> bool:
        return False

    def return_ok(self, cookie, request) -> bool:
        return False


def environment_settings(base_url: str) -> tuple[dict[str, str], str | bool]:
    """The proxies (NO_PROXY honoured) and the `verify` value (CA bundle path, or True) that
    requests reads from the environment for this URL."""
    with requests.Session() as reader:  # trust_env: requests' own reading of the environment
        merged = reader.merge_environment_settings(base_url, {}, None, None, None)
    return dict(merged["proxies"]), merged["verify"]


class InProcessAdapter(BaseAdapter):
    """Answers from a handler in process, as a real `requests.Response` whose `raw` is a
    urllib3 response over the answer's bytes: the client reads it like a network answer.

    A slow answer is honoured like a real server: slower than the read timeout, it waits the
    timeout, then fails as a read timeout.
    """

    def __init__(self, handler: Handler):
        super().__init__()
        self._handler = handler

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        answer = self._handler(request.method or "GET", parts.path, query, dict(request.headers))
        if isinstance(timeout, tuple):
            read_timeout = timeout[1]
        elif isinstance(timeout, urllib3.Timeout):  # a document's total deadline (`fetch`)
            read_timeout = timeout.read_timeout
        else:
            read_timeout = timeout
        if answer.delay:
            if read_timeout is not None and answer.delay > read_timeout:
                time.sleep(read_timeout)
                raise requests.exceptions.ReadTimeout(
                    f"Read timed out. (read timeout={read_timeout})", request=request
                )
            time.sleep(answer.delay)
        try:
            reason = http.HTTPStatus(answer.status).phrase
        except ValueError:
            reason = ""
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.body),
            headers=answer.headers,
            status=answer.status,
            reason=reason,
            preload_content=False,
            decode_content=True,
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = reason
        response.url = request.url or ""
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        """Nothing to release."""


class _Session(requests.Session):
    """A session that never follows a redirect, and never reads a 3xx's body for one."""

    def get_redirect_target(self, resp) -> None:
        # Even with allow_redirects=False, requests prepares the next request of a 3xx (for
        # Response.next) and reads the whole body first: no size cap, no total deadline. A
        # 3xx here has no target: the client reads its body like any other, then refuses it.
        return None


class HttpTransport:
    """One `requests.Session` per app: keep-alive pools shared by the server threads."""

    def __init__(self, pool_size: int = POOL_SIZE, sandbox_handler: Handler | None = None):
        session = _Session()
        session.trust_env = False  # the environment is read once per API URL, see _settings
        session.cookies.set_policy(_NoCookies())
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if sandbox_handler is not None:
            # With the trailing slash: only this host, never a longer name that starts alike.
            session.mount(SANDBOX_URL + "/", InProcessAdapter(sandbox_handler))
        self._session = session
        self._settings_by_url: dict[str, tuple[dict[str, str], str | bool]] = {}
        self._lock = threading.Lock()

    def _settings(self, base_url: str) -> tuple[dict[str, str], str | bool]:
        """Proxies and CA bundle for this API URL, read from the environment on first use."""
        settings = self._settings_by_url.get(base_url)
        if settings is None:
            with self._lock:
                settings = self._settings_by_url.get(base_url)
                if settings is None:
                    settings = environment_settings(base_url)
                    self._settings_by_url[base_url] = settings
        return settings

    def get(
        self, base_url: str, path_and_query: str, headers: dict[str, str], timeout: float
    ) -> requests.Response:
        """Send a GET; the body is left unread. Raises requests' errors as they are."""
        proxies, verify = self._settings(base_url)
        return self._session.get(
            base_url + path_and_query,
            headers=headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
            proxies=proxies,
            verify=verify,
        )

    def fetch(self, url: str, headers: dict[str, str], timeout: float) -> requests.Response:
        """Send a GET to an absolute URL (a document link the API handed out), the body left
        unread: connecting and receiving the headers take at most `timeout` in all. Proxies
        and CA bundle are those of the URL's own host. The caller chooses the headers: this
        session adds none that authenticates (no auth, no cookie, no .netrc)."""
        parts = urlsplit(url)
        proxies, verify = self._settings(f"{parts.scheme}://{parts.netloc}")
        return self._session.get(
            url,
            headers=headers,
            timeout=urllib3.Timeout(total=timeout, connect=timeout, read=timeout),
            allow_redirects=False,
            stream=True,
            proxies=proxies,
            verify=verify,
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._session.close()
