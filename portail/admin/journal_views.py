"""/admin/journal: the API call journal, paginated, filtered, exportable as CSV.

Filters travel in the query string (a GET form), so a filtered page can be bookmarked and
the CSV export (`?format=csv`) takes exactly the filters on screen.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request

from portail.admin import csv_export, listing
from portail.apientreprise.catalogue import ROUTE_LABELS
from portail.apientreprise.errors import KIND_LABELS
from portail.auth.guard import login_required, record_agent_event
from portail.core.siret import normalise
from portail.storage import journal
from portail.web.extensions import get_db

bp = Blueprint("journal", __name__)


SOURCE_LABELS = {
    journal.SOURCE_API: "Appel",
    journal.SOURCE_CACHE: "Cache",
    journal.SOURCE_JOINED: "Recherche jointe",
    journal.SOURCE_REFUSED: "Non envoyé",
}


CSV_HEADER = (
    "date_heure_paris",
    "date_heure_utc",
    "route",
    "siret_ou_siren",
    "objet",
    "acteur",
    "statut_http",
    "code_erreur",
    "type_erreur",
    "duree_ms",
    "x_request_id",
    "source",
)


_VALID_STATUSES = {value for value, _label in journal.STATUS_CHOICES}


def _parse_filter(args) -> tuple[journal.JournalFilter, dict[str, str]]:
    """The filter from the query string and a French message per invalid field."""
    errors: dict[str, str] = {}
    siret = normalise(args.get("siret", ""))[:20]
    if siret and not (siret.isascii() and siret.isdigit() and len(siret) in (9, 14)):
        errors["siret"] = "Saisissez un SIRET (14 chiffres) ou un SIREN (9 chiffres)."
        siret = ""
    status = args.get("statut", "")
    if status not in _VALID_STATUSES:
        errors["statut"] = "Choisissez un statut dans la liste."
        status = ""
    days = {}
    for field in ("du", "au"):
        raw = args.get(field, "").strip()
        days[field] = None
        if raw:
            try:
                days[field] = date.fromisoformat(raw)
            except ValueError:
                errors[field] = "Saisissez une date au format AAAA-MM-JJ."
                continue
            # Far dates overflow when turned into Paris-time bounds; the journal holds none.
            if not 2000 <= days[field].year <= 2100:
                errors[field] = "Saisissez une date entre l'an 2000 et l'an 2100."
                days[field] = None
    if days["du"] and days["au"] and days["du"] > days["au"]:
        errors["au"] = "La date de fin doit suivre la date de début."
        days["au"] = None
    return journal.JournalFilter(siret, status, days["du"], days["au"]), errors


def _csv_rows(db, flt: journal.JournalFilter):
    guard, paris = csv_export.guard, journal.paris_time_fast
    for row in journal.iter_rows(db, flt):
        (
            _id,
            at,
            route,
            target,
            obj,
            actor,
            status,
            error_code,
            kind,
            duration,
            request_id,
            source,
        ) = row
        yield (
            paris(at),
            at,
            route,
            guard(target),
            guard(obj),
            guard(actor),
            status,
            guard(error_code),
            guard(kind),
            duration,
            guard(request_id),
            source,
        )


def _selection_words(flt: journal.JournalFilter) -> str:
    """The export's filters in words, for the admin event journal."""
    words = []
    if flt.siret:
        words.append(f"SIRET ou SIREN {flt.siret}")
    if flt.status:
        words.append(f"statut {flt.status}")
    if flt.day_from:
        words.append(f"du {flt.day_from.isoformat()}")
    if flt.day_to:
        words.append(f"au {flt.day_to.isoformat()}")
    return ", ".join(words)


@bp.get("/journal")
@login_required
def index():
    """The journal, newest first; `?format=csv` exports every row matching the filters."""
    flt, errors = _parse_filter(request.args)
    if request.args.get("format") == "csv" and not errors:

        def produce():
            db = get_db()
            # The journal names applicants' SIRETs and agents: its export is traced too.
            record_agent_event(db, "journal_exported", _selection_words(flt) or "tout le journal")
            return csv_export.lines(CSV_HEADER, _csv_rows(db, flt))

        return csv_export.streamed("journal-api-entreprise", produce)
    page = journal.search(get_db(), flt, listing.cursor_from(request.args))
    filters = {
        key: value
        for key, value in {
            "siret": flt.siret,
            "statut": flt.status,
            "du": flt.day_from.isoformat() if flt.day_from else "",
            "au": flt.day_to.isoformat() if flt.day_to else "",
        }.items()
        if value
    }
    response = Response(
        render_template(
            "admin/journal.html",
            page=page,
            filters=filters,
            typed=request.args,
            errors=errors,
            status_choices=journal.STATUS_CHOICES,
            route_labels=ROUTE_LABELS,
            source_labels=SOURCE_LABELS,
            kind_labels=KIND_LABELS,
            paris=journal.paris_time,
            count_text=listing.count_text,
        ),
        status=422 if errors else 200,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
