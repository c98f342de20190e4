"""Reading an API Entreprise answer: the body under a size cap and a total deadline, the kept
headers, and a non-2xx status mapped to its exception. Pure helpers of the client: nothing
here knows the token (the client scrubs it before anything reaches these functions' output).
"""

from __future__ import annotations

import contextlib
import time

import urllib3

from portail.apientreprise.answer import _clamp_wait, _int_header, retry_after_seconds
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
)

# An établissement answer weighs a few kB; anything near this cap is not an answer we want.
MAX_BODY_BYTES = 1024 * 1024


READ_CHUNK = 64 * 1024


# Headers worth keeping on an answer or an error: rate-limit feed and support references.
KEPT_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "X-Request-ID",
    "Content-Type",
    "X-Cache",
    "X-Cache-Expires-in",
)


def kept_headers(headers) -> dict:
    return {name: headers[name] for name in KEPT_HEADERS if headers.get(name) is not None}


def first_error(body) -> dict:
    """The first item of an `{"errors": [...]}` body, or {} for anything else."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return errors[0]
    return {}


def text(value, limit: int = 300) -> str | None:
    if value is None:
        return None
    result = str(value).strip()
    return result[:limit] or None


def read_capped(raw, deadline, timeout, max_body_bytes, status, request_id, kept) -> bytes:
    """Read a urllib3 response's body within the total deadline and under the size cap."""
    declared = _int_header(raw.headers, "Content-Length")
    if declared is not None and declared > max_body_bytes:
        raise BadAnswer(
            status=status,
            request_id=request_id,
            headers=kept,
            note=f"corps de {declared} octets, limite {max_body_bytes}",
        )
    chunks = []
    size = 0

    def late() -> Timeout:
        return Timeout(
            status=status,
            request_id=request_id,
            headers=kept,
            note=f"réponse incomplète après {timeout:g} s",
        )

    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise late()
            limit_socket_wait(raw, remaining)
            # read1 returns what has arrived instead of blocking until a full chunk, so the
            # deadline is checked while a body trickles in; decoding happens before
            # counting, so a compressed bomb is capped on its real size.
            chunk = raw.read1(READ_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_body_bytes:
                raise BadAnswer(
                    status=status,
                    request_id=request_id,
                    headers=kept,
                    note=f"corps de plus de {max_body_bytes} octets",
                )
            chunks.append(chunk)
    except ApiEntrepriseError:
        raise
    except (TimeoutError, urllib3.exceptions.TimeoutError):
        raise late() from None
    except Exception as exc:  # urllib3 protocol/decode errors: the body is unusable
        if is_timeout(exc):
            raise late() from None
        raise BadAnswer(
            status=status,
            request_id=request_id,
            headers=kept,
            note=f"corps illisible ({type(exc).__name__})",
        ) from None
    return b"".join(chunks)


def limit_socket_wait(raw, remaining: float) -> None:
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


def error_for(status, parsed, headers, request_id, kept) -> ApiEntrepriseError:
    """Map a non-2xx answer to its exception: the HTTP status first, then the code.
    `parsed` is the decoded (and scrubbed) body, or None."""
    error = first_error(parsed)
    code = text(error.get("code"), 20)
    meta = error.get("meta") if isinstance(error.get("meta"), dict) else {}
    common = {
        "status": status,
        "code": code,
        "title": text(error.get("title")),
        "detail": text(error.get("detail")),
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
        wait = retry_after_seconds(headers)
        return RateLimited(retry_after=60.0 if wait is None else wait, **common)
    if status == 451:
        return NotPublic(**common)
    if status >= 500:
        wait = retry_in(meta)
        if wait is None:
            wait = retry_after_seconds(headers)
        return ProviderUnavailable(retry_after=wait, **common)
    return BadAnswer(note="statut HTTP inattendu", **common)


def retry_in(meta: dict) -> float | None:
    value = meta.get("retry_in")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return _clamp_wait(float(value))
    return None


def route_label(path: str) -> str:
    """The route without its identifier, for log lines (identifiers go to the journal)."""
    return path.rsplit("/", 1)[0] + "/…" if path.count("/") > 1 else path


def connection_note(exc: Exception) -> str:
    words = repr(exc)
    if "NameResolution" in words or "getaddrinfo" in words or "Name or service" in words:
        return "nom d'hôte introuvable (DNS)"
    if "Connection refused" in words or "ConnectionRefused" in words:
        return "connexion refusée"
    if "RemoteDisconnected" in words or "ConnectionReset" in words or "reset" in words:
        return "connexion interrompue par le serveur"
    return "connexion impossible"


def is_timeout(exc: BaseException | None) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
