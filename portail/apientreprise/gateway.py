"""The lookup service: a SIRET in, a prefilled `Tiers` (or a French explanation) out.

How a lookup flows (design/architecture.md): answer from the cache, or join an identical
lookup in flight, or pass the circuit breaker and the shared rate budget, then call the
client; journal every call and every hit; turn the payload into a `Tiers`. Whatever the
API does, `lookup_public_tiers` returns a `LookupOutcome` and never raises: the applicant
can always fill in by hand.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import sqlite_utils

from portail.apientreprise import budget, circuit
from portail.apientreprise import cache as lookup_cache
from portail.apientreprise.answer import ApiAnswer, rate_limit_info
from portail.apientreprise.catalogue import (
    ROUTE_ASSOCIATION_OPEN_DATA,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
    ROUTE_PRIVILEGES,
)
from portail.apientreprise.client import ApiEntrepriseClient
from portail.apientreprise.errors import (
    ApiEntrepriseError,
    BadAnswer,
    BudgetSpent,
    CircuitOpen,
    ClientShareSpent,
    DuplicateInFlight,
    NetworkShareSpent,
    NotFound,
    NotPublic,
    ProviderUnavailable,
    RateLimited,
    RecipientIsTarget,
    Timeout,
    TransportError,
)
from portail.apientreprise.singleflight import JoinTimeout, SingleFlight
from portail.apientreprise.transport import HttpTransport, SandboxTransport
from portail.core.api_urls import SANDBOX_URL
from portail.core.netaddr import NETWORK_SHARE_FACTOR, ClientKeys, client_keys
from portail.core.settings_rules import Settings
from portail.core.tiers import BadPayload, Tiers, add_association, tiers_from_etablissement
from portail.storage import journal
from portail.storage.database import immediate, relaxed_durability

logger = logging.getLogger(__name__)


# The API's limit is 250 per minute per token: the portal's budget always stays below.
MAX_BUDGET_PER_MINUTE = 240


PROVIDER_INSEE = "insee"


PROVIDER_DJEPVA = "djepva"


_warned_budgets: set[int] = set()


# app.config key -> LookupPolicy field. Values may come from PORTAIL_<KEY> env variables.
CONFIG_KEYS = {
    "LOOKUP_CACHE_SECONDS": "cache_seconds",
    "LOOKUP_NEGATIVE_CACHE_SECONDS": "negative_cache_seconds",
    "RATE_BUDGET_PER_MINUTE": "budget_per_minute",
    "RATE_BUDGET_MAX_WAIT_SECONDS": "budget_max_wait",
    "RATE_BUDGET_PER_CLIENT_PER_MINUTE": "budget_per_client",
    "API_TIMEOUT_SECONDS": "timeout",
    "API_DOCUMENT_TIMEOUT_SECONDS": "document_timeout",
    "CIRCUIT_FAILURE_THRESHOLD": "circuit_threshold",
    "CIRCUIT_COOLDOWN_SECONDS": "circuit_cooldown",
}


@dataclass(frozen=True)
class LookupPolicy:
    """Tunables of the lookup service (from app.config via `from_config`)."""

    cache_seconds: float = 86400.0  # found établissements: Sirene refreshes daily
    negative_cache_seconds: float = 600.0  # 404 / 451: briefly, a new company appears soon
    budget_per_minute: int = 200
    budget_max_wait: float = 1.0  # longest a request thread sleeps waiting for budget
    # Calls one client (IP address, IPv6 per /64) may take from the budget per minute; 0 for
    # no share. 20 distinct, uncached SIRETs a minute is far more than a person types, even
    # at a town hall desk where several applicants share one address.
    budget_per_client: int = 20
    timeout: float = 5.0  # JSON routes (API Entreprise's recommendation)
    document_timeout: float = 12.0  # document routes
    circuit_threshold: int = 5
    circuit_cooldown: float = 30.0

    def __post_init__(self) -> None:
        if self.budget_per_minute > MAX_BUDGET_PER_MINUTE:
            if self.budget_per_minute not in _warned_budgets:  # once, not at every lookup
                _warned_budgets.add(self.budget_per_minute)
                logger.warning(
                    "RATE_BUDGET_PER_MINUTE=%s ramené à %s (limite de l'API : 250/min)",
                    self.budget_per_minute,
                    MAX_BUDGET_PER_MINUTE,
                )
            object.__setattr__(self, "budget_per_minute", MAX_BUDGET_PER_MINUTE)
        if self.budget_per_minute < 1:
            object.__setattr__(self, "budget_per_minute", 1)

    @classmethod
    def from_config(cls, config: Mapping) -> LookupPolicy:
        """Build from a Flask config (or any mapping); absent keys keep their defaults."""
        values = {}
        for key, name in CONFIG_KEYS.items():
            if config.get(key) is None:
                continue
            kind = type(getattr(cls, name))
            try:
                values[name] = kind(config[key])
            except (TypeError, ValueError):
                logger.warning("%s=%r ignoré (valeur invalide)", key, config[key])
        return cls(**values)

    @property
    def circuit(self) -> circuit.CircuitPolicy:
        """The circuit breaker's part of the policy."""
        return circuit.CircuitPolicy(
            threshold=self.circuit_threshold,
            cooldown=self.circuit_cooldown,
            probe_timeout=2 * self.timeout + self.budget_max_wait,
        )

    @property
    def join_wait(self) -> float:
        """Longest a joined lookup waits: two calls (établissement, association) and margin."""
        return 2 * (self.timeout + self.budget_max_wait) + 1.0


