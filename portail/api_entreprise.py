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
import math
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import urllib3

from portail.api_transport import HttpTransport, SandboxTransport

logger = logging.getLogger(__name__)

# Route templates: the journal records these, never the filled-in URL.
ROUTE_ETABLISSEMENT_DIFFUSIBLE = "/v4/insee/sirene/etablissements/diffusibles/{siret}"
ROUTE_ETABLISSEMENT = "/v4/insee/sirene/etablissements/{siret}"
ROUTE_ASSOCIATION_OPEN_DATA = "/v4/djepva/api-association/associations/open_data/{siren_or_rna}"
ROUTE_PRIVILEGES = "/privileges"

# The API refuses an `object` of 50 characters or more.
OBJECT_MAX_LENGTH = 49
# An établissement answer weighs a few kB; anything near this cap is not an answer we want.
MAX_BODY_BYTES = 1024 * 1024
MAX_RETRY_AFTER = 3600.0  # longest pause an answer may impose on every worker
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

HAND_FILL = "Vous pouvez compléter les champs vous-même."


def _wait_words(seconds: float | None) -> str:
    """French words for a waiting time: 'dans environ 30 secondes', 'dans environ 2 minutes'."""
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return "dans quelques instants"
    seconds = min(seconds, MAX_RETRY_AFTER)
    if seconds < 90:
        return f"dans environ {max(1, math.ceil(seconds))} secondes"
    return f"dans environ {math.ceil(seconds / 60)} minutes"


class ApiEntrepriseError(Exception):
    """Base of every API Entreprise failure, with one message per audience.

    `applicant_message` speaks to a citizen (French, vouvoiement, says they can fill in by
    hand); `admin_detail` tells the admin what happened and what to do, with the status,
    the API's error code and title and the `X-Request-ID` that support asks for.
    """

    kind = "error"
    default_title = "Erreur"

    def __init__(
        self,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        headers: dict | None = None,
        note: str | None = None,
    ):
        self.status = status
        self.code = code
        self.title = title or self.default_title
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        self.note = note
        super().__init__(self._summary())

    def _summary(self) -> str:
        parts = [self.kind]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        parts.append(self.title)
        if self.note:
            parts.append(self.note)
        if self.request_id:
            parts.append(f"X-Request-ID {self.request_id}")
        return " | ".join(parts)

    @property
    def applicant_message(self) -> str:
        """What the applicant reads in the status line."""
        return f"Le pré-remplissage est momentanément indisponible. {HAND_FILL}"

    @property
    def admin_action(self) -> str:
        """What the admin should do about it."""
        return "Aucune action nécessaire si l'erreur reste isolée."

    @property
    def admin_detail(self) -> str:
        """What the admin reads in the journal or the settings page. Never the token."""
        facts = []
        if self.status is not None:
            facts.append(f"statut HTTP {self.status}")
        if self.code:
            facts.append(f"code {self.code}")
        facts.append(f"« {self.title} »")
        if self.detail:
            facts.append(self.detail)
        if self.note:
            facts.append(self.note)
        if self.request_id:
            facts.append(f"X-Request-ID {self.request_id}")
        if self.retry_after is not None:
            facts.append(f"nouvel essai possible {_wait_words(self.retry_after)}")
        return f"{' ; '.join(facts)}. {self.admin_action}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()!r})"

    def __reduce__(self):
        # Keyword-only __init__: pickle (multiprocessing) needs to rebuild from state.
        return (_rebuild_error, (type(self), self.__dict__.copy()))


def _rebuild_error(cls, state):
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._summary())
    return error


