"""HTTP client for API Entreprise: routes, mandatory parameters, errors mapped to exceptions.

This module knows nothing of Flask, the database, the cache or the quota: it makes one call,
returns an `ApiAnswer` or raises one `ApiEntrepriseError` subclass per class of error. The
lookup service (`portail.lookup`) decides when a call may leave.

Rules kept here, because they hold for every caller:
- the token travels only in the `Authorization` header, and never reaches an exception
  text, a repr or a log line (every message is built from our own words plus the API's
  status, code, title and `X-Request-ID`, then scrubbed of the token for good measure);
- redirects are never followed (a 3xx is a bad answer: following it could send the token
  to another host);
- urllib3 never retries and never sleeps on `Retry-After`: the shared rate budget decides;
- the body is streamed with a size cap and a total deadline, so a trickling or huge answer
  cannot hold a request thread past the timeout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from urllib.parse import urlencode

import urllib3

from portail.apientreprise.answer import ApiAnswer, _clamp_wait, _int_header, retry_after_seconds
from portail.apientreprise.catalogue import (
    OBJECT_MAX_LENGTH,
    ROUTE_ASSOCIATION_OPEN_DATA,
    ROUTE_ETABLISSEMENT,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
    ROUTE_PRIVILEGES,
)
from portail.apientreprise.errors import (
    ApiEntrepriseError,
    BadAnswer,
    BadParameter,
    DuplicateInFlight,
    NotFound,
    NotPublic,
    ProviderUnavailable,
    RateLimited,
    RecipientIsTarget,
    ScopeMissing,
    Timeout,
    TokenRefused,
    Unreachable,
)
from portail.apientreprise.transport import HttpTransport, SandboxTransport

logger = logging.getLogger(__name__)


# An établissement answer weighs a few kB; anything near this cap is not an answer we want.
MAX_BODY_BYTES = 1024 * 1024


_READ_CHUNK = 64 * 1024


# Headers worth keeping on an answer or an error: rate-limit feed and support references.
_KEPT_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "X-Request-ID",
    "Content-Type",
    "X-Cache",
    "X-Cache-Expires-in",
)


def _kept_headers(headers) -> dict:
    return {name: headers[name] for name in _KEPT_HEADERS if headers.get(name) is not None}


def _first_error(body) -> dict:
    """The first item of an `{"errors": [...]}` body, or {} for anything else."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
    return {}


def _text(value, limit: int = 300) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


_JWT_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]*")


