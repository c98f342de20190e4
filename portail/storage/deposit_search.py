"""Finding filed deposits: by reference, SIRET or SIREN, organisation name, filing day and
state of the certified check; pages and the CSV export's rows.

The name is searched in `deposits.search_name`, the name without accents, in lower case,
words separated by single spaces (" ecole de musique "): each typed word must begin a word
of the name, in any order ("musique ecole" finds "ÉCOLE DE MUSIQUE"). The covering index
(created_at, search_name) lets the newest-first scan test names without reading the rows:
measured on 100,000 deposits against FTS5 (bench/admin_bench.py), it answers a page as
fast and keeps the filing path a plain insert.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlite_utils

from portail.core.paris_time import PARIS
from portail.storage import paging
from portail.storage.database import immediate

# The certified check's verdicts (set by the certified-data feature), None: not yet run.
CERTIFIED_STATES = (
    (None, "non vérifiée"),
    ("match", "conforme"),
    ("differences", "écarts"),
    ("closed", "établissement fermé"),
)


CERTIFIED_LABELS = dict(CERTIFIED_STATES)


# The filter's value for "not yet checked" (None cannot travel in a query string).
UNCHECKED = "non-verifiee"


LIST_COLUMNS = (
    "id",
    "ref",
    "created_at",
    "siret",
    "raison_sociale",
    "intitule_projet",
    "montant_demande_cents",
    "email",
    "certified_state",
)


# Bandit B608: the column names are this module's constants; values are bound parameters.
_SELECT = "SELECT " + ", ".join(LIST_COLUMNS) + " FROM deposits"  # noqa: S608  # nosec B608

_WORD = re.compile(r"[a-z0-9]+")

# A reference as typed, dashes and spaces aside: AIDE, the year, then up to 12 characters.
_REF = re.compile(r"AIDE[0-9]{4}[0-9A-Z]{0,12}")

# "AIDE-2026-7": the shortest reference prefix searched (a year alone would select a third
# of the deposits through the reference index, then sort them).
MIN_REF_PREFIX = 11


def search_key(name: str | None) -> str:
    """The name as searched: " ecole de musique " for "ÉCOLE DE MUSIQUE" (leading and
    trailing space, so that " ecole" finds a word's beginning)."""
    words = search_words(name)
    return f" {' '.join(words)} " if words else ""


def search_words(text: str | None) -> list[str]:
    """Lower-case words without accents: 'Œuvre d'Éveil' -> ['oeuvre', 'd', 'eveil']."""
    folded = unicodedata.normalize("NFKD", (text or "").replace("œ", "oe").replace("Œ", "OE"))
    stripped = "".join(char for char in folded if not unicodedata.combining(char))
    return _WORD.findall(stripped.lower().replace("æ", "ae"))


@dataclass(frozen=True)
class DepositFilter:
    """What the agent looks for. Dates are Paris calendar days, inclusive."""

    ref: str = ""  # a reference or its beginning, upper case ("AIDE-2026-7KQM")
    siret: str = ""  # a SIRET (14 digits) or a SIREN (9 digits)
    words: tuple[str, ...] = ()  # name words, as search_words gives them
    day_from: date | None = None
    day_to: date | None = None
    certified: str = ""  # "" any, UNCHECKED, or a state of CERTIFIED_STATES

    @property
    def empty(self) -> bool:
        """No filter at all."""
        return self == DepositFilter()


def classify(text: str) -> DepositFilter:
    """The search box's text as a filter: a reference or its beginning (any case, dashes
    and spaces optional), a SIRET or a SIREN (spaces allowed), else name words. Empty
    words (punctuation only) give an empty filter."""
    squeezed = re.sub(r"[\s\u00a0\u202f.]", "", text).upper()
    if squeezed.isascii() and squeezed.isdigit() and len(squeezed) in (9, 14):
        return DepositFilter(siret=squeezed)
    letters = re.sub(r"[^0-9A-Z]", "", squeezed)
    if squeezed.isascii() and _REF.fullmatch(letters):
        body = letters[8:]
        groups = "".join("-" + body[start : start + 4] for start in range(0, len(body), 4))
        return DepositFilter(ref=f"AIDE-{letters[4:8]}{groups}")
    return DepositFilter(words=tuple(search_words(text)[:8]))


def _paris_day_start_utc(day: date) -> str:
    moment = datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC)
    return moment.isoformat(timespec="seconds")


def _where(flt: DepositFilter) -> tuple[str, list]:
    clauses, params = [], []
    if flt.ref:
        # A prefix range on the unique index ("~" sorts after every reference character).
        clauses.append("ref >= ? AND ref < ?")
        params += [flt.ref, flt.ref + "~"]
    if len(flt.siret) == 14:
        clauses.append("siret = ?")
        params.append(flt.siret)
    elif flt.siret:
        clauses.append("siret >= ? AND siret < ?")  # ":" sorts right after "9"
        params += [flt.siret, flt.siret + ":"]
    for word in flt.words:
        clauses.append("instr(search_name, ?) > 0")
        params.append(" " + word)
    if flt.certified == UNCHECKED:
        clauses.append("certified_state IS NULL")
    elif flt.certified:
        clauses.append("certified_state = ?")
        params.append(flt.certified)
    if flt.day_from:
        clauses.append("created_at >= ?")
        params.append(_paris_day_start_utc(flt.day_from))
    if flt.day_to:
        clauses.append("created_at < ?")
        params.append(_paris_day_start_utc(flt.day_to + timedelta(days=1)))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def search(
    db: sqlite_utils.Database, flt: DepositFilter, cursor: paging.Cursor | None = None
) -> paging.Page:
    """One page of the deposits matching the filter, newest first."""
    where, params = _where(flt)
    return paging.fetch_page(
        db,
        select=_SELECT,
        table="deposits",
        order="created_at",
        where=where,
        params=params,
        cursor=cursor or paging.Cursor(),
    )


def iter_rows(db: sqlite_utils.Database, flt: DepositFilter) -> Iterator[tuple]:
    """Every matching deposit, newest first, as tuples in LIST_COLUMNS order, read straight
    from the connection's cursor (the CSV export: constant memory)."""
    where, params = _where(flt)
    return paging.iter_all(db, select=_SELECT, order="created_at", where=where, params=params)


def set_certified_state(db: sqlite_utils.Database, ref: str, state: str | None) -> bool:
    """Record the certified check's verdict for a deposit; False if no such deposit.

    `state` is one of CERTIFIED_STATES (None: back to "non vérifiée").
    """
    if state not in CERTIFIED_LABELS:
        raise ValueError(f"unknown certified state: {state!r}")
    with immediate(db):
        changed = db.execute(
            "UPDATE deposits SET certified_state = ? WHERE ref = ?", [state, ref]
        ).rowcount
    return changed > 0