class NotFound(ApiEntrepriseError):
    """404: unknown entity, or outside the route's perimeter (on diffusibles: maybe protected)."""

    kind = "not_found"
    default_title = "Entité non trouvée"

    @property
    def applicant_message(self) -> str:
        return (
            "Aucune donnée publique n'est disponible pour ce SIRET. "
            "Vérifiez le numéro ou complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return "Réponse normale de l'API : l'entité n'a pas de données publiques."


class NotPublic(ApiEntrepriseError):
    """451: the entity was never published by INSEE; nothing may be shown."""

    kind = "not_public"
    default_title = "Indisponible pour des raisons légales"

    @property
    def applicant_message(self) -> str:
        return (
            "Les informations de cet établissement ne peuvent pas être affichées. "
            "Complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return "Réponse normale de l'API : l'entité n'est pas diffusée par l'INSEE."


class TokenRefused(ApiEntrepriseError):
    """401: the token is invalid (00101), expired (00103) or blacklisted (00105)."""

    kind = "token_refused"
    default_title = "Jeton refusé"

    @property
    def admin_action(self) -> str:
        if self.code == "00103":
            return "Le jeton a expiré : collez un nouveau jeton dans les paramètres."
        if self.code == "00105":
            return (
                "Le jeton est sur liste noire (probablement divulgué) : demandez-en un "
                "nouveau sur entreprise.api.gouv.fr et collez-le dans les paramètres."
            )
        return "Vérifiez le jeton dans les paramètres et, au besoin, collez-le à nouveau."


class ScopeMissing(ApiEntrepriseError):
    """403: the token is valid but lacks the scope this route needs."""

    kind = "scope_missing"
    default_title = "Privilèges insuffisants"

    @property
    def admin_action(self) -> str:
        return (
            "Le jeton n'a pas l'habilitation nécessaire pour cette donnée : vérifiez les "
            "droits (scopes) de votre habilitation DataPass."
        )


class BadParameter(ApiEntrepriseError):
    """422: the API rejected a parameter (recipient, context, object, identifier)."""

    kind = "bad_parameter"
    default_title = "Paramètre invalide"

    @property
    def admin_action(self) -> str:
        return "Vérifiez le SIRET de votre organisation et le contexte d'appel dans les paramètres."


class RecipientIsTarget(BadParameter):
    """422 code 00211: the looked-up entity shares the authority's SIREN."""

    kind = "recipient_is_target"
    default_title = "Le paramètre recipient est identique au SIRET/SIREN appelé."

    @property
    def applicant_message(self) -> str:
        return (
            "Ce SIRET appartient à la collectivité qui reçoit les demandes : ses informations "
            "ne peuvent pas être pré-remplies. Complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return (
            "Réponse normale : l'API refuse qu'une organisation se consulte elle-même "
            "(même SIREN que le SIRET de votre organisation)."
        )


class DuplicateInFlight(ApiEntrepriseError):
    """409 code 00015: an identical request of this token is already running."""

    kind = "duplicate"
    default_title = "Conflit"

    @property
    def applicant_message(self) -> str:
        return f"La recherche est déjà en cours. Réessayez dans quelques instants. {HAND_FILL}"

    @property
    def admin_action(self) -> str:
        return (
            "Une requête identique était déjà en cours (probablement depuis un autre "
            "processus du portail ou un autre logiciel utilisant le même jeton)."
        )


class RateLimited(ApiEntrepriseError):
    """429: the token's rate limit is reached; nothing may leave before `retry_after`."""

    kind = "rate_limited"
    default_title = "Trop de requêtes"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est momentanément saturé. Réessayez "
            f"{_wait_words(self.retry_after)}. {HAND_FILL}"
        )

    @property
    def admin_action(self) -> str:
        return (
            "Le portail suspend tous ses appels jusqu'à la fin du délai indiqué "
            "(ignorer un 429 fait bannir l'adresse IP 12 heures). Si cela se répète, "
            "vérifiez qu'aucun autre logiciel n'utilise le même jeton."
        )


class BudgetSpent(RateLimited):
    """The portal's own rate budget is spent: the call was not sent."""

    kind = "budget_spent"
    default_title = "Budget d'appels du portail épuisé"

    @property
    def admin_action(self) -> str:
        return (
            "Aucun appel envoyé : le portail garde une marge sous la limite de l'API. "
            "Si cela se répète, augmentez RATE_BUDGET_PER_MINUTE (sans dépasser 250)."
        )


class ClientShareSpent(BudgetSpent):
    """One client (IP address) has used its share of the budget: the call was not sent."""

    kind = "client_share_spent"
    default_title = "Part du budget d'un même poste épuisée"

    @property
    def applicant_message(self) -> str:
        return (
            "Vous avez lancé de nombreuses recherches en peu de temps. La recherche par SIRET "
            f"sera de nouveau possible {_wait_words(self.retry_after)}. {HAND_FILL}"
        )

    @property
    def admin_action(self) -> str:
        return (
            "Aucun appel envoyé : une même adresse IP ne peut utiliser qu'une part du budget "
            "(RATE_BUDGET_PER_CLIENT_PER_MINUTE), pour qu'un seul poste ou un robot ne prive "
            "pas les autres demandeurs du pré-remplissage."
        )


class NetworkShareSpent(ClientShareSpent):
    """The client's wider network (an IPv6 /48) has used its share: the call was not sent."""

    kind = "network_share_spent"
    default_title = "Part du budget d'un même réseau épuisée"

    @property
    def applicant_message(self) -> str:
        return (
            "De nombreuses recherches ont été lancées depuis votre réseau en peu de temps. La "
            f"recherche par SIRET sera de nouveau possible {_wait_words(self.retry_after)}. "
            f"{HAND_FILL}"
        )


class ProviderUnavailable(ApiEntrepriseError):
    """502/503/504 (and other 5xx): the data provider is down or too slow."""

    kind = "unavailable"
    default_title = "Fournisseur de données indisponible"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est temporairement indisponible. "
            f"Réessayez {_wait_words(self.retry_after)} ou complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return (
            "Panne ou lenteur du fournisseur (INSEE, DJEPVA…) : voir "
            "status.entreprise.api.gouv.fr. Rien à faire côté portail."
        )


