"""Filed deposits for the authority's agents: the list and one deposit in full."""

from __future__ import annotations

import json

from flask import Blueprint, abort, render_template, request

from portail.auth.guard import client_ip, current_session, login_required
from portail.core import formats
from portail.core.formats import euros
from portail.core.labels import APPLICANT_SECTION, FIELD_LABELS, PROJECT_SECTION, TIERS_SECTION
from portail.storage import accounts
from portail.storage.deposits import get_deposit
from portail.web.extensions import get_db

bp = Blueprint("deposits", __name__)

DEPOSITS_PER_PAGE = 50


@bp.get("/demandes")
@login_required
def index():
    """Filed deposits, newest first, 50 per page."""
    db = get_db()
    total = db["deposits"].count
    pages = max(1, -(-total // DEPOSITS_PER_PAGE))
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    page = min(max(1, page), pages)
    rows = list(
        db.query(
            "SELECT ref, created_at, siret, raison_sociale, intitule_projet, "
            "montant_demande_cents FROM deposits ORDER BY created_at DESC, id DESC "
            "LIMIT ? OFFSET ?",
            [DEPOSITS_PER_PAGE, (page - 1) * DEPOSITS_PER_PAGE],
        )
    )
    return render_template(
        "admin/deposits.html",
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        paris=formats.paris_datetime,
        euros=euros,
    )


def _field_order(values: dict) -> list[str]:
    known = [*TIERS_SECTION, *APPLICANT_SECTION, *PROJECT_SECTION]
    extra = [name for name in values if name not in known and name != "consentement"]
    return [*known, "consentement", *extra]


@bp.get("/demandes/<ref>")
@login_required
def detail(ref: str):
    """One deposit: every filed value, what was prefilled and changed, the API snapshot."""
    db = get_db()
    filed = get_deposit(db, ref[:64])
    if filed is None:
        abort(404)
    values, prefilled, changed = filed.values, filed.prefilled, set(filed.changed_fields)
    admin_session = current_session()
    # Agents' access to data obtained from API Entreprise is traced (CGU, 36 months).
    accounts.record_event(
        db,
        "deposit_viewed",
        username=admin_session.username,
        admin_id=admin_session.admin_id,
        ip=client_ip(),
        detail=filed.ref,
    )
    lines = []
    for name in _field_order(values):
        if name not in values and name not in prefilled:
            continue
        if name in changed:
            origin = "changed"
        elif name in prefilled:
            origin = "prefilled"
        else:
            origin = "typed"
        lines.append(
            {
                "name": name,
                "label": FIELD_LABELS.get(name, name),
                "value": values.get(name, ""),
                "origin": origin,
                "proposed": prefilled.get(name),
            }
        )
    return render_template(
        "admin/deposit.html",
        deposit=filed,
        lines=lines,
        snapshot=json.dumps(filed.snapshot, ensure_ascii=False, indent=2)
        if filed.snapshot
        else None,
        prefilled_count=len(prefilled),
        changed_count=len(changed),
        paris=formats.paris_datetime,
        euros=euros,
    )
