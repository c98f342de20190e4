"""The API call journal: every upstream call, cache hit and joined lookup, kept 36 months.

The CGU of API Entreprise require agents' access to be traced and kept at least 36 months.
Nothing in the portal purges this table; `RETENTION_MONTHS` documents the floor for whoever
adds a purge one day. Rows never hold the token (the client never hands it out) nor any
answer body: only what the trace needs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlite_utils

from portail.core.paris_time import PARIS, aware, in_paris
from portail.storage import paging
from portail.storage.database import immediate

RETENTION_MONTHS = 36


SOURCE_API = "api"


SOURCE_CACHE = "cache"


SOURCE_JOINED = "joined"


SOURCE_REFUSED = "refused"  # not sent: budget spent, client share spent, circuit open


# Answers that are the API doing its job (the entity has no public data, or is the
# authority itself): neither a success of the service nor a failure to alert about.
NORMAL_ANSWER_KINDS = frozenset({"not_found", "not_public", "recipient_is_target"})


COLUMNS = (
    "id",
    "at",
    "route",
    "target",
    "object",
    "actor",
    "status",
    "error_code",
    "kind",
    "duration_ms",
    "request_id",
    "source",
)


# The SQL below is assembled from these constants and from `_where`, whose fragments are
# fixed strings; every value travels as a bound parameter.
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM api_journal"  # noqa: S608  # nosec B608


def now_iso() -> str:
    """UTC time with milliseconds: journal rows of one second stay in order."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _outcome(status: int | None, kind: str | None, source: str) -> str | None:
    if source != SOURCE_API:
        return None
    if kind is None and status is not None and 200 <= status < 300:
        return "success"
    if kind in NORMAL_ANSWER_KINDS:
        return None
    return "failure"


def record_call(
    db: sqlite_utils.Database,
    *,
    route: str,
    target: str | None,
    object_: str | None,
    actor: str | None,
    status: int | None,
    error_code: str | None,
    duration_ms: float | None,
    request_id: str | None,
    cache_hit: bool = False,
    kind: str | None = None,
    joined: bool = False,
    refused: bool = False,
    at: str | None = None,
) -> None:
    """Append one journal row. `route` is the template, never the filled-in URL.

    `cache_hit` marks an answer served from the cache, `joined` one that waited for an
    identical lookup in flight: neither sent a call, both are traced as data access.
    `refused` marks a call the portal did not send (budget, open circuit): no data access.
    """
    source = (
        SOURCE_REFUSED
        if refused
        else SOURCE_JOINED
        if joined
        else SOURCE_CACHE
        if cache_hit
        else SOURCE_API
    )
    row = {
        "at": at or now_iso(),
        "route": route,
        "target": target,
        "object": object_,
        "actor": actor or "anonyme",
        "status": status,
        "error_code": error_code,
        "kind": kind,
        "duration_ms": None if duration_ms is None else round(float(duration_ms), 1),
        "request_id": request_id,
        "source": source,
        "outcome": _outcome(status, kind, source),
    }
    with immediate(db):
        db.execute(
            "INSERT INTO api_journal (at, route, target, object, actor, status, error_code, "
            "kind, duration_ms, request_id, source, outcome) VALUES (:at, :route, :target, "
            ":object, :actor, :status, :error_code, :kind, :duration_ms, :request_id, "
            ":source, :outcome)",
            row,
        )


def _one(db: sqlite_utils.Database, sql: str, params: tuple = ()) -> dict | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def _latest(db: sqlite_utils.Database, outcome: str, excluding: tuple[str, ...]) -> dict | None:
    skip = " AND route NOT IN (" + ", ".join("?" * len(excluding)) + ")" if excluding else ""
    return _one(
        db,
        _SELECT + " WHERE outcome = ?" + skip + " ORDER BY id DESC LIMIT 1",
        (outcome, *excluding),
    )


def last_success(db: sqlite_utils.Database, excluding: tuple[str, ...] = ()) -> dict | None:
    """The most recent upstream call that returned data (2xx), or None. `excluding`: routes
    that say nothing of the caller's question (the open company search, for the token)."""
    return _latest(db, "success", excluding)


def last_failure(db: sqlite_utils.Database, excluding: tuple[str, ...] = ()) -> dict | None:
    """The most recent upstream call that failed (token, quota, provider, transport...)."""
    return _latest(db, "failure", excluding)


def refused_since(db: sqlite_utils.Database, since_iso: str) -> int:
    """How many calls the portal did not send (budget, client share, open circuit) since."""
    row = db.execute(
        "SELECT count(*) FROM api_journal WHERE at > ? AND source = ?",
        (_comparable(since_iso), SOURCE_REFUSED),
    ).fetchone()
    return row[0]


def token_refused_since(
    db: sqlite_utils.Database, since_iso: str, excluding: tuple[str, ...] = ()
) -> dict | None:
    """The most recent 401/403 row strictly after `since_iso` (UTC ISO time), or None."""
    skip = " AND route NOT IN (" + ", ".join("?" * len(excluding)) + ")" if excluding else ""
    return _one(
        db,
        _SELECT
        + " WHERE status IN (401, 403) AND at > ?"
        + skip
        + " ORDER BY at DESC, id DESC LIMIT 1",
        (_comparable(since_iso), *excluding),
    )


