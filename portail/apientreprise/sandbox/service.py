"""The Sandbox object: one per app; checks a request like the real API, then answers it.

Behaviour lives here (token and parameter checks, rate limit, error personas, slow answers);
records and error bodies come from the data files.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from urllib.parse import urlsplit

from portail.apientreprise.sandbox import records, search
from portail.apientreprise.sandbox.answers import SandboxAnswer, answer, errors
from portail.apientreprise.sandbox.data import ERROR_PERSONAS, KNOWN_SIRENS, SLOW_SIRENS
from portail.apientreprise.sandbox.demo import BLACKLISTED_SUBJECT
from portail.apientreprise.sandbox.limiter import RATE_LIMIT, RateLimiter
from portail.apientreprise.sandbox.routes import (
    Route,
    identifier_is_valid,
    is_siret,
    route_for,
    target_siren,
)
from portail.core.api_urls import SANDBOX_URL
from portail.core.tokens import NotAJwt, decode_claims

SLOW_DELAY = 8.0  # past the 5 s client timeout the docs recommend for JSON routes


PERSONA_RETRY_AFTER = 10  # seconds; short so that a demo click does not freeze the demo long


SEARCH_PATH = "/search"  # Recherche d'entreprises, answered at the same URL


_MANDATORY_PARAMS = ("context", "object", "recipient")


# Where the documents of the attestation answers are served (records.document_url).
_DOCUMENT = re.compile(
    re.escape(records.DOCUMENTS_PREFIX) + r"attestation_(fiscale|vigilance)_([0-9]{9})\.pdf"
)
PDF_CONTENT_TYPE = "application/pdf"


class Sandbox:
    """The fictitious API Entreprise: same v4 routes, shapes, status codes and error bodies.

    One instance per app (the wiring creates it): it owns the per-token rate limiter.
    `clock` gives seconds since the epoch (rate-limit windows, token expiry, and the "today"
    of attestation dates); `slow_delay` is how long the slow persona takes.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        slow_delay: float = SLOW_DELAY,
        rate_limit: int = RATE_LIMIT,
    ) -> None:
        self.clock = clock
        self.slow_delay = slow_delay
        self.rate_limit = rate_limit
        self._limiter = RateLimiter(rate_limit)

    def reset_rate_limits(self) -> None:
        """Forget all per-token request counts, as if a new minute had started."""
        self._limiter.reset()

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        *,
        base_url: str = SANDBOX_URL,
    ) -> SandboxAnswer:
        """Answer one request to the fictitious API Entreprise, like the real one would.
        `base_url` is where this sandbox is reached: its document links point there."""
        now = self.clock()
        headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        query = query or {}
        if urlsplit(path).path.startswith(records.DOCUMENTS_PREFIX):
            return self._document(method, urlsplit(path).path, headers, now)
        if urlsplit(path).path == SEARCH_PATH and method.upper() in ("GET", "HEAD"):
            # The open company search: no token, no quota per token (another service).
            return search.search(query)
        route, identifier = route_for(urlsplit(path).path.rstrip("/") or "/")
        if route is None:
            return errors(404, "unknown_route")
        if method.upper() not in ("GET", "HEAD"):
            return errors(405, "method_not_allowed", headers={"Allow": "GET"})

        token = _bearer(headers)
        limit_headers: dict[str, str] = {}
        if token is not None:
            allowed, remaining, reset = self._limiter.hit(token, now)
            limit_headers = {
                "RateLimit-Limit": str(self.rate_limit),
                "RateLimit-Remaining": str(remaining),
                "RateLimit-Reset": str(reset),
            }
            if not allowed:
                retry_after = str(max(1, math.ceil(reset - now)))
                return errors(
                    429, "too_many_requests", headers={**limit_headers, "Retry-After": retry_after}
                )
        refused, scopes = _check_token(token, now)
        if refused is not None:
            return refused

        if route.name == "privileges":
            return answer(200, {"privileges": scopes}, limit_headers)
        if not set(scopes) & set(route.scopes):
            return errors(403, "insufficient_privileges")
        refused, siren = _check_params(route, identifier, query)
        if refused is not None:
            return refused

        kind = ERROR_PERSONAS.get(siren or "")
        if kind:
            return self._persona_error(kind, route, now)
        delay = self.slow_delay if siren in SLOW_SIRENS else 0.0

        payload = _payload(route, identifier, datetime.fromtimestamp(now).date(), base_url)
        if payload is None:
            return errors(404, f"not_found_{route.provider}")
        extra = dict(limit_headers)
        if route.cached:
            # Documented on these routes; the value is empty (but present) when nothing is cached.
            extra.update({"X-Response-Cached": "false", "X-Cache-Expires-in": ""})
        return answer(200, payload, extra, delay)

    def _document(
        self, method: str, path: str, headers: dict[str, str], now: float
    ) -> SandboxAnswer:
        """An attestation's PDF, like the file store behind a document_url: the link is its
        own credential, so a request carrying an Authorization header is refused (as a
        presigned URL's store does), and what the API gave no link for is not found."""
        if method.upper() not in ("GET", "HEAD"):
            return errors(405, "method_not_allowed", headers={"Allow": "GET"})
        if "authorization" in headers:
            return errors(400, "document_with_credentials")
        match = _DOCUMENT.fullmatch(path)
        if match is None or match.group(2) in ERROR_PERSONAS:
            return errors(404, "document_not_found")
        kind, siren = match.groups()
        content = records.attestation_document(kind, siren, datetime.fromtimestamp(now).date())
        if content is None:
            return errors(404, "document_not_found")
        return answer(200, content, {"Content-Type": PDF_CONTENT_TYPE})

    def _persona_error(self, kind: str, route: Route, now: float) -> SandboxAnswer:
        retry = {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(int(now) + PERSONA_RETRY_AFTER),
            "Retry-After": str(PERSONA_RETRY_AFTER),
        }
        if kind == "451" and route.provider == "insee":
            # Listed by the spec on the protected route only; the sandbox also answers it on
            # the open data route so that the demo form can show the case.
            return errors(451, "unavailable_for_legal_reasons")
        if kind == "401":
            return errors(401, "invalid_token")
        if kind == "403":
            return errors(403, "insufficient_privileges")
        if kind == "429":
            return errors(429, "too_many_requests", headers=retry)
        if kind == "429_empty":
            return answer(429, b"", retry)  # as recorded on staging: empty body
        if kind == "502":
            return errors(502, f"provider_error_{route.provider}")
        if kind == "504":
            return errors(504, "network_error")
        return errors(404, f"not_found_{route.provider}")


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _check_token(token: str | None, now: float) -> tuple[SandboxAnswer | None, list[str]]:
    """(refusal, scopes): a 401 answer for a missing, malformed, expired or blacklisted token."""
    if token is None:
        return errors(401, "invalid_token"), []
    try:
        claims = decode_claims(token)
    except NotAJwt:
        return errors(401, "invalid_token"), []
    expiry = claims.get("exp")
    if isinstance(expiry, (int, float)) and not isinstance(expiry, bool) and expiry < now:
        return errors(401, "expired_token"), []
    if claims.get("sub") == BLACKLISTED_SUBJECT:
        return errors(401, "blacklisted_token"), []
    scopes = claims.get("scopes")
    return None, [str(s) for s in scopes] if isinstance(scopes, list) else []