class CircuitOpen(ProviderUnavailable):
    """Calls are suspended after repeated provider failures; the call was not sent."""

    kind = "circuit_open"
    default_title = "Appels suspendus après plusieurs pannes"

    @property
    def admin_action(self) -> str:
        return (
            "Le portail a suspendu ses appels après plusieurs pannes successives ; un appel "
            "d'essai sera tenté à la fin de la pause."
        )


class TransportError(ApiEntrepriseError):
    """No usable HTTP answer: the connection failed or took too long."""

    kind = "unreachable"
    default_title = "Erreur de transport"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est temporairement indisponible. "
            "Réessayez plus tard ou complétez les champs vous-même."
        )


class Timeout(TransportError):
    """The API did not answer (or finish answering) within the timeout."""

    kind = "timeout"
    default_title = "Délai de réponse dépassé"

    @property
    def admin_action(self) -> str:
        return "L'API n'a pas répondu à temps ; si cela se répète, voir son état de service."


class Unreachable(TransportError):
    """Connection refused, DNS or TLS failure: the API could not be reached."""

    kind = "unreachable"
    default_title = "API injoignable"

    @property
    def admin_action(self) -> str:
        return (
            "Vérifiez l'URL de l'API dans les paramètres et l'accès réseau sortant du "
            "serveur (pare-feu, proxy, DNS, certificats)."
        )


class BadAnswer(ApiEntrepriseError):
    """An answer we cannot use: redirect, wrong content type, invalid JSON, missing fields,
    body over the size cap, unexpected status."""

    kind = "bad_answer"
    default_title = "Réponse inexploitable"

    @property
    def applicant_message(self) -> str:
        return (
            "Le service de pré-remplissage est temporairement indisponible. "
            "Complétez les champs vous-même."
        )

    @property
    def admin_action(self) -> str:
        return (
            "Réponse inattendue : vérifiez l'URL de l'API dans les paramètres ; si elle est "
            "correcte, signalez-le avec l'X-Request-ID."
        )


@dataclass
class ApiAnswer:
    """A successful (2xx) JSON answer."""

    data: dict  # the whole JSON body ({"data", "links", "meta"})
    status: int
    request_id: str | None
    headers: dict = field(default_factory=dict)
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class RateLimitInfo:
    """What the `RateLimit-*` headers said (None where absent or unreadable)."""

    limit: int | None
    remaining: int | None
    reset_at: float | None  # epoch seconds: end of the API's current one-minute window


def _header(headers, name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _int_header(headers, name: str) -> int | None:
    value = _header(headers, name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def rate_limit_info(headers, now: float | None = None) -> RateLimitInfo | None:
    """Read `RateLimit-Limit/Remaining/Reset`; None when the answer carries none of them.

    The reset is documented as an epoch timestamp; a small value is read as seconds from
    now (the IETF draft's form), so either convention feeds the budget correctly.
    """
    limit = _int_header(headers, "RateLimit-Limit")
    remaining = _int_header(headers, "RateLimit-Remaining")
    reset = _int_header(headers, "RateLimit-Reset")
    if limit is None and remaining is None and reset is None:
        return None
    now = time.time() if now is None else now
    reset_at = None
    if reset is not None:
        reset_at = float(reset) if reset > 1_000_000_000 else now + max(0, reset)
    return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at)


def retry_after_seconds(headers, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else from `RateLimit-Reset`.

    Clamped to [0, MAX_RETRY_AFTER]: a nonsensical answer (inf, a date in year 9999) from a
    proxy must not switch the prefill off for ever.
    """
    now = time.time() if now is None else now
    value = _header(headers, "Retry-After")
    if value is not None:
        try:
            return _clamp_wait(float(value))
        except ValueError:
            try:
                return _clamp_wait(parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, OverflowError):
                pass
    info = rate_limit_info(headers, now)
    if info is not None and info.reset_at is not None:
        return _clamp_wait(info.reset_at - now)
    return None


def _clamp_wait(seconds: float) -> float | None:
    if not math.isfinite(seconds):
        return MAX_RETRY_AFTER if seconds > 0 else None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


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