def _comparable(iso: str) -> str:
    """Rewrite any ISO time as the stored UTC form so string comparison orders correctly."""
    moment = aware(iso)
    return iso if moment is None else moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class JournalFilter:
    """What the admin filters on. Dates are Paris calendar days, inclusive."""

    siret: str = ""  # a SIRET (14 digits) or a SIREN (9 digits)
    status: str = ""  # "" all, an HTTP status ("404"), "cache", "transport", "2xx", "erreur"
    day_from: date | None = None
    day_to: date | None = None


STATUS_CHOICES = (
    ("", "Tous"),
    ("2xx", "Succès (2xx)"),
    ("erreur", "Erreurs (hors cache)"),
    ("cache", "Réponses du cache"),
    ("transport", "Sans réponse (délai, réseau)"),
    ("refuse", "Non envoyés (budget, part d'un poste, pannes)"),
    ("401", "401 jeton refusé"),
    ("403", "403 droits insuffisants"),
    ("404", "404 non trouvé"),
    ("409", "409 requête en double"),
    ("422", "422 paramètre invalide"),
    ("429", "429 trop de requêtes"),
    ("451", "451 non diffusible"),
    ("502", "502 fournisseur en erreur"),
    ("503", "503 service indisponible"),
    ("504", "504 fournisseur hors délai"),
)


def _paris_day_start_utc(day: date) -> str:
    return (
        datetime.combine(day, time.min, tzinfo=PARIS)
        .astimezone(UTC)
        .isoformat(timespec="milliseconds")
    )


def _where(flt: JournalFilter) -> tuple[str, list]:
    clauses, params = [], []
    if len(flt.siret) == 14:
        # An association call is journaled under the SIREN: a SIRET filter shows both.
        clauses.append("(target = ? OR target = ?)")
        params += [flt.siret, flt.siret[:9]]
    elif flt.siret:
        # A SIREN shows its own rows and those of all its SIRETs: a prefix range (":" sorts
        # right after "9"), which the index on target serves.
        clauses.append("(target >= ? AND target < ?)")
        params += [flt.siret, flt.siret + ":"]
    status = flt.status
    # Each condition below is, word for word, the WHERE of a partial index (m0301); the
    # unary plus keeps the planner off the index on (status, at) for them.
    if status == "cache":
        clauses.append("source IN ('cache', 'joined')")
    elif status == "transport":
        clauses.append("source = 'api' AND +status IS NULL")
    elif status == "2xx":
        clauses.append("source = 'api' AND +status BETWEEN 200 AND 299")
    elif status == "refuse":
        clauses.append("source = 'refused'")
    elif status == "erreur":
        clauses.append("source = 'api' AND (status IS NULL OR status >= 300)")
    elif status.isdigit():
        clauses.append("status = ?")
        params.append(int(status))
    if flt.day_from:
        clauses.append("at >= ?")
        params.append(_paris_day_start_utc(flt.day_from))
    if flt.day_to:
        clauses.append("at < ?")
        params.append(_paris_day_start_utc(flt.day_to + timedelta(days=1)))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def search(
    db: sqlite_utils.Database, flt: JournalFilter, cursor: paging.Cursor | None = None
) -> paging.Page:
    """One page of rows matching the filter, newest first (at DESC, id DESC): every filter
    has an index in that order (m0301), so no page sorts nor skips rows."""
    where, params = _where(flt)
    return paging.fetch_page(
        db,
        select=_SELECT,
        table="api_journal",
        order="at",
        where=where,
        params=params,
        cursor=cursor or paging.Cursor(),
    )


def iter_rows(db: sqlite_utils.Database, flt: JournalFilter) -> Iterator[tuple]:
    """Every row matching the filter, newest first, as tuples in COLUMNS order, read
    straight from the connection's cursor (the CSV export: constant memory)."""
    where, params = _where(flt)
    return paging.iter_all(db, select=_SELECT, order="at", where=where, params=params)


def paris_time(iso: str | None) -> str:
    """A stored UTC time shown as Paris local time, e.g. '2026-03-02 14:05:09'."""
    return in_paris(iso, "%Y-%m-%d %H:%M:%S")


@functools.lru_cache(maxsize=4096)
def _paris_hour(utc_hour: str) -> str:
    return in_paris(utc_hour + ":00:00+00:00", "%Y-%m-%d %H")


def paris_time_fast(iso: str | None) -> str:
    """paris_time for the CSV export's million rows: Paris is a whole number of hours from
    UTC, so minutes and seconds carry over and only the hour is converted (once per hour
    of the journal, cached). Any other form than the stored UTC one goes the long way."""
    if iso and len(iso) >= 19 and iso.endswith("+00:00") and iso[10] == "T":
        return _paris_hour(iso[:13]) + iso[13:19]
    return paris_time(iso)
