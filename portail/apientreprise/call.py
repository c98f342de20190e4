"""One call through the gateway: what it asks, for whom, how it is guarded, and its trace.

The journal is the legal trace of agents' and applicants' access to API Entreprise data
(kept 36 months): every call sent, every cache hit and every joined call is written with
its route template (never the filled-in URL), target, object and actor.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from portail.apientreprise import catalogue
from portail.apientreprise.client import ApiEntrepriseClient
from portail.core.netaddr import ClientKeys
from portail.core.settings_rules import Settings
from portail.storage import journal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A successful call: the body, what `check` made of it, and where it came from."""

    body: dict
    checked: object = None
    from_cache: bool = False
    joined: bool = False


@dataclass(frozen=True)
class Trace:
    """The journal row of a leader's call, repeated by each follower that joined it."""

    status: int | None
    error_code: str | None
    kind: str | None
    request_id: str | None


@dataclass
class Call:
    """One call through the gateway and the rules that apply to it."""

    db: sqlite_utils.Database
    settings: Settings
    route: catalogue.Route
    target: str | None
    actor: str
    object_: str
    applicant: ClientKeys | None  # throttle keys of an anonymous caller's address
    check: Callable[[dict], object] | None
    client: ApiEntrepriseClient | None  # None: the gateway builds one for the settings
    record: bool
    budgeted: bool
    wait: bool

    @property
    def cacheable(self) -> bool:
        """Open JSON data only: a protected answer must never be served to another caller."""
        return self.route.shared

    @property
    def guarded_by_circuit(self) -> bool:
        """Data providers have a circuit breaker; the API's own /privileges has none (it is
        what an admin tries when a provider is down)."""
        return self.route.provider != catalogue.PROVIDER_API

    def checked(self, body: dict) -> object:
        """What the caller makes of a body (a Tiers...), None without `check`."""
        return self.check(body) if self.check is not None else None

    def journal(self, status, code, kind, duration_ms, request_id, **flags) -> None:
        """Append this call's row (unless `record` is off: an unsaved token's test)."""
        if not self.record:
            return
        journal.record_call(
            self.db,
            route=self.route.path,
            target=self.target,
            object_=self.object_,
            actor=self.actor,
            status=status,
            error_code=code,
            duration_ms=duration_ms,
            request_id=request_id,
            kind=kind,
            **flags,
        )

    def journal_joined(self, trace: Trace | None) -> None:
        """A follower accessed the same data as its leader: it repeats the leader's row."""
        if trace is None:
            return
        try:
            self.journal(
                trace.status, trace.error_code, trace.kind, 0.0, trace.request_id, joined=True
            )
        except sqlite3.Error:
            logger.exception("Journal non écrit (appel joint, acteur %s)", self.actor)