@dataclass
class LookupOutcome:
    """What the deposit view shows: the Tiers (or None), the status line and its level."""

    tiers: Tiers | None
    message: str
    level: str  # "ok" | "warning" | "error"
    snapshot: dict | None = None  # {"etablissement": body, "association": body or None}
    error_kind: str | None = None
    from_cache: bool = False
    joined: bool = False
    retry_after: float | None = None
    admin_detail: str | None = None  # for logs and admin pages, never for the applicant


_transports: dict[tuple[int, str], HttpTransport | SandboxTransport] = {}


_transports_lock = threading.Lock()


def _transport_for(base_url: str) -> HttpTransport | SandboxTransport:
    """One keep-alive transport per process and kind of URL (connections are reused)."""
    kind = "sandbox" if base_url.rstrip("/") == SANDBOX_URL else "http"
    key = (os.getpid(), kind)  # a forked worker must not share its parent's sockets
    with _transports_lock:
        transport = _transports.get(key)
        if transport is None:
            transport = SandboxTransport() if kind == "sandbox" else HttpTransport()
            _transports[key] = transport
        return transport


def make_client(settings: Settings, policy: LookupPolicy | None = None) -> ApiEntrepriseClient:
    """The client for these settings; the built-in sandbox answers in-process."""
    policy = policy or LookupPolicy()
    return ApiEntrepriseClient(
        settings.api_url,
        settings.token,
        settings.recipient_siret,
        settings.context,
        transport=_transport_for(settings.api_url),
        timeout=policy.timeout,
        document_timeout=policy.document_timeout,
    )


DISABLED_MESSAGE = (
    "Le pré-remplissage n'est pas disponible pour le moment. Complétez les champs vous-même."
)


ASSOCIATION_NOTE = (
    "Le numéro RNA et l'objet de l'association n'ont pas pu être récupérés : "
    "complétez-les vous-même."
)


MASKED_NOTE = "Certaines informations ne sont pas publiques : complétez-les vous-même."


# Answers that say something about the SIRET itself rather than about the service.
_NORMAL_KINDS = frozenset({"not_found", "not_public", "recipient_is_target"})


def _found_message(tiers: Tiers, notes: list[str]) -> str:
    who = f"pour « {tiers.raison_sociale} »" if tiers.raison_sociale else "pour ce SIRET"
    parts = [f"Informations publiques trouvées {who}."]
    parts.append("Vérifiez-les : tous les champs restent modifiables.")
    parts += notes
    return " ".join(parts)


def _failure(error: ApiEntrepriseError, **extra) -> LookupOutcome:
    return LookupOutcome(
        tiers=None,
        message=error.applicant_message,
        level="warning" if error.kind in _NORMAL_KINDS else "error",
        error_kind=error.kind,
        retry_after=error.retry_after,
        admin_detail=error.admin_detail,
        **extra,
    )


class _NegativeHit(Exception):
    """A cached 404/451, re-raised as its exception."""


@dataclass
class _Trace:
    """What a joined follower journals: the upstream rows its leader produced."""

    route: str
    target: str
    status: int | None
    error_code: str | None
    kind: str | None
    request_id: str | None


