"""HTTP client for API Entreprise: routes, mandatory parameters, errors mapped to exceptions.

This module knows nothing of Flask, the database, the cache or the quota: it makes one call,
returns an `ApiAnswer` or raises one `ApiEntrepriseError` subclass per class of error. The
gateway (`portail.apientreprise.gateway`) decides when a call may leave.

Rules kept here, because they hold for every caller:
- the token travels only in the `Authorization` header, and never reaches an exception
  text, a repr or a log line (every message is built from our own words plus the API's
  status, code, title and `X-Request-ID`, then scrubbed of the token for good measure);
- redirects are never followed (a 3xx is a bad answer: following it could send the token
  to another host);
- requests never retries and never sleeps on `Retry-After`: the shared rate budget decides;
- the body is streamed with a size cap and a total deadline, so a trickling or huge answer
  cannot hold a request thread past the timeout.
"""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import parse_qsl, urlencode

import requests
import urllib3

from portail.apientreprise.answer import ApiAnswer
from portail.apientreprise.catalogue import (
    OBJECT_MAX_LENGTH,
    ROUTE_ASSOCIATION_OPEN_DATA,
    ROUTE_ETABLISSEMENT,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
    ROUTE_PRIVILEGES,
    ROUTES,
)
from portail.apientreprise.errors import (
    ApiEntrepriseError,
    BadAnswer,
    BadParameter,
    Timeout,
    Unreachable,
)
from portail.apientreprise.reading import (
    MAX_BODY_BYTES,
    connection_note,
    error_for,
    is_timeout,
    kept_headers,
    read_capped,
    route_label,
    text,
)
from portail.apientreprise.transport import HttpTransport

logger = logging.getLogger(__name__)


_JWT_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]*")


# A route template holds at most one placeholder; what fills it is a SIRET, SIREN or RNA.
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")
_TARGET = re.compile(r"[0-9A-Za-z]+")


# Routes without the mandatory recipient/context/object parameters, and without a `data`
# envelope in their answer.
_UNTRACED_ROUTES = frozenset({ROUTE_PRIVILEGES})


def _search_params(target: str | None) -> dict[str, str]:
    """The company search's parameters from its target, a query string the caller encoded
    (what the journal and the cache record); anything else is refused before sending."""
    params = dict(parse_qsl(target or "", keep_blank_values=True))
    if not params.get("q") or urlencode(params) != target:
        raise BadParameter(note="recherche d'entreprises mal formée")
    return params


