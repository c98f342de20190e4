"""Filed deposits for the authority's agents: the list (search, filters, CSV export) and
one deposit in full.

Filters travel in the query string (a GET form): a selection can be bookmarked, and the
export (`?format=csv`) takes exactly the selection on screen.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from flask import Blueprint, Response, render_template, request

from portail.admin import csv_export, deposit_lines, listing
from portail.auth.guard import login_required, record_agent_event
from portail.core import formats
from portail.core.certified import review
from portail.core.formats import euros
from portail.core.paris_time import in_paris
from portail.storage import deposit_search, outbox
from portail.storage.attestations import list_for_deposit as list_attestations
from portail.storage.certified import get_check
from portail.web.extensions import deposit_or_404, get_db

bp = Blueprint("deposits", __name__)

MAX_QUERY_CHARS = 100


CERTIFIED_CHOICES = (
    ("", "Toutes"),
    (deposit_search.UNCHECKED, "Non vérifiée"),
    *((state, label.capitalize()) for state, label in deposit_search.CERTIFIED_STATES if state),
)


_CERTIFIED_VALUES = {value for value, _label in CERTIFIED_CHOICES}


CSV_HEADER = (
    "Référence",
    "Déposée le (heure de Paris)",
    "SIRET",
    "Raison sociale",
    "Projet",
    "Montant demandé (€)",
    "Courriel",
    "Vérification des données certifiées",
)


def _parse_filter(args) -> tuple[deposit_search.DepositFilter, dict[str, str]]:
    """The filter from the query string and a French message per invalid field."""
    errors: dict[str, str] = {}
    text = args.get("q", "").strip()
    found = deposit_search.DepositFilter()
    if len(text) > MAX_QUERY_CHARS:
        errors["q"] = f"Saisissez au plus {MAX_QUERY_CHARS} caractères."
    elif text:
        found = deposit_search.classify(text)
        if found.ref and len(found.ref) < deposit_search.MIN_REF_PREFIX:
            errors["q"] = (
                "Saisissez la référence complète, ou au moins son début jusqu'au premier "
                "caractère après l'année (par exemple AIDE-2026-7)."
            )
            found = deposit_search.DepositFilter()
        elif found.empty:
            errors["q"] = (
                "Saisissez une référence, un SIRET, un SIREN ou des mots du nom de "
                "l'organisation (lettres ou chiffres)."
            )
    certified = args.get("verification", "")
    if certified not in _CERTIFIED_VALUES:
        errors["verification"] = "Choisissez un état de vérification dans la liste."
        certified = ""
    days = {}
    for name in ("du", "au"):
        raw = args.get(name, "").strip()
        days[name] = None
        if not raw:
            continue
        try:
            days[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = "Saisissez une date au format AAAA-MM-JJ."
            continue
        if not 2000 <= days[name].year <= 2100:
            errors[name] = "Saisissez une date entre l'an 2000 et l'an 2100."
            days[name] = None
    if days["du"] and days["au"] and days["du"] > days["au"]:
        errors["au"] = "La date de fin doit suivre la date de début."
        days["au"] = None
    flt = replace(found, day_from=days["du"], day_to=days["au"], certified=certified)
    return flt, errors


def _kept_filters(args, flt: deposit_search.DepositFilter) -> dict[str, str]:
    """The valid filters, as the query string carries them (links, export)."""
    searched = flt.ref or flt.siret or flt.words
    values = {
        "q": args.get("q", "").strip() if searched else "",
        "du": flt.day_from.isoformat() if flt.day_from else "",
        "au": flt.day_to.isoformat() if flt.day_to else "",
        "verification": flt.certified,
    }
    return {key: value for key, value in values.items() if value}


def selection_words(flt: deposit_search.DepositFilter) -> str:
    """The selection in words, for the admin event journal: 'nom « ecole musique », du
    2026-01-01 au 2026-03-31, vérification : écarts'."""
    parts = []
    if flt.ref:
        parts.append(f"référence {flt.ref}")
    if flt.siret:
        parts.append(f"{'SIRET' if len(flt.siret) == 14 else 'SIREN'} {flt.siret}")
    if flt.words:
        parts.append(f"nom « {' '.join(flt.words)} »")
    if flt.day_from:
        parts.append(f"du {flt.day_from.isoformat()}")
    if flt.day_to:
        parts.append(f"au {flt.day_to.isoformat()}")
    if flt.certified:
        label = deposit_search.CERTIFIED_LABELS.get(
            None if flt.certified == deposit_search.UNCHECKED else flt.certified
        )
        parts.append(f"vérification : {label}")
    return ", ".join(parts) or "toutes les demandes"


def _csv_rows(db, flt: deposit_search.DepositFilter):
    guard, labels = csv_export.guard, deposit_search.CERTIFIED_LABELS
    for row in deposit_search.iter_rows(db, flt):
        _id, ref, created_at, siret, name, project, cents, email, certified = row
        yield (
            ref,
            in_paris(created_at, "%d/%m/%Y %H:%M"),
            guard(siret),
            guard(name),
            guard(project),
            csv_export.euros_cell(cents),
            guard(email),
            labels.get(certified, certified),
        )


def _export(flt: deposit_search.DepositFilter) -> Response:
    def produce():
        db = get_db()
        record_agent_event(db, "deposits_exported", selection_words(flt))
        return csv_export.lines(CSV_HEADER, _csv_rows(db, flt))

    return csv_export.streamed("demandes", produce)


@bp.get("/demandes")
@login_required
def index():
    """Filed deposits, newest first, 50 per page, searched and filtered by the GET form;
    `?format=csv` exports every deposit matching the filters."""
    flt, errors = _parse_filter(request.args)
    if request.args.get("format") == "csv" and not errors:
        return _export(flt)
    page = deposit_search.search(get_db(), flt, listing.cursor_from(request.args))
    filters = _kept_filters(request.args, flt)
    return Response(
        render_template(
            "admin/deposits.html",
            page=page,
            filters=filters,
            typed=request.args,
            errors=errors,
            certified_choices=CERTIFIED_CHOICES,
            certified_labels=deposit_search.CERTIFIED_LABELS,
            count_text=listing.count_text,
            paris=formats.paris_datetime,
            euros=euros,
        ),
        status=422 if errors else 200,
    )


@bp.get("/demandes/<ref>")
@login_required
def detail(ref: str):
    """One deposit: every filed value, what was prefilled and changed, the API snapshot."""
    db = get_db()
    filed = deposit_or_404(ref)
    # Agents' access to data obtained from API Entreprise is traced (CGU, 36 months).
    record_agent_event(db, "deposit_viewed", filed.ref)
    return render_template(
        "admin/deposit.html",
        deposit=filed,
        lines=deposit_lines.lines(filed),
        origin_summary=deposit_lines.origin_summary(
            len(filed.prefilled), len(filed.changed_fields)
        ),
        snapshot=json.dumps(filed.snapshot, ensure_ascii=False, indent=2)
        if filed.snapshot
        else None,
        # The agent's certified check (templates/instruction/_certified.html), None if never run.
        certified=review(get_check(db, filed.ref), filed.values),
        # Attestations fetched for it (templates/instruction/_attestations.html), newest first.
        attestations=list_attestations(db, filed.ref),
        # The acknowledgement e-mail's state (templates/admin/_acknowledgement.html), or None.
        acknowledgement=outbox.for_deposit(db, filed.ref),
        paris=formats.paris_long,
        euros=euros,
    )