@dataclass
class _Context:
    db: sqlite_utils.Database
    settings: Settings
    policy: LookupPolicy
    client: ApiEntrepriseClient
    actor: str
    object_: str
    applicant: ClientKeys | None = None  # throttle keys of the applicant's address, if known
    traces: list[_Trace] = field(default_factory=list)
    from_cache: bool = False


_NEGATIVE_ERRORS = {"not_found": NotFound, "not_public": NotPublic}


# Why the budget refused a call -> what the applicant is told (default: BudgetSpent).
_REFUSALS = {"client": ClientShareSpent, "network": NetworkShareSpent}


def _fetch(
    ctx: _Context,
    *,
    route: str,
    target: str,
    provider: str,
    call: Callable[[], ApiAnswer],
    check: Callable[[dict], object],
) -> tuple[dict, object]:
    """One upstream answer for (route, target): from the cache, or through circuit, budget,
    client, then journal. Returns (body, check(body)) or raises ApiEntrepriseError.

    `check` turns the body into what the caller needs (e.g. a Tiers); a BadPayload there
    makes the answer a BadAnswer before anything is cached.
    """
    db, policy = ctx.db, ctx.policy
    key = lookup_cache.cache_key(ctx.settings.api_url, route, target)

    hit = lookup_cache.get(db, key)
    if hit is not None:
        ctx.from_cache = True
        _journal(ctx, route, target, hit.status, None, hit.kind, 0.0, hit.request_id, cache=True)
        if hit.kind in _NEGATIVE_ERRORS:
            raise _NEGATIVE_ERRORS[hit.kind](
                status=hit.status, request_id=hit.request_id, note="réponse mise en cache"
            )
        try:
            return hit.body, check(hit.body)
        except BadPayload:
            lookup_cache.forget(db, key)  # then ask the API afresh below

    permit = circuit.before_call(db, provider, policy.circuit)
    if not permit.allowed:
        error = CircuitOpen(retry_after=max(0.0, permit.retry_at - time.time()))
        _journal_refusal(ctx, route, target, error)
        raise error
    admission = budget.acquire(
        db,
        per_minute=policy.budget_per_minute,
        max_wait=policy.budget_max_wait,
        client=ctx.applicant.client if ctx.applicant else None,
        per_client=policy.budget_per_client or None,
        network=ctx.applicant.network if ctx.applicant else None,
        per_network=NETWORK_SHARE_FACTOR * policy.budget_per_client or None,
    )
    if not admission.granted:
        if permit.probe:
            circuit.release_probe(db, provider)
        refused = _REFUSALS.get(admission.reason, BudgetSpent)
        error = refused(retry_after=admission.retry_after(), note=admission.reason)
        _journal_refusal(ctx, route, target, error)
        raise error

    started = time.monotonic()
    answer = error = None
    checked = None
    try:
        answer = call()
        checked = check(answer.data)
    except ApiEntrepriseError as exc:
        error = exc
    except BadPayload as exc:
        error = BadAnswer(
            status=answer.status,
            request_id=answer.request_id,
            headers=answer.headers,
            note=f"données incomplètes ({exc})"[:200],
        )
    except Exception as exc:  # a library surprise: still journal the call, never crash
        logger.exception("Appel API Entreprise en échec inattendu")
        error = BadAnswer(
            status=answer.status if answer else None,
            note=f"erreur inattendue ({type(exc).__name__})",
        )
    duration_ms = (time.monotonic() - started) * 1000
    _finish(ctx, key, route, target, provider, answer, error, duration_ms)
    if error is not None:
        raise error
    return answer.data, checked


