"""SQLite cache of public lookups, shared by every worker.

Sirene data changes at most daily, so a found établissement is kept 24 hours by default;
"unknown" answers (404, 451) are kept briefly, so a mistyped then corrected SIRET is not
stuck and a newly created company appears soon. A hit costs no API call and no budget.

Keys include the API base URL: switching from the sandbox to production must never serve
fictitious data as real (nor the reverse).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import sqlite_utils

from portail.apientreprise.catalogue import ROUTE_ETABLISSEMENT_DIFFUSIBLE
from portail.storage.database import immediate


@dataclass(frozen=True)
class CachedAnswer:
    """A cached upstream answer: the body of a 2xx, or the status/kind of a normal refusal."""

    status: int
    kind: str | None
    body: dict | None
    request_id: str | None
    stored_at: float


def cache_key(base_url: str, route: str, target: str) -> str:
    """The cache key of one upstream call."""
    return f"{base_url.rstrip('/')}|{route}|{target}"


def get(db: sqlite_utils.Database, key: str, *, now: float | None = None) -> CachedAnswer | None:
    """The unexpired entry for `key`, or None."""
    now = time.time() if now is None else now
    row = db.execute(
        "SELECT status, kind, body, request_id, stored_at FROM lookup_cache "
        "WHERE key = ? AND expires_at > ?",
        (key, now),
    ).fetchone()
    if row is None:
        return None
    status, kind, body, request_id, stored_at = row
    try:
        parsed = json.loads(body) if body is not None else None
    except ValueError:
        return None  # never serve a damaged entry; the next call replaces it
    return CachedAnswer(status, kind, parsed, request_id, stored_at)


def put(
    db: sqlite_utils.Database,
    key: str,
    *,
    route: str,
    target: str,
    status: int,
    kind: str | None,
    body: dict | None,
    request_id: str | None,
    ttl: float,
    now: float | None = None,
) -> None:
    """Store an answer for `ttl` seconds (nothing when ttl <= 0) and drop expired entries."""
    if ttl <= 0:
        return
    now = time.time() if now is None else now
    with immediate(db):
        db.execute(
            "INSERT OR REPLACE INTO lookup_cache (key, route, target, status, kind, body, "
            "request_id, stored_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                route,
                target,
                status,
                kind,
                None if body is None else json.dumps(body, ensure_ascii=False),
                request_id,
                now,
                now + ttl,
            ),
        )
        # Expired rows go as new ones arrive (indexed on expires_at): the table stays small.
        db.execute("DELETE FROM lookup_cache WHERE expires_at <= ?", (now,))


def forget(db: sqlite_utils.Database, key: str) -> None:
    """Drop one entry (e.g. an answer the portal could not read)."""
    with immediate(db):
        db.execute("DELETE FROM lookup_cache WHERE key = ?", (key,))


def clear(db: sqlite_utils.Database) -> int:
    """Drop every entry (e.g. after the admin changes the API URL); returns how many."""
    with immediate(db):
        return db.execute("DELETE FROM lookup_cache").rowcount


def store_answer(
    db: sqlite_utils.Database,
    base_url: str,
    route: str,
    target: str,
    *,
    body: dict | None,
    kind: str | None,
    status: int,
    request_id: str | None,
    ttl: float,
    now: float | None = None,
) -> None:
    """Cache one answer (a body, or the kind of a normal refusal) for `ttl` seconds.

    An établissement answered under another SIRET (a transfer) is cached for that SIRET
    too: the applicant will likely look the successor up next ("Utiliser le SIRET").
    """
    successor = _successor_answer(route, target, body) if body is not None else None
    if successor is not None:
        successor_siret, successor_body = successor
        put(
            db,
            cache_key(base_url, route, successor_siret),
            route=route,
            target=successor_siret,
            status=status,
            kind=None,
            body=successor_body,
            request_id=request_id,
            ttl=ttl,
            now=now,
        )
    put(
        db,
        cache_key(base_url, route, target),
        route=route,
        target=target,
        status=status,
        kind=kind,
        body=body,
        request_id=request_id,
        ttl=ttl,
        now=now,
    )


def _successor_answer(route: str, target: str, body: dict) -> tuple[str, dict] | None:
    """For an établissement answered under another SIRET, that SIRET and the answer as a
    direct lookup of it would get (without the redirect marker); else None."""
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
