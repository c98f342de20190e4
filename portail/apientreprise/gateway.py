"""The gateway: the one guarded path every API Entreprise call takes, public or protected.

    cache -> join identical calls -> circuit breaker -> budget of the route's family
          -> client -> journal

- Only open JSON answers enter the shared cache; protected answers and documents never do.
- Identical calls in flight in this process are joined: the API answers 409 to a duplicate,
  and ten applicants typing the same SIRET cost one call. Each follower is journaled too.
- A circuit breaker per data provider stops calling a provider that keeps failing.
- The budget is shared by every thread and process (SQLite), one bucket per route family
  (JSON and documents have separate quotas upstream); a 429 stops every worker.
- Every call, cache hit, joined call and refusal is journaled with its actor and object.

One `Gateway` per app holds the process-wide state: the HTTP transport, the calls in flight
and the refusals already noted. It knows nothing of Flask: the wiring builds it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable

import sqlite_utils

from portail.apientreprise import budget, cache, catalogue, circuit
from portail.apientreprise.answer import ApiAnswer, rate_limit_info
from portail.apientreprise.call import Answer, Call, Trace
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
    RateLimited,
    ServiceFailure,
    Timeout,
)
from portail.apientreprise.policy import GatewayPolicy
from portail.apientreprise.refusals import RefusalNotes, refusal_note
from portail.apientreprise.singleflight import JoinTimeout, SingleFlight
from portail.apientreprise.transport import HttpTransport
from portail.core.api_urls import SANDBOX_URL
from portail.core.netaddr import NETWORK_SHARE_FACTOR, ClientKeys
from portail.core.settings_rules import Settings
from portail.core.tiers import BadPayload
from portail.storage.database import immediate, relaxed_durability

logger = logging.getLogger(__name__)

_NEGATIVE_ERRORS = {"not_found": NotFound, "not_public": NotPublic}
# Why the budget refused a call -> the error raised (default: BudgetSpent). A heavy client
# kept out of the light clients' reserve is told it searched a lot, as past its share.
_REFUSALS = {"client": ClientShareSpent, "network": NetworkShareSpent}
_REFUSALS.update(client_reserve=ClientShareSpent, network_reserve=NetworkShareSpent)


class Gateway:
    """Every API Entreprise call of one app goes through `call`."""

    def __init__(
        self,
        policy: GatewayPolicy | None = None,
        transport_factory: Callable[[], HttpTransport] = HttpTransport,
    ):
        self.policy = policy or GatewayPolicy()
        self._transport_factory = transport_factory
        self._transport: tuple[int, HttpTransport] | None = None
        self._transport_lock = threading.Lock()
        self._flights: SingleFlight[tuple[Answer | ApiEntrepriseError, Trace | None]] = (
            SingleFlight()
        )
        self.refusal_notes = RefusalNotes()

    @property
    def transport(self) -> HttpTransport:
        """The keep-alive transport of this process (a forked worker builds its own: it must
        not share its parent's sockets)."""
        pid = os.getpid()
        current = self._transport
        if current is None or current[0] != pid:
            with self._transport_lock:
                current = self._transport
                if current is None or current[0] != pid:
                    current = (pid, self._transport_factory())
                    self._transport = current
        return current[1]

    def search_url(self, settings: Settings) -> str:
        """Where the open company search is asked: the sandbox in the demonstration."""
        return SANDBOX_URL if settings.demo else self.policy.search_url

    def client_for(
        self, settings: Settings, *, timeout: float | None = None
    ) -> ApiEntrepriseClient:
        """The client for these settings (typed but unsaved ones for a connection test);
        `timeout` shortens the JSON timeout (a connection test)."""
        return ApiEntrepriseClient(
            settings.api_url,
            settings.token,
            settings.recipient_siret,
            settings.context,
            transport=self.transport,
            timeout=timeout or self.policy.timeout,
            document_timeout=self.policy.document_timeout,
        )

    def call(
        self,
        db: sqlite_utils.Database,
        settings: Settings,
        route: str,
        target: str | None,
        *,
        actor: str,
        object_: str,
        applicant: ClientKeys | None = None,
        check: Callable[[dict], object] | None = None,
        client: ApiEntrepriseClient | None = None,
        record: bool = True,
        budgeted: bool = True,
        wait: bool = True,
    ) -> Answer:
        """One answer of `route` (a catalogue path template) for `target`, or raise the
        ApiEntrepriseError that says why not.

        `check` turns the body into what the caller needs (a Tiers...); a BadPayload there
        makes the answer a BadAnswer before anything is cached. `applicant` is the throttle
        key of an anonymous caller's address: its share of the budget is capped. `budgeted`
        off for a call aimed at another host than the saved one (a connection test), whose
        limits are not ours; `record` off leaves the call out of the journal; `wait` off
        never sleeps for budget (an admin pressing a button gets an answer at once).
        """
        call = Call(
            db,
            settings,
            catalogue.route(route),
            target,
            actor,
            object_,
            applicant,
            check,
            client,
            record,
            budgeted,
            wait,
        )
        if call.cacheable:
            hit = self._from_cache(call)
            if hit is not None:
                return hit
        if not call.route.shared and not call.route.traced:
            result, _trace = self._send(call)
            if isinstance(result, ApiEntrepriseError):
                raise result
            return result
        key = (
            self._base_url(call),
            settings.recipient_siret,
            hashlib.sha256(settings.token.encode()).hexdigest(),
            route,
            target,
        )
        try:
            (result, trace), joined = self._flights.run(
                key, lambda: self._lead(call), wait=self.policy.join_wait
            )
        except JoinTimeout:
            raise Timeout(note="recherche identique en cours trop longue") from None
        if joined:
            call.journal_joined(trace)
        if isinstance(result, ApiEntrepriseError):
            raise result
        if not joined:
            return result
        # Only the body is shared: each caller's own `check` reads it (two applicants may
        # join one association call from two different établissements of it).
        try:
            checked = call.checked(result.body)
        except BadPayload as exc:
            raise BadAnswer(note=f"données incomplètes ({exc})"[:200]) from None
        return Answer(result.body, checked, result.from_cache, joined=True)

    # -- the leader's path ----------------------------------------------------------------

    def _lead(self, call: Call) -> tuple[Answer | ApiEntrepriseError, Trace | None]:
        """Send the call; an error is returned, not raised, so that followers journal it."""
        result, trace = self._send(call)
        if isinstance(result, DuplicateInFlight):
            # Another worker process is fetching the same thing: wait briefly for its answer.
            found = self._await_other_worker(call)
            if found is not None:
                return found, trace
        return result, trace

    def _base_url(self, call: Call) -> str:
        return self.search_url(call.settings) if call.route.search else call.settings.api_url

    def _client(self, call: Call) -> ApiEntrepriseClient:
        if call.client is not None:
            return call.client
        if call.route.search:
            # Another host: the token never goes there (an open API needs none).
            return ApiEntrepriseClient(
                self.search_url(call.settings),
                "",
                "",
                "",
                transport=self.transport,
                timeout=self.policy.timeout,
            )
        return self.client_for(call.settings)

    def _from_cache(self, call: Call) -> Answer | None:
        key = cache.cache_key(self._base_url(call), call.route.path, call.target)
        hit = cache.get(call.db, key)
        if hit is None:
            return None
        call.journal(hit.status, None, hit.kind, 0.0, hit.request_id, cache_hit=True)
        if hit.kind in _NEGATIVE_ERRORS:
            error = _NEGATIVE_ERRORS[hit.kind](
                status=hit.status, request_id=hit.request_id, note="réponse mise en cache"
            )
            error.from_cache = True
            raise error
        try:
            return Answer(hit.body, call.checked(hit.body), from_cache=True)
        except BadPayload:
            cache.forget(call.db, key)  # then ask the API afresh
            return None

    def _send(self, call: Call) -> tuple[Answer | ApiEntrepriseError, Trace | None]:
        """Circuit, budget, client, journal. Returns the answer or the error, and the trace
        of the call (None when the portal refused to send it: no data was accessed)."""
        db, policy, route = call.db, self.policy, call.route
        permit = None
        if call.guarded_by_circuit:
            permit = circuit.before_call(db, route.provider, policy.circuit)
            if not permit.allowed:
                error = CircuitOpen(retry_after=max(0.0, permit.retry_at - time.time()))
                self._journal_refusal(call, error)
                return error, None
        if call.budgeted:
            admission = self._admit(call)
            if not admission.granted:
                if permit is not None and permit.probe:
                    circuit.release_probe(db, route.provider)
                refused = _REFUSALS.get(admission.reason, BudgetSpent)
                error = refused(
                    retry_after=admission.retry_after(),
                    note=refusal_note(admission.reason, call.route),
                )
                self._journal_refusal(call, error)
                return error, None

        started = time.monotonic()
        answer: ApiAnswer | None = None
        error: ApiEntrepriseError | None = None
        checked = None
        try:
            # Built only for a call that leaves: a cache hit needs no client.
            client = self._client(call)
            answer = client.call(route.path, call.target, object_=call.object_)
            checked = call.checked(answer.data)
        except ApiEntrepriseError as exc:
            error = exc
        except BadPayload as exc:
            error = BadAnswer(note=f"données incomplètes ({exc})"[:200])
        except Exception as exc:  # a library surprise: still journal the call, never crash
            logger.exception("Appel API Entreprise en échec inattendu")
            error = BadAnswer(note=f"erreur inattendue ({type(exc).__name__})")
        if error is not None and answer is not None and error.status is None:
            # The answer came, but `check` refused it: keep the answer's facts.
            error.status, error.request_id = answer.status, answer.request_id
            error.headers = dict(answer.headers)
        duration_ms = (time.monotonic() - started) * 1000
        trace = self._finish(call, answer, error, duration_ms)
        return (error if error is not None else Answer(answer.data, checked)), trace

    def _admit(self, call: Call) -> budget.Admission:
        policy, applicant = self.policy, call.applicant
        per_minute, per_second = policy.budget_for(call.route), policy.per_second_for(call.route)
        if not call.wait:
            return budget.try_acquire(
                call.db, per_minute=per_minute, bucket=call.route.bucket, per_second=per_second
            )
        share = policy.budget_per_client or None
        return budget.acquire(
            call.db,
            per_minute=per_minute,
            bucket=call.route.bucket,
            max_wait=policy.budget_max_wait,
            client=applicant.client if applicant else None,
            per_client=share,
            network=applicant.network if applicant else None,
            per_network=NETWORK_SHARE_FACTOR * share if share else None,
            reserve=policy.reserve,
            per_second=per_second,
        )

    def _finish(self, call, answer, error, duration_ms) -> Trace:
        """Everything learnt from one call, written in one transaction (one fsync, not four)."""
        db, policy, route = call.db, self.policy, call.route
        source = answer if error is None else error
        status, request_id = source.status, source.request_id
        headers = answer.headers if error is None else error.headers
        kind = None if error is None else error.kind
        code = None if error is None else error.code
        trace = Trace(status, code, kind, request_id)
        now = time.time()
        try:
            with immediate(db):
                call.journal(status, code, kind, duration_ms, request_id)
                if call.budgeted:
                    budget.record_rate_headers(
                        db, rate_limit_info(headers, now), bucket=route.bucket, now=now
                    )
                    if isinstance(error, RateLimited):
                        # Every worker stops until Retry-After: ignoring a 429 bans the IP.
                        budget.block_until(
                            db, now + (error.retry_after or 60.0), bucket=route.bucket
                        )
                if call.guarded_by_circuit:
                    if isinstance(error, ServiceFailure):
                        circuit.record_failure(
                            db, route.provider, policy.circuit, error=error._summary()
                        )
                    elif status is not None:
                        circuit.record_success(db, route.provider)
                if call.cacheable and (error is None or kind in _NEGATIVE_ERRORS):
                    found = error is None
                    # Found answers are kept long (Sirene refreshes daily), "unknown" and
                    # "not public" briefly; any other failure is never cached.
                    cache.store_answer(
                        db,
                        self._base_url(call),
                        route.path,
                        call.target,
                        body=answer.data if found else None,
                        kind=kind,
                        status=status,
                        request_id=request_id,
                        ttl=policy.cache_seconds if found else policy.negative_cache_seconds,
                        now=now,
                    )
        except sqlite3.Error:
            # The trace must not be lost even if the database is unavailable: the log keeps it.
            logger.exception(
                "Journal API Entreprise non écrit : route=%s cible=%s objet=%s acteur=%s "
                "statut=%s code=%s durée=%.0f ms X-Request-ID=%s",
                route.path,
                call.target,
                call.object_,
                call.actor,
                status,
                code,
                duration_ms,
                request_id,
            )
            if isinstance(error, RateLimited):
                raise  # without the shared block, other workers would keep calling: stop here
        return trace

    def _await_other_worker(self, call: Call) -> Answer | None:
        """After a 409, another worker is fetching the same thing: wait for its answer."""
        if not call.cacheable:
            return None
        key = cache.cache_key(self._base_url(call), call.route.path, call.target)
        deadline = time.monotonic() + self.policy.budget_max_wait
        while time.monotonic() < deadline:
            time.sleep(0.1)
            hit = cache.get(call.db, key)
            if hit is not None and hit.kind is None:
                try:
                    return Answer(hit.body, call.checked(hit.body), from_cache=True)
                except BadPayload:
                    return None
        return None

    def _journal_refusal(self, call: Call, error: ApiEntrepriseError) -> None:
        """Trace a call the portal refused to send (budget, client share, open circuit).

        No data was accessed, so this row is for the admin, not the legal trace: it is
        written with relaxed durability, at most once a minute per key (`RefusalNotes`).
        """
        key = _refusal_key(call, error)
        skipped = self.refusal_notes.should_note(key)
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
            with relaxed_durability(call.db):
                call.journal(None, None, error.kind, None, None, refused=True)
        except sqlite3.Error:
            logger.exception("Refus d'appel non journalisé (%s, cible %s)", error.kind, call.target)


def _refusal_key(call: Call, error: ApiEntrepriseError) -> tuple[str | None, str]:
    if isinstance(error, ClientShareSpent) and call.applicant is not None:
        # Per network when there is one: a /48 holds 65,536 /64s, one note for them all.
        return (call.applicant.network or call.applicant.client, error.kind)
    return (None, error.kind)