def _finish(ctx, key, route, target, provider, answer, error, duration_ms) -> None:
    """Everything learnt from one call, written in one transaction (one fsync, not four)."""
    db, policy = ctx.db, ctx.policy
    status = answer.status if error is None else error.status
    headers = answer.headers if error is None else error.headers
    request_id = answer.request_id if error is None else error.request_id
    kind = None if error is None else error.kind
    code = None if error is None else error.code
    now = time.time()
    try:
        with immediate(db):
            _journal(ctx, route, target, status, code, kind, duration_ms, request_id)
            budget.record_rate_headers(db, rate_limit_info(headers, now), now=now)
            if isinstance(error, RateLimited):
                # Every worker stops until Retry-After: ignoring a 429 bans the IP 12 hours.
                budget.block_until(db, now + (error.retry_after or 60.0))
            if isinstance(error, (ProviderUnavailable, TransportError, BadAnswer)):
                circuit.record_failure(db, provider, policy.circuit, error=error._summary())
            elif status is not None:
                circuit.record_success(db, provider)
            successor = _successor_answer(route, target, answer.data) if error is None else None
            if successor is not None:
                # The applicant will likely look the successor up next ("Utiliser le SIRET"):
                # its answer is already here.
                successor_siret, successor_body = successor
                lookup_cache.put(
                    db,
                    lookup_cache.cache_key(ctx.settings.api_url, route, successor_siret),
                    route=route,
                    target=successor_siret,
                    status=status,
                    kind=None,
                    body=successor_body,
                    request_id=request_id,
                    ttl=policy.cache_seconds,
                    now=now,
                )
            # Found answers are kept long (Sirene refreshes daily), "unknown" and "not
            # public" briefly; any other failure is never cached.
            if error is None or kind in _NEGATIVE_ERRORS:
                lookup_cache.put(
                    db,
                    key,
                    route=route,
                    target=target,
                    status=status,
                    kind=kind,
                    body=answer.data if error is None else None,
                    request_id=request_id,
                    ttl=policy.cache_seconds if error is None else policy.negative_cache_seconds,
                    now=now,
                )
    except sqlite3.Error:
        # The trace must not be lost even if the database is unavailable: the log keeps it.
        logger.exception(
            "Journal API Entreprise non écrit : route=%s cible=%s objet=%s acteur=%s "
            "statut=%s code=%s durée=%.0f ms X-Request-ID=%s",
            route,
            target,
            ctx.object_,
            ctx.actor,
            status,
            code,
            duration_ms,
            request_id,
        )
        if isinstance(error, RateLimited):
            raise  # without the shared block, other workers would keep calling: stop here


def _successor_answer(route: str, target: str, body: dict) -> tuple[str, dict] | None:
    """For an établissement answered under another SIRET (a transfer), that SIRET and the
    answer as a direct lookup of it would get (without the redirect marker); else None."""
    if route != ROUTE_ETABLISSEMENT_DIFFUSIBLE:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    answered = data.get("siret") if isinstance(data, dict) else None
    if not (isinstance(answered, str) and answered.isdigit() and len(answered) == 14):
        return None
    if answered == target:
        return None
    meta = body.get("meta")
    direct = dict(body)
    if isinstance(meta, dict):
        direct["meta"] = {k: v for k, v in meta.items() if k != "redirect_from_siret"}
    return answered, direct


def _journal(
    ctx, route, target, status, code, kind, duration_ms, request_id, *, cache=False, refused=False
):
    journal.record_call(
        ctx.db,
        route=route,
        target=target,
        object_=ctx.object_,
        actor=ctx.actor,
        status=status,
        error_code=code,
        duration_ms=duration_ms,
        request_id=request_id,
        cache_hit=cache,
        kind=kind,
        refused=refused,
    )
    if not refused:  # lookups joined to this one accessed the same data: they repeat the trace
        ctx.traces.append(_Trace(route, target, status, code, kind, request_id))