class ApiEntrepriseClient:
    """One authority's access to API Entreprise: base URL, token, recipient, context."""

    def __init__(
        self,
        base_url: str,
        token: str,
        recipient: str,
        context: str,
        *,
        transport: HttpTransport | None = None,
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

    def call(self, route: str, target: str | None, *, object_: str | None) -> ApiAnswer:
        """One GET on a route of the catalogue, its placeholder (if any) filled with `target`
        (a SIRET, SIREN or RNA: letters and digits only), with the JSON timeout (the
        document timeout on a document route).

        Every route but /privileges carries the mandatory recipient, context and object
        parameters and must answer a `data` envelope. A target that is not letters and
        digits is refused before anything is sent (BadParameter).
        """
        known = ROUTES.get(route)
        if known is not None and known.search:
            return self._get_json(route, _search_params(target), False)
        placeholders = _PLACEHOLDER.findall(route)
        if len(placeholders) > 1 or bool(placeholders) != (target is not None):
            raise ValueError(f"route {route!r} and target do not match")
        if target is not None:
            if not _TARGET.fullmatch(target):
                raise BadParameter(note="identifiant invalide (lettres et chiffres seulement)")
            path = route.replace(placeholders[0], target)
        else:
            path = route
        traced = route not in _UNTRACED_ROUTES
        # Document routes (attestations) get the document timeout the API recommends (12 s).
        timeout = self.document_timeout if known is not None and known.document else None
        return self._get_json(path, self._params(object_) if traced else None, traced, timeout)

    def etablissement_diffusible(self, siret: str, *, object_: str) -> ApiAnswer:
        """Open data of an établissement (anonymous prefill): diffusibles route."""
        return self.call(ROUTE_ETABLISSEMENT_DIFFUSIBLE, siret, object_=object_)

    def etablissement(self, siret: str, *, object_: str) -> ApiAnswer:
        """Protected data of an établissement: for authenticated instructors only."""
        return self.call(ROUTE_ETABLISSEMENT, siret, object_=object_)

    def association_open_data(self, siren_or_rna: str, *, object_: str) -> ApiAnswer:
        """Open data of an association (RNA number, purpose) by SIREN or RNA, never a SIRET."""
        return self.call(ROUTE_ASSOCIATION_OPEN_DATA, siren_or_rna, object_=object_)

    def privileges(self) -> list[str]:
        """The scopes the token holds (for the admin's connection test)."""
        # Unlike the data routes, /privileges answers `{"privileges": [...]}` with no
        # `data` envelope; accept the envelope too, should it ever gain one.
        answer = self.call(ROUTE_PRIVILEGES, None, object_=None)
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

    def _params(self, object_: str | None) -> dict:
        return {
            "recipient": self.recipient,
            "context": self.context,
            "object": (object_ or "portail").strip()[:OBJECT_MAX_LENGTH],
        }

    def _get_json(
        self, path: str, params: dict | None, require_data: bool, timeout: float | None = None
    ) -> ApiAnswer:
        timeout = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            answer = self._send(path, params, timeout, require_data)
        except ApiEntrepriseError as error:
            logger.info(
                "API Entreprise %s -> %s (%.0f ms)",
                route_label(path),
                error._summary(),
                (time.monotonic() - started) * 1000,
            )
            raise
        logger.info(
            "API Entreprise %s -> HTTP %s (%.0f ms) X-Request-ID %s",
            route_label(path),
            answer.status,
            answer.elapsed_ms,
            answer.request_id,
        )
        return answer

    def _open(self, path_and_query: str, headers: dict, timeout: float):
        """The transport's answer with its body unread, as a urllib3 response."""
        try:
            response = self.transport.get(self.base_url, path_and_query, headers, timeout)
        # `from None` everywhere: the underlying exception would carry the URL and urllib3
        # internals into tracebacks; the kind and the route are what matters.
        except requests.exceptions.ProxyError:
            raise Unreachable(note="proxy injoignable ou refusant la connexion") from None
        except requests.exceptions.SSLError:
            raise Unreachable(note="échec de la négociation TLS (certificat ?)") from None
        except requests.exceptions.Timeout:  # ConnectTimeout, ReadTimeout
            raise Timeout(note=f"pas de réponse en {timeout:g} s") from None
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:  # RequestException too
            if is_timeout(exc):
                raise Timeout(note=f"pas de réponse en {timeout:g} s") from None
            raise Unreachable(note=connection_note(exc)) from None
        return response.raw

    def _send(self, path: str, params: dict | None, timeout: float, require_data: bool):
        started = time.monotonic()
        deadline = started + timeout
        headers = {"Accept": "application/json", "User-Agent": "mini-portail-des-aides"}
        if self._token:  # the open company search gets none
            headers["Authorization"] = f"Bearer {self._token}"
        path_and_query = f"{path}?{urlencode(params)}" if params else path
        raw = self._open(path_and_query, headers, timeout)
        try:
            status = raw.status
            kept = kept_headers(raw.headers)
            request_id = text(raw.headers.get("X-Request-ID"), 100)
            body = read_capped(
                raw, deadline, timeout, self.max_body_bytes, status, request_id, kept
            )
        finally:
            # A body read to its end has already given its connection back to the pool;
            # one left half-read (error, cap, deadline) is closed, never reused.
            raw.close()
            raw.release_conn()
        elapsed_ms = (time.monotonic() - started) * 1000
        body = self._scrub_body(body)

        if 200 <= status < 300:
            data = self._parse_json(body, raw.headers, status, request_id, kept)
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
        parsed = None
        if body.strip():
            try:
                parsed = self._scrub_decoded(json.loads(body))
            except (ValueError, UnicodeDecodeError):
                parsed = None  # an HTML error page from a proxy: the status still decides
        raise error_for(status, parsed, raw.headers, request_id, kept)

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

    def _parse_json(self, body: bytes, headers, status, request_id, kept):
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
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
