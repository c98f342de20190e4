"""GET /demande/<ref>/recu: the printable receipt.

Its URL holds a 60-bit random reference, but a link travels (a forwarded e-mail, a shared
computer's history). So the personal fields (representative, e-mail, phone, project, amount,
the organisation's address) show only for RECEIPT_PERSONAL_HOURS after filing (a day by
default); after that the page confirms the reference, the date and the organisation only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import abort, make_response, render_template

from portail.applicant.limits import receipt_personal_hours
from portail.core import labels
from portail.core.paris_time import aware
from portail.storage import deposits
from portail.web.extensions import get_db

# What the receipt still shows once the personal fields are hidden: who filed, not how to
# reach them (a sole trader's address is a home address).
ORGANISATION_FIELDS = ("siret", "raison_sociale", "sigle", "enseigne", "forme_juridique")


def now() -> datetime:
    """Current UTC time (tests may replace it)."""
    return datetime.now(UTC)


def shows_personal_fields(created_at: str, hours: int, at: datetime) -> bool:
    """True while the receipt of a deposit filed at `created_at` still shows everything."""
    filed = aware(created_at)
    if filed is None:
        return False  # an unreadable time: the safe side
    return at - filed < timedelta(hours=hours)


def receipt(ref: str):
    """The printable receipt; its URL holds a 60-bit random reference, shown to nobody else."""
    if len(ref) > 40:
        abort(404)
    filed = deposits.get_deposit(get_db(), ref)
    if filed is None:
        abort(404)
    hours = receipt_personal_hours()
    personal = shows_personal_fields(filed.created_at, hours, now())
    if personal:
        sections = [
            ("Votre organisation", labels.TIERS_SECTION),
            ("Représentant", labels.APPLICANT_SECTION),
            ("Projet", labels.PROJECT_SECTION),
        ]
    else:
        sections = [("Votre organisation", ORGANISATION_FIELDS)]
    response = make_response(
        render_template(
            "deposit/receipt.html",
            deposit=filed,
            sections=sections,
            personal=personal,
            personal_hours=hours,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
