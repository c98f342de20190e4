"""The rate budget shared by every thread and process of the portal, kept in SQLite.

API Entreprise allows 250 calls per minute per token and silently bans the IP for 12 hours
when 429s are ignored. The portal keeps its own budget below that (200/min by default) as a
sliding-window log: one row per call sent in the last 60 seconds. A sliding window (unlike
a fixed one) guarantees that no 60-second span, however it straddles the API's own minute
windows, holds more calls than the budget.

The check and the consumption happen in one BEGIN IMMEDIATE transaction, so two processes
can never both take the last slot. The budget is also fed by the API's answers:
`RateLimit-Limit` lowers it if the token's limit is smaller, `RateLimit-Remaining`/`Reset`
stop calls when the API says the window is nearly spent (another program may share the
token), and a 429 blocks every worker until `Retry-After` has passed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlite_utils

from portail.apientreprise.answer import RateLimitInfo
from portail.storage.database import fetch_one, immediate, relaxed_durability

WINDOW_SECONDS = 60.0
SECOND = 1.0  # the short window of a per-second cap (the company search's limit)


BUCKET_JSON = "json"


# Calls kept in reserve below what the API says remains: answers may be in flight or
# another program may use the same token.
API_REMAINING_RESERVE = 5


_CLIENT_CALLS = "SELECT count(*), min(at) FROM rate_budget_calls WHERE bucket = ? AND client = ?"


_NETWORK_CALLS = "SELECT count(*), min(at) FROM rate_budget_calls WHERE bucket = ? AND network = ?"


# The calls of the bucket's last second, oldest first.
_LAST_SECOND = "SELECT at FROM rate_budget_calls WHERE bucket = ? AND at > ? ORDER BY at"


# The time the n-th oldest call of the window was sent (n from 0).
_NTH_OLDEST = "SELECT at FROM rate_budget_calls WHERE bucket = ? ORDER BY at LIMIT 1 OFFSET ?"


@dataclass(frozen=True)
class Reserve:
    """The part of each minute's budget kept for light clients.

    A client is heavy once it has made `light_calls` calls in the window (or its network,
    an IPv6 /48, `light_network_calls`); a heavy client's call is refused once the window
    holds `limit - ceil(limit * percent / 100)` calls. Clients without a key (agents, the
    admin) are never heavy.
    """

    percent: int = 0
    light_calls: int = 0
    light_network_calls: int = 0

    def calls(self, limit: int) -> int:
        """Calls of a `limit` kept for light clients (never the whole budget)."""
        if self.percent <= 0 or self.light_calls <= 0:
            return 0
        return min(limit - 1, -(-limit * self.percent // 100))


@dataclass(frozen=True)
class Admission:
    """The answer of `try_acquire`: granted, or refused with the time a call may leave."""

    granted: bool
    retry_at: float = 0.0  # epoch seconds
    # "budget", "per_second", "client", "network", "rate_limited" (after a 429), "api_remaining",
    # "client_reserve"/"network_reserve" (a heavy client, the rest kept for light ones)
    reason: str = ""

    def retry_after(self, now: float | None = None) -> float:
        """Seconds until a call may leave."""
        return max(0.0, self.retry_at - (time.time() if now is None else now))


def _state(db: sqlite_utils.Database, bucket: str) -> dict:
    return fetch_one(db, "SELECT * FROM rate_budget_state WHERE bucket = ?", (bucket,)) or {}


def effective_limit(per_minute: int, api_limit: int | None) -> int:
    """Our budget, lowered below the token's limit when the API announces a smaller one."""
    if api_limit and api_limit > 0:
        # Keep a tenth of the API's limit (at least one call) as a margin.
        return max(1, min(per_minute, api_limit - max(1, api_limit // 10)))
    return max(1, per_minute)


def try_acquire(
    db: sqlite_utils.Database,
    *,
    per_minute: int,
    bucket: str = BUCKET_JSON,
    now: float | None = None,
    client: str | None = None,
    per_client: int | None = None,
    network: str | None = None,
    per_network: int | None = None,
    reserve: Reserve | None = None,
    per_second: int | None = None,
) -> Admission:
    """Take one call from the budget if one is free; never waits.

    One BEGIN IMMEDIATE transaction: concurrent processes queue on SQLite's write lock, so
    the count they see is always the count after the others' consumption.

    With `client` and `per_client`, that client (an IP address) may hold at most
    `per_client` of the calls of the window: the form is public, and without a share one
    script could spend the authority's whole budget and leave every applicant without
    prefill. `network` and `per_network` cap the client's wider network the same way (an
    IPv6 subscriber holds many /64s). With `reserve`, a client (or network) that is already
    heavy this minute leaves the last part of the budget to light clients. With
    `per_second`, no sliding second holds more calls of the bucket than that (the company
    search counts calls per second too), whatever the minute's budget leaves.
    """
    reserve = reserve or Reserve()
    with relaxed_durability(db), immediate(db):
        now = time.time() if now is None else now
        state = _state(db, bucket)
        blocked_until = state.get("blocked_until") or 0.0
        if blocked_until > now:
            return Admission(False, blocked_until, state.get("blocked_reason") or "rate_limited")
        api_reset = state.get("api_reset") or 0.0
        api_remaining = state.get("api_remaining")
        if api_reset > now and api_remaining is not None and api_remaining <= API_REMAINING_RESERVE:
            return Admission(False, api_reset, "api_remaining")
        window_start = now - WINDOW_SECONDS
        db.execute(
            "DELETE FROM rate_budget_calls WHERE bucket = ? AND at <= ?", (bucket, window_start)
        )
        used, oldest = db.execute(
            "SELECT count(*), min(at) FROM rate_budget_calls WHERE bucket = ?", (bucket,)
        ).fetchone()
        heavy = None  # why this client may not take the reserve, if it may not
        for sql, key, cap, light, reason in (
            (_CLIENT_CALLS, client, per_client, reserve.light_calls, "client"),
            (_NETWORK_CALLS, network, per_network, reserve.light_network_calls, "network"),
        ):
            if key is None or not (cap or light):
                continue
            mine, my_oldest = db.execute(sql, (bucket, key)).fetchone()
            if cap and mine >= cap:
                return Admission(False, (my_oldest or now) + WINDOW_SECONDS, reason)
            if light and mine >= light and heavy is None:
                heavy = f"{reason}_reserve"
        limit = effective_limit(per_minute, state.get("api_limit"))
        if used >= limit:
            return Admission(False, (oldest or now) + WINDOW_SECONDS, "budget")
        kept = reserve.calls(limit)
        if heavy is not None and kept and used >= limit - kept:
            # Free again once enough calls age out to bring the window under limit - kept.
            (nth,) = db.execute(_NTH_OLDEST, (bucket, used - (limit - kept))).fetchone()
            return Admission(False, nth + WINDOW_SECONDS, heavy)
        if per_second:
            recent = db.execute(_LAST_SECOND, (bucket, now - SECOND)).fetchall()
            if len(recent) >= per_second:
                # Free once enough of this second's calls are a second old.
                return Admission(False, recent[len(recent) - per_second][0] + SECOND, "per_second")
        db.execute(
            "INSERT INTO rate_budget_calls (bucket, at, client, network) VALUES (?, ?, ?, ?)",
            (bucket, now, client, network),
        )
        if api_reset > now and api_remaining is not None:
            # Count our own call against the API's figure until its next answer corrects it.
            db.execute(
                "UPDATE rate_budget_state SET api_remaining = api_remaining - 1 WHERE bucket = ?",
                (bucket,),
            )
        return Admission(True)


def acquire(
    db: sqlite_utils.Database,
    *,
    per_minute: int,
    max_wait: float = 1.0,
    bucket: str = BUCKET_JSON,
    sleep=time.sleep,
    client: str | None = None,
    per_client: int | None = None,
    network: str | None = None,
    per_network: int | None = None,
    reserve: Reserve | None = None,
    per_second: int | None = None,
) -> Admission:
    """Take one call, waiting only when a slot frees within `max_wait` seconds.

    A request thread never sleeps longer than `max_wait` in total: beyond that the caller
    answers "saturé" at once and the applicant fills in by hand.
    """
    deadline = time.monotonic() + max_wait
    while True:
        admission = try_acquire(
            db,
            per_minute=per_minute,
            bucket=bucket,
            client=client,
            per_client=per_client,
            network=network,
            per_network=per_network,
            reserve=reserve,
            per_second=per_second,
        )
        if admission.granted:
            return admission
        wait = admission.retry_after()
        left = deadline - time.monotonic()
        if wait > left:
            return admission
        sleep(max(0.005, wait))


def record_rate_headers(
    db: sqlite_utils.Database,
    info: RateLimitInfo | None,
    *,
    bucket: str = BUCKET_JSON,
    now: float | None = None,
) -> None:
    """Feed the budget with an answer's `RateLimit-*` headers.

    Answers of one API window may arrive out of order: within the same window the smallest
    `Remaining` wins; a later window replaces the figures.
    """
    if info is None:
        return
    now = time.time() if now is None else now
    with immediate(db):
        state = _state(db, bucket)
        remaining, reset = info.remaining, info.reset_at
        old_reset = state.get("api_reset")
        old_remaining = state.get("api_remaining")
        if (
            reset is not None
            and old_reset is not None
            and abs(reset - old_reset) < 1.0
            and old_remaining is not None
            and remaining is not None
        ):
            remaining = min(remaining, old_remaining)
        elif reset is not None and old_reset is not None and reset < old_reset - 1.0:
            return  # a late answer from an earlier window says nothing about this one
        db.execute(
            "INSERT INTO rate_budget_state (bucket, api_limit, api_remaining, api_reset, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(bucket) DO UPDATE SET "
            "api_limit = coalesce(excluded.api_limit, api_limit), "
            "api_remaining = excluded.api_remaining, api_reset = excluded.api_reset, "
            "updated_at = excluded.updated_at",
            (bucket, info.limit, remaining, reset, now),
        )


def block_until(
    db: sqlite_utils.Database,
    until: float,
    *,
    reason: str = "rate_limited",
    bucket: str = BUCKET_JSON,
) -> None:
    """Stop every worker's calls until `until` (epoch seconds), e.g. after a 429."""
    with immediate(db):
        db.execute(
            "INSERT INTO rate_budget_state (bucket, blocked_until, blocked_reason, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(bucket) DO UPDATE SET "
            "blocked_until = max(blocked_until, excluded.blocked_until), "
            "blocked_reason = excluded.blocked_reason, updated_at = excluded.updated_at",
            (bucket, until, reason, time.time()),
        )


def snapshot(db: sqlite_utils.Database, *, bucket: str = BUCKET_JSON) -> dict:
    """Calls sent in the last minute and the blocking state (for the admin and tests)."""
    now = time.time()
    used = db.execute(
        "SELECT count(*) FROM rate_budget_calls WHERE bucket = ? AND at > ?",
        (bucket, now - WINDOW_SECONDS),
    ).fetchone()[0]
    state = _state(db, bucket)
    blocked_until = state.get("blocked_until") or 0.0
    return {
        "used_last_minute": used,
        "blocked_until": blocked_until if blocked_until > now else None,
        "api_limit": state.get("api_limit"),
        "api_remaining": state.get("api_remaining"),
    }