class _RefusalNotes:
    """Which refusals were already noted this minute (in process).

    A refusal costs the refused client nothing upstream, so a script can be refused a
    thousand times a minute; the journal, kept 36 months, and the log must not grow with
    it. The first refusal per minute of each key is noted, the rest only counted into the
    next note. A key is (network or client, kind) for a share spent, (None, kind) for the
    portal-wide refusals (budget, open circuit). The keys are few (a client must spend its
    share before being refused for it), and at most MAX_KEYS are remembered, the oldest
    forgotten first. Several worker processes may each note one: still a handful a minute.
    """

    WINDOW = 60.0
    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._noted: OrderedDict[tuple[str | None, str], tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def should_note(self, key: tuple[str | None, str]) -> int | None:
        """None when this refusal is only counted; else how many were skipped since the
        last note (0 for the first)."""
        now = time.monotonic()
        with self._lock:
            noted_at, skipped = self._noted.get(key, (None, 0))
            if noted_at is not None and now - noted_at < self.WINDOW:
                self._noted[key] = (noted_at, skipped + 1)
                return None
            self._noted[key] = (now, 0)
            self._noted.move_to_end(key)
            while len(self._noted) > self.MAX_KEYS:
                self._noted.popitem(last=False)
            return skipped

    def clear(self) -> None:
        """Forget every note (tests start from a clean slate)."""
        with self._lock:
            self._noted.clear()


_refusal_notes = _RefusalNotes()


def _refusal_key(ctx: _Context, error: ApiEntrepriseError) -> tuple[str | None, str]:
    if isinstance(error, ClientShareSpent) and ctx.applicant is not None:
        # Per network when there is one: a /48 holds 65,536 /64s, one note for them all.
        return (ctx.applicant.network or ctx.applicant.client, error.kind)
    return (None, error.kind)


def _journal_refusal(ctx: _Context, route: str, target: str, error: ApiEntrepriseError) -> None:
    """Trace a lookup the portal refused to send (budget, client share, open circuit).

    No data was accessed, so this row is for the admin, not the legal trace: it is written
    with relaxed durability, at most once a minute per key (`_RefusalNotes`).
    """
    key = _refusal_key(ctx, error)
    skipped = _refusal_notes.should_note(key)
    if skipped is None:
        return
    logger.warning(
        "Appel API Entreprise non envoyé (%s, %s) : reprise possible dans %.0f s%s",
        error.kind,
        key[0] or "tous les demandeurs",
        error.retry_after or 0,
        f" ; {skipped} refus semblables non notés la minute précédente" if skipped else "",
    )
    try:
        with relaxed_durability(ctx.db):
            _journal(ctx, route, target, None, None, error.kind, None, None, refused=True)
    except sqlite3.Error:
        logger.exception("Refus d'appel non journalisé (%s, cible %s)", error.kind, target)


def _await_other_worker(ctx: _Context, route: str, target: str) -> tuple[dict, Tiers] | None:
    """After a 409, another worker is fetching the same SIRET: wait briefly for its answer."""
    key = lookup_cache.cache_key(ctx.settings.api_url, route, target)
    deadline = time.monotonic() + ctx.policy.budget_max_wait
    while time.monotonic() < deadline:
        time.sleep(0.1)
        hit = lookup_cache.get(ctx.db, key)
        if hit is not None and hit.kind is None:
            try:
                return hit.body, tiers_from_etablissement(hit.body, target)
            except BadPayload:
                return None
    return None


_flights: SingleFlight[tuple[LookupOutcome, list[_Trace]]] = SingleFlight()


def lookup_public_tiers(
    db: sqlite_utils.Database,
    settings: Settings,
    siret: str,
    *,
    actor: str = "anonyme",
    object_: str,
    policy: LookupPolicy | None = None,
    client: str | None = None,
) -> LookupOutcome:
    """Prefill from open data for `siret` (already validated by the caller). Never raises.

    Without `policy`, the current Flask app's config is read when there is one, else the
    defaults apply.
    """
    policy = policy or _policy_from_current_app()
    if not settings.prefill_available:
        return LookupOutcome(None, DISABLED_MESSAGE, "warning", error_kind="disabled")
    if settings.recipient_siret[:9] == siret[:9]:
        # The API would answer 422 00211 (recipient equals target, also at SIREN level):
        # say so without spending a call.
        return _failure(RecipientIsTarget(note="détecté par le portail, aucun appel envoyé"))
    try:
        key = (settings.api_url, settings.recipient_siret, siret)
        applicant = client_keys(client) if client else None
        (outcome, traces), joined = _flights.run(
            key,
            lambda: _lookup(db, settings, siret, actor, object_, policy, applicant),
            wait=policy.join_wait,
        )
        if joined:
            _journal_joined(db, traces, actor, object_)
            outcome = replace(outcome, joined=True)
        return outcome
    except JoinTimeout:
        return _failure(Timeout(note="recherche identique en cours trop longue"))
    except Exception:
        # A bug or a database failure must still leave the applicant a usable form.
        logger.exception("Recherche SIRET en échec inattendu")
        return _failure(BadAnswer(note="erreur interne du portail"))


def _journal_joined(db, traces: list[_Trace], actor: str, object_: str) -> None:
    try:
        for trace in traces:
            journal.record_call(
                db,
                route=trace.route,
                target=trace.target,
                object_=object_,
                actor=actor,
                status=trace.status,
                error_code=trace.error_code,
                duration_ms=0.0,
                request_id=trace.request_id,
                kind=trace.kind,
                joined=True,
            )
    except sqlite3.Error:
        logger.exception("Journal API Entreprise non écrit (recherche jointe, acteur %s)", actor)


def _lookup(
    db, settings, siret, actor, object_, policy, applicant=None
) -> tuple[LookupOutcome, list[_Trace]]:
    client = make_client(settings, policy)
    ctx = _Context(db, settings, policy, client, actor, object_, applicant)
    return _lookup_in(ctx, siret), ctx.traces


def _lookup_in(ctx: _Context, siret: str) -> LookupOutcome:
    client = ctx.client
    route = ROUTE_ETABLISSEMENT_DIFFUSIBLE
    try:
        body, tiers = _fetch(
            ctx,
            route=route,
            target=siret,
            provider=PROVIDER_INSEE,
            call=lambda: client.etablissement_diffusible(siret, object_=ctx.object_),
            check=lambda payload: tiers_from_etablissement(payload, siret),
        )
    except DuplicateInFlight as error:
        found = _await_other_worker(ctx, route, siret)
        if found is None:
            return _failure(error, from_cache=ctx.from_cache)
        body, tiers = found
    except ApiEntrepriseError as error:
        return _failure(error, from_cache=ctx.from_cache)

    notes = []
    association_body = None
    if tiers.is_association and tiers.siren:
        try:
            association_body, tiers = _fetch(
                ctx,
                route=ROUTE_ASSOCIATION_OPEN_DATA,
                target=tiers.siren,
                provider=PROVIDER_DJEPVA,
                call=lambda: client.association_open_data(tiers.siren, object_=ctx.object_),
                check=lambda payload: add_association(tiers, payload),
            )
        except ApiEntrepriseError as error:
            # The company data stands on its own: keep it and say what is missing.
            logger.info("Association %s non complétée : %s", tiers.siren, error._summary())
            notes.append(ASSOCIATION_NOTE)
    if tiers.masked_fields:
        notes.append(MASKED_NOTE)
    return LookupOutcome(
        tiers=tiers,
        message=_found_message(tiers, notes),
        level="warning" if ASSOCIATION_NOTE in notes else "ok",
        snapshot={"etablissement": body, "association": association_body},
        from_cache=ctx.from_cache,
    )


def check_privileges(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    actor: str,
    policy: LookupPolicy | None = None,
    record: bool = True,
    budgeted: bool = True,
    client: ApiEntrepriseClient | None = None,
) -> list[str]:
    """The token's scopes from /privileges (the admin's connection test). Raises
    ApiEntrepriseError, BudgetSpent included.

    `budgeted`: the call goes through the shared budget and a 429 blocks every worker, as
    any call's would; off for a test aimed at another host than the saved one, whose
    limits are not ours. `record=False` leaves the call out of the journal (a typed,
    unsaved token's refusal must not raise the alert about the saved one).
    """
    policy = policy or _policy_from_current_app()
    if budgeted:
        # Never waits: an admin pressing a button gets "suspended" at once.
        admission = budget.try_acquire(db, per_minute=policy.budget_per_minute)
        if not admission.granted:
            raise BudgetSpent(retry_after=admission.retry_after(), note=admission.reason)
    client = client or make_client(settings, policy)
    started = time.monotonic()

    def journal_test(status, code, kind, request_id) -> None:
        journal.record_call(
            db,
            route=ROUTE_PRIVILEGES,
            target=None,
            object_="test de connexion",
            actor=actor,
            status=status,
            error_code=code,
            duration_ms=(time.monotonic() - started) * 1000,
            request_id=request_id,
            kind=kind,
        )

    try:
        privileges = client.privileges()
    except ApiEntrepriseError as error:
        now = time.time()
        with immediate(db):
            if record:
                journal_test(error.status, error.code, error.kind, error.request_id)
            if budgeted:
                budget.record_rate_headers(db, rate_limit_info(error.headers, now), now=now)
                if isinstance(error, RateLimited):
                    budget.block_until(db, now + (error.retry_after or 60.0))
        raise
    if record:
        journal_test(200, None, None, None)
    return privileges


def _policy_from_current_app() -> LookupPolicy:
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - Flask is a dependency
        return LookupPolicy()
    if has_app_context():
        return LookupPolicy.from_config(current_app.config)
    return LookupPolicy()