class ApiEntrepriseClient:
    """One authority's access to API Entreprise: base URL, token, recipient, context."""

    def __init__(
        self,
        base_url: str,
        token: str,
        recipient: str,
        context: str,
        *,
        transport: HttpTransport | SandboxTransport | None = None,
        timeout: float = 5.0,
        document_timeout: float = 12.0,
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token
        # A JWT's characters (base64url and dots) can hide behind no JSON escape but \uXXXX;
        # any other token is scrubbed after decoding whatever the body looks like.
        self._escapes_only_as_u = bool(_JWT_CHARACTERS.fullmatch(token or ""))
        self.recipient = recipient
        self.context = context
        self.transport = transport if transport is not None else HttpTransport()
        self.timeout = timeout
        self.document_timeout = document_timeout
        self.max_body_bytes = max_body_bytes

    def __repr__(self) -> str:  # the token must never reach a log through repr()
        return (
            f"ApiEntrepriseClient(base_url={self.base_url!r}, recipient={self.recipient!r}, "
            f"token={'***' if self._token else ''!r})"
        )

    # -- routes -------------------------------------------------------------------------

    def etablissement_diffusible(self, siret: str, *, object_: str) -> ApiAnswer:
        """Open data of an établissement (anonymous prefill): diffusibles route."""
        return self._get_json(
            ROUTE_ETABLISSEMENT_DIFFUSIBLE.format(siret=siret), object_, require_data=True
        )

    def etablissement(self, siret: str, *, object_: str) -> ApiAnswer:
        """Protected data of an établissement: for authenticated instructors only."""
        return self._get_json(ROUTE_ETABLISSEMENT.format(siret=siret), object_, require_data=True)

    def association_open_data(self, siren_or_rna: str, *, object_: str) -> ApiAnswer:
        """Open data of an association (RNA number, purpose) by SIREN or RNA, never a SIRET."""
        return self._get_json(
            ROUTE_ASSOCIATION_OPEN_DATA.format(siren_or_rna=siren_or_rna),
            object_,
            require_data=True,
        )

    def privileges(self) -> list[str]:
        """The scopes the token holds (for the admin's connection test)."""
        # Unlike the data routes, /privileges answers `{"privileges": [...]}` with no
        # `data` envelope; accept the envelope too, should it ever gain one.
        answer = self._get_json(ROUTE_PRIVILEGES, None, require_data=False)
        privileges = answer.data.get("privileges")
        if privileges is None and isinstance(answer.data.get("data"), dict):
            privileges = answer.data["data"].get("privileges")
        if not isinstance(privileges, list):
            raise BadAnswer(
                status=answer.status,
                request_id=answer.request_id,
                note="champ privileges absent",
            )
        return [str(item) for item in privileges]

    # -- one call ---------------------------------------------------------------------

    def _params(self, object_: str | None) -> dict | None:
        if object_ is None:
            return None
        return {
            "recipient": self.recipient,
            "context": self.context,
            "object": (object_ or "portail").strip()[:OBJECT_MAX_LENGTH],
        }

    def _get_json(
        self, path: str, object_: str | None, *, require_data: bool, timeout: float | None = None
    ) -> ApiAnswer:
        timeout = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            answer = self._send(path, object_, timeout, require_data)
        except ApiEntrepriseError as error:
            logger.info(
                "API Entreprise %s -> %s (%.0f ms)",
                _route_label(path),
                error._summary(),
                (time.monotonic() - started) * 1000,
            )
            raise
        logger.info(
            "API Entreprise %s -> HTTP %s (%.0f ms) X-Request-ID %s",
            _route_label(path),
            answer.status,
            answer.elapsed_ms,
            answer.request_id,
        )
        return answer

    def _send(self, path: str, object_: str | None, timeout: float, require_data: bool):
        started = time.monotonic()
        deadline = started + timeout
        headers = {
            "Accept": "application/json",
            "User-Agent": "mini-portail-des-aides",
            "Authorization": f"Bearer {self._token}",
        }
        params = self._params(object_)
        path_and_query = f"{path}?{urlencode(params)}" if params else path
        try:
            response = self.transport.get(self.base_url, path_and_query, headers, timeout)
        # `from None` everywhere: the underlying exception would carry the URL and urllib3
        # internals into tracebacks; the kind and the route are what matters.
        except urllib3.exceptions.NewConnectionError as exc:
            # Before TimeoutError: urllib3 makes "could not connect" a ConnectTimeoutError.
            raise Unreachable(note=_connection_note(exc)) from None
        except urllib3.exceptions.TimeoutError:
            raise Timeout(note=f"pas de réponse en {timeout:g} s") from None
        except urllib3.exceptions.SSLError:
            raise Unreachable(note="échec de la négociation TLS (certificat ?)") from None
        except urllib3.exceptions.ProxyError:
            raise Unreachable(note="proxy injoignable ou refusant la connexion") from None
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            if _is_timeout(exc):
                raise Timeout(note=f"pas de réponse en {timeout:g} s") from None
            raise Unreachable(note=_connection_note(exc)) from None

        try:
            status = response.status
            kept = _kept_headers(response.headers)
            request_id = _text(response.headers.get("X-Request-ID"), 100)
            raw = self._read_capped(response, deadline, timeout, status, request_id, kept)
        finally:
            # A body read to its end has already given its connection back to the pool;
            # one left half-read (error, cap, deadline) is closed, never reused.
            response.close()
            response.release_conn()
        elapsed_ms = (time.monotonic() - started) * 1000
        body = self._scrub_body(raw)

        if 200 <= status < 300:
            data = self._parse_json(body, response, status, request_id, kept)
            if not isinstance(data, dict) or (
                require_data and not isinstance(data.get("data"), dict)
            ):
                raise BadAnswer(
                    status=status, request_id=request_id, headers=kept, note="champ data absent"
                )
            return ApiAnswer(
                data=data,
                status=status,
                request_id=request_id,
                headers=kept,
                elapsed_ms=elapsed_ms,
            )
        raise self._error_for(status, body, response, request_id, kept)

    def _read_capped(self, response, deadline, timeout, status, request_id, kept) -> bytes:
        """Read the body within the total deadline and under the size cap."""
        declared = _int_header(response.headers, "Content-Length")
        if declared is not None and declared > self.max_body_bytes:
            raise BadAnswer(
                status=status,
                request_id=request_id,
                headers=kept,
                note=f"corps de {declared} octets, limite {self.max_body_bytes}",
            )
        chunks = []
        size = 0
        raw = response

        # read1 returns what has arrived instead of blocking until a full chunk, so the
        # deadline is checked while a body trickles in; decoding happens before counting,
        # so a compressed bomb is capped on its real size.
        def read(amount):
            return raw.read1(amount, decode_content=True)

        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Timeout(
                        status=status,
                        request_id=request_id,
                        headers=kept,
                        note=f"réponse incomplète après {timeout:g} s",
                    )
                _limit_socket_wait(raw, remaining)
                chunk = read(_READ_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise BadAnswer(
                        status=status,
                        request_id=request_id,
                        headers=kept,
                        note=f"corps de plus de {self.max_body_bytes} octets",
                    )
                chunks.append(chunk)
        except ApiEntrepriseError:
            raise
        except (TimeoutError, urllib3.exceptions.TimeoutError):
            raise Timeout(
                status=status,
                request_id=request_id,
                headers=kept,
                note=f"réponse incomplète après {timeout:g} s",
            ) from None
        except Exception as exc:  # urllib3 protocol/decode errors: the body is unusable
            if _is_timeout(exc):
                raise Timeout(
                    status=status,
                    request_id=request_id,
                    headers=kept,
                    note=f"réponse incomplète après {timeout:g} s",
                ) from None
            raise BadAnswer(
                status=status,
                request_id=request_id,
                headers=kept,
                note=f"corps illisible ({type(exc).__name__})",
            ) from None
        return b"".join(chunks)

    def _scrub_body(self, raw: bytes) -> bytes:
        # An echo of our own Authorization header (a misconfigured proxy) must not travel
        # into exception details or the cache.
        token = self._token.encode() if self._token else b""
        if token and token in raw:
            return raw.replace(token, b"***")
        return raw

    def _scrub_decoded(self, value):
        """The same scrub after JSON decoding: an echo written with JSON escapes
        (\\u002e for ".") only becomes the token once decoded."""
        if not self._token:
            return value
        if isinstance(value, str):
            return value.replace(self._token, "***")
        if isinstance(value, list):
            return [self._scrub_decoded(item) for item in value]
        if isinstance(value, dict):
            return {
                self._scrub_decoded(key): self._scrub_decoded(item) for key, item in value.items()
            }
        return value

    def _parse_json(self, body: bytes, response, status, request_id, kept):
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type.lower() not in ("application/json", "application/problem+json") and not (
            content_type.lower().endswith("+json")
        ):
            raise BadAnswer(
                status=status,
                request_id=request_id,
                headers=kept,
                note=f"type de contenu {content_type or 'absent'!r} au lieu de JSON",
            )
        try:
            data = json.loads(body)
            # Only a \uXXXX escape can hide token characters from the scrub of the raw
            # body (a JWT has no "/", the only other escape that decodes to itself).
            if b"\\u" in body or not self._escapes_only_as_u:
                return self._scrub_decoded(data)
            return data
        except (ValueError, UnicodeDecodeError):
            raise BadAnswer(
                status=status, request_id=request_id, headers=kept, note="JSON invalide"
            ) from None

    def _error_for(self, status, body: bytes, response, request_id, kept) -> ApiEntrepriseError:
        """Map a non-2xx answer to its exception: the HTTP status first, then the code."""
        parsed = None
        if body.strip():
            try:
                parsed = self._scrub_decoded(json.loads(body))
            except (ValueError, UnicodeDecodeError):
                parsed = None  # an HTML error page from a proxy: the status still decides
        error = _first_error(parsed)
        code = _text(error.get("code"), 20)
        title = _text(error.get("title"))
        detail = _text(error.get("detail"))
        meta = error.get("meta") if isinstance(error.get("meta"), dict) else {}
        common = {
            "status": status,
            "code": code,
            "title": title,
            "detail": detail,
            "request_id": request_id,
            "headers": kept,
        }
        if 300 <= status < 400:
            return BadAnswer(note="redirection refusée (jamais suivie)", **common)
        if status == 401:
            return TokenRefused(**common)
        if status == 403:
            return ScopeMissing(**common)
        if status == 404:
            if code == "00402":  # unsupported API version: our route is wrong, not the SIRET
                return BadAnswer(note="version d'API non prise en charge", **common)
            return NotFound(**common)
        if status == 409:
            return DuplicateInFlight(**common)
        if status == 422:
            if code == "00211":
                return RecipientIsTarget(**common)
            return BadParameter(**common)
        if status == 429:
            wait = retry_after_seconds(response.headers)
            return RateLimited(retry_after=60.0 if wait is None else wait, **common)
        if status == 451:
            return NotPublic(**common)
        if status >= 500:
            wait = _retry_in(meta)
            if wait is None:
                wait = retry_after_seconds(response.headers)
            return ProviderUnavailable(retry_after=wait, **common)
        return BadAnswer(note="statut HTTP inattendu", **common)


def _retry_in(meta: dict) -> float | None:
    value = meta.get("retry_in")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return _clamp_wait(float(value))
    return None


def _route_label(path: str) -> str:
    """The route without its identifier, for log lines (identifiers go to the journal)."""
    return path.rsplit("/", 1)[0] + "/…" if path.count("/") > 1 else path


def _connection_note(exc: Exception) -> str:
    text = repr(exc)
    if "NameResolution" in text or "getaddrinfo" in text or "Name or service" in text:
        return "nom d'hôte introuvable (DNS)"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connexion refusée"
    if "RemoteDisconnected" in text or "ConnectionReset" in text or "reset" in text:
        return "connexion interrompue par le serveur"
    return "connexion impossible"


def _is_timeout(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _limit_socket_wait(raw, remaining: float) -> None:
    """Bound the next socket read by the time left, so a trickle cannot outlast the deadline.

    urllib3's read timeout applies to each read, not to the whole body; tightening the
    socket's timeout before every read turns it into a total deadline. Responses that are
    not sockets (the in-process sandbox) have nothing to tighten.
    """
    connection = getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(0.01, remaining))
