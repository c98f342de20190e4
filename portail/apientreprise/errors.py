"""API Entreprise failures as exceptions: one small class per error kind, texts from the catalogue.

The client (`portail.apientreprise.client`) raises one of these per failed call, the gateway
raises the portal's own refusals (budget spent, circuit open); the web layer shows
`applicant_message` to the citizen and `admin_detail` to the admin. What each kind is called
and what each audience reads lives in `portail.apientreprise.error_kinds`: a class here only
names its kind and its place in a small hierarchy, so callers can catch a family at once:

- `AboutTarget`: normal answers about the looked-up entity (not found, not public, the
  authority's own SIREN); the service works;
- `SetupProblem`: the portal's settings or habilitation need the admin (token, scopes,
  parameters);
- `TryAgainLater`: the call was refused for now (rate limit, the portal's own budget, the
  same request already running);
- `ServiceFailure`: the service failed (provider down, no usable HTTP answer, unusable
  answer); what the circuit breaker counts.

Every text is built from our own words plus the API's status, error code, title and
`X-Request-ID`: the token never reaches a message, a repr or a pickled state. No Flask here.
"""

from __future__ import annotations

from typing import ClassVar

from portail.apientreprise.error_kinds import (
    GENERIC,
    HAND_FILL,
    KIND_LABELS,
    KINDS,
    NORMAL_KINDS,
    ErrorKind,
    wait_words,
)

__all__ = [
    "HAND_FILL",
    "KIND_LABELS",
    "KINDS",
    "NORMAL_KINDS",
    "AboutTarget",
    "ApiEntrepriseError",
    "BadAnswer",
    "BadParameter",
    "BudgetSpent",
    "CircuitOpen",
    "ClientShareSpent",
    "DuplicateInFlight",
    "NetworkShareSpent",
    "NotFound",
    "NotPublic",
    "ProviderUnavailable",
    "RateLimited",
    "RecipientIsTarget",
    "ScopeMissing",
    "ServiceFailure",
    "SetupProblem",
    "Timeout",
    "TokenRefused",
    "TransportError",
    "TryAgainLater",
    "Unreachable",
]

_wait_words = wait_words  # the name older callers and tests use


class ApiEntrepriseError(Exception):
    """Base of every API Entreprise failure, with one message per audience.

    A subclass declares its `kind`; its `entry` (titles and texts) then comes from the
    catalogue, and an unknown kind fails at import. A class that declares no kind (the
    intermediate bases) keeps its parent's.

    `applicant_message` speaks to a citizen (French, vouvoiement, says they can fill in by
    hand); `admin_detail` tells the admin what happened and what to do, with the status,
    the API's error code and title and the `X-Request-ID` that support asks for.
    """

    kind: ClassVar[str] = GENERIC.kind
    entry: ClassVar[ErrorKind] = GENERIC
    default_title: ClassVar[str] = GENERIC.title

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            cls.entry = KINDS[cls.kind]
            cls.default_title = cls.entry.title

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
        return self.entry.applicant_message(self.retry_after)

    @property
    def admin_action(self) -> str:
        """What the admin should do about it."""
        return self.entry.admin_action_for(self.code)

    @property
    def admin_detail(self) -> str:
        """What the admin reads in the journal or the settings page. Never the token."""
        facts = []
        if self.status is not None:
            facts.append(f"statut HTTP {self.status}")
        if self.code:
            facts.append(f"code {self.code}")
        facts.append(f"« {self.title} »")
        if self.detail:
            facts.append(self.detail)
        if self.note:
            facts.append(self.note)
        if self.request_id:
            facts.append(f"X-Request-ID {self.request_id}")
        if self.retry_after is not None:
            facts.append(f"nouvel essai possible {wait_words(self.retry_after)}")
        return f"{' ; '.join(facts)}. {self.admin_action}"

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


# Families.


class AboutTarget(ApiEntrepriseError):
    """A normal answer about the looked-up entity: the service works (`NORMAL_KINDS`)."""


class SetupProblem(ApiEntrepriseError):
    """The portal's settings or habilitation need the admin: token, scopes, parameters."""


class TryAgainLater(ApiEntrepriseError):
    """The call was refused for now: it may be tried again later (`retry_after` if known)."""


class ServiceFailure(ApiEntrepriseError):
    """The service failed: provider down, no usable HTTP answer, or an unusable answer."""


# About the target.


class NotFound(AboutTarget):
    """404: unknown entity, or outside the route's perimeter (on diffusibles: maybe protected)."""

    kind = "not_found"


class NotPublic(AboutTarget):
    """451: the entity was never published by INSEE; nothing may be shown."""

    kind = "not_public"


# Setup.


class TokenRefused(SetupProblem):
    """401: the token is invalid (00101), expired (00103) or blacklisted (00105)."""

    kind = "token_refused"


class ScopeMissing(SetupProblem):
    """403: the token is valid but lacks the scope this route needs."""

    kind = "scope_missing"


class BadParameter(SetupProblem):
    """422: the API rejected a parameter (recipient, context, object, identifier)."""

    kind = "bad_parameter"


class RecipientIsTarget(BadParameter, AboutTarget):
    """422 code 00211: the looked-up entity shares the authority's SIREN."""

    kind = "recipient_is_target"


# Try again later.


class DuplicateInFlight(TryAgainLater):
    """409 code 00015: an identical request of this token is already running."""

    kind = "duplicate"


class RateLimited(TryAgainLater):
    """429: the token's rate limit is reached; nothing may leave before `retry_after`."""

    kind = "rate_limited"


class BudgetSpent(RateLimited):
    """The portal's own rate budget is spent: the call was not sent."""

    kind = "budget_spent"


class ClientShareSpent(BudgetSpent):
    """One client (IP address) has used its share of the budget: the call was not sent."""

    kind = "client_share_spent"


class NetworkShareSpent(ClientShareSpent):
    """The client's wider network (an IPv6 /48) has used its share: the call was not sent."""

    kind = "network_share_spent"


# Service failures.


class ProviderUnavailable(ServiceFailure):
    """502/503/504 (and other 5xx): the data provider is down or too slow."""

    kind = "unavailable"


class CircuitOpen(ProviderUnavailable):
    """Calls are suspended after repeated provider failures; the call was not sent."""

    kind = "circuit_open"


class TransportError(ServiceFailure):
    """No usable HTTP answer: the connection failed or took too long. Raised as one of its
    two subclasses; journaled as "unreachable" should it ever be raised as such."""

    kind = "unreachable"


class Timeout(TransportError):
    """The API did not answer (or finish answering) within the timeout."""

    kind = "timeout"


class Unreachable(TransportError):
    """Connection refused, DNS or TLS failure: the API could not be reached."""

    kind = "unreachable"


class BadAnswer(ServiceFailure):
    """An answer we cannot use: redirect, wrong content type, invalid JSON, missing fields,
    body over the size cap, unexpected status."""

    kind = "bad_answer"
