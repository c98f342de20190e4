"""The gateway's tunables: cache lifetimes, the shared budgets, timeouts, the circuit breaker.

Read once from the app's configuration (`PORTAIL_<KEY>` environment variables or
`instance/config.py`) when the app is built; absent keys keep the defaults below.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from portail.apientreprise import budget, catalogue, circuit
from portail.core.api_urls import SEARCH_URL
from portail.core.netaddr import NETWORK_SHARE_FACTOR
from portail.core.settings_rules import SettingError, validate_search_url

logger = logging.getLogger(__name__)

# The API's limits are 250 calls per minute per token on JSON routes and 50 on document
# routes: the portal's budgets always stay below.
MAX_BUDGET_PER_MINUTE = 240
MAX_DOCUMENT_BUDGET_PER_MINUTE = 45
# The company search allows about 7 calls a second per client address (420 a minute).
MAX_SEARCH_BUDGET_PER_MINUTE = 400
# And at most 7 a second: the portal keeps one in reserve.
MAX_SEARCH_PER_SECOND = 6

_warned_budgets: set[tuple[str, int]] = set()

# app.config key -> GatewayPolicy field.
CONFIG_KEYS = {
    "LOOKUP_CACHE_SECONDS": "cache_seconds",
    "LOOKUP_NEGATIVE_CACHE_SECONDS": "negative_cache_seconds",
    "RATE_BUDGET_PER_MINUTE": "budget_per_minute",
    "RATE_BUDGET_DOCUMENTS_PER_MINUTE": "document_budget_per_minute",
    "RATE_BUDGET_SEARCH_PER_MINUTE": "search_budget_per_minute",
    "RATE_BUDGET_SEARCH_PER_SECOND": "search_per_second",
    "SEARCH_API_URL": "search_url",
    "RATE_BUDGET_MAX_WAIT_SECONDS": "budget_max_wait",
    "RATE_BUDGET_PER_CLIENT_PER_MINUTE": "budget_per_client",
    "RATE_BUDGET_LIGHT_RESERVE_PERCENT": "light_reserve_percent",
    "RATE_BUDGET_LIGHT_CLIENT_CALLS": "light_client_calls",
    "API_TIMEOUT_SECONDS": "timeout",
    "API_DOCUMENT_TIMEOUT_SECONDS": "document_timeout",
    "CIRCUIT_FAILURE_THRESHOLD": "circuit_threshold",
    "CIRCUIT_COOLDOWN_SECONDS": "circuit_cooldown",
}


def _capped(name: str, value: int, ceiling: int) -> int:
    if value > ceiling:
        if (name, value) not in _warned_budgets:  # once, not at every call
            _warned_budgets.add((name, value))
            logger.warning("%s=%s ramené à %s (limite de l'API)", name, value, ceiling)
        return ceiling
    return max(1, value)


@dataclass(frozen=True)
class GatewayPolicy:
    """Tunables of the gateway (from app.config via `from_config`)."""

    cache_seconds: float = 86400.0  # found établissements: Sirene refreshes daily
    negative_cache_seconds: float = 600.0  # 404 / 451: briefly, a new company appears soon
    budget_per_minute: int = 200
    document_budget_per_minute: int = 40
    search_budget_per_minute: int = 300
    search_per_second: int = MAX_SEARCH_PER_SECOND  # every process together, like the minute
    search_url: str = SEARCH_URL  # the company search outside the demonstration
    budget_max_wait: float = 1.0  # longest a request thread sleeps waiting for budget
    # Calls one client (IP address, IPv6 per /64) may take from the budget per minute; 0 for
    # no share. 20 distinct, uncached SIRETs a minute is far more than a person types, even
    # at a town hall desk where several applicants share one address.
    budget_per_client: int = 20
    # Part of each minute's budget (in percent) kept for light clients: a client that has
    # made `light_client_calls` calls this minute (its IPv6 /48, NETWORK_SHARE_FACTOR times
    # more) may only use the budget up to the rest, so ten busy addresses cannot take it
    # all. A person looking up their organisation makes one to three calls. 0: no reserve.
    light_reserve_percent: int = 25
    light_client_calls: int = 5
    timeout: float = 5.0  # JSON routes (API Entreprise's recommendation)
    document_timeout: float = 12.0  # document routes
    circuit_threshold: int = 5
    circuit_cooldown: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "search_budget_per_minute",
            _capped(
                "RATE_BUDGET_SEARCH_PER_MINUTE",
                self.search_budget_per_minute,
                MAX_SEARCH_BUDGET_PER_MINUTE,
            ),
        )
        object.__setattr__(
            self,
            "search_per_second",
            _capped("RATE_BUDGET_SEARCH_PER_SECOND", self.search_per_second, MAX_SEARCH_PER_SECOND),
        )
        # At most 90 %: heavy clients (a town hall desk) must keep some of the budget.
        object.__setattr__(
            self, "light_reserve_percent", min(90, max(0, self.light_reserve_percent))
        )
        object.__setattr__(self, "light_client_calls", max(0, self.light_client_calls))
        object.__setattr__(
            self,
            "budget_per_minute",
            _capped("RATE_BUDGET_PER_MINUTE", self.budget_per_minute, MAX_BUDGET_PER_MINUTE),
        )
        object.__setattr__(
            self,
            "document_budget_per_minute",
            _capped(
                "RATE_BUDGET_DOCUMENTS_PER_MINUTE",
                self.document_budget_per_minute,
                MAX_DOCUMENT_BUDGET_PER_MINUTE,
            ),
        )

    @classmethod
    def from_config(cls, config: Mapping) -> GatewayPolicy:
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
        if "search_url" in values:
            try:
                values["search_url"] = validate_search_url(
                    values["search_url"], config.get("EXTRA_API_BASE_URLS")
                )
            except SettingError as error:
                logger.warning("SEARCH_API_URL ignoré : %s", error.message)
                del values["search_url"]
        return cls(**values)

    def per_minute(self, document: bool) -> int:
        """The portal's budget for a route family."""
        return self.document_budget_per_minute if document else self.budget_per_minute

    def budget_for(self, route: catalogue.Route) -> int:
        """The portal's budget for the bucket a route spends."""
        if route.search:
            return self.search_budget_per_minute
        return self.per_minute(route.document)

    def per_second_for(self, route: catalogue.Route) -> int | None:
        """The per-second cap of the bucket a route spends (the company search's only)."""
        return self.search_per_second if route.search else None

    @property
    def reserve(self) -> budget.Reserve:
        """The part of the budget kept for light clients (a /48 is light three times longer)."""
        light = self.light_client_calls
        return budget.Reserve(self.light_reserve_percent, light, NETWORK_SHARE_FACTOR * light)

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
        """Longest a joined call waits: two calls (établissement, association) and margin."""
        return 2 * (self.timeout + self.budget_max_wait) + 1.0