def _check_params(
    route: Route, identifier: str, query: dict[str, str]
) -> tuple[SandboxAnswer | None, str | None]:
    """(refusal, target SIREN): a 422 for missing or wrong parameters or identifier."""
    missing = [name for name in _MANDATORY_PARAMS if not query.get(name, "")]
    if missing:
        return errors(422, *(f"missing_{name}" for name in missing)), None
    recipient = query["recipient"].strip()
    if not is_siret(recipient):
        return errors(422, "recipient_not_siret"), None
    if not identifier_is_valid(route, identifier):
        return errors(422, f"bad_{route.identifier}"), None
    siren = target_siren(route, identifier)
    if siren is not None and recipient[:9] == siren:
        return errors(422, "recipient_is_target"), None
    return None, siren


def _payload(route: Route, identifier: str, today: date, base_url: str) -> dict | None:
    if route.name in ("etablissement_diffusible", "etablissement"):
        return records.etablissement_payload(identifier, protected=route.name == "etablissement")
    if route.name in ("association_open_data", "association"):
        return records.association_payload(identifier, protected=route.name == "association")
    if identifier not in KNOWN_SIRENS:
        return None
    if route.name == "attestation_fiscale":
        return records.attestation_fiscale_payload(identifier, today, base_url)
    return records.attestation_vigilance_payload(identifier, today, base_url)
