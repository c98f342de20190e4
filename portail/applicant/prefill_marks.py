"""The last prefill as the page shows it again, from the signed snapshot the form carries.

A refused post (a field missing, an expired session, the filing limit) or a failed lookup
re-renders the tiers block without calling the API: the snapshot says which values API
Entreprise proposed and holds its answers, so the page shows the same marks ("Pré-rempli
depuis API Entreprise", or "Modifié par vous" where the posted value differs) and the same
warnings (closed, ceased, secondary, transferred, partly public). A snapshot that is forged,
stale or sealed for another SIRET than the field's shows nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app

from portail.core.prefill_edits import changed_fields, tiers_from_snapshot
from portail.core.siret import InvalidSiret, validate_siret
from portail.storage import deposits
from portail.web.form_fields import PrefillMarks


def unmarked(sealed: str | None = None) -> dict:
    """The template data of a tiers block without prefill marks, carrying `sealed` on."""
    return {
        "tiers": None,
        "prefilled": PrefillMarks(),
        "prefill_snapshot": sealed or "",
        "siret_replaced": False,
    }


def marks(prefilled: Mapping[str, str], values: Mapping[str, str]) -> PrefillMarks:
    """Unchanged prefilled fields are the API's; changed ones say what the API proposed."""
    changed = set(changed_fields(prefilled, values))
    return PrefillMarks(
        prefilled=frozenset(name for name, value in prefilled.items() if value) - changed,
        edited={name: prefilled[name] for name in changed if prefilled[name]},
    )


def previous_prefill(sealed: str | None) -> dict | None:
    """The form's last prefill (opened whatever SIRET the field holds now), or None."""
    return deposits.open_previous_snapshot(current_app.secret_key, sealed)


def marks_from_snapshot(values: Mapping[str, str], sealed: str | None) -> dict:
    """The template data of the tiers block as `values` and the posted snapshot describe it."""
    return marks_from_opened(values, sealed, previous_prefill(sealed))


def marks_from_opened(values: Mapping[str, str], sealed: str | None, opened: dict | None) -> dict:
    """`marks_from_snapshot` for a snapshot already opened (`previous_prefill(sealed)`): it
    shows only if sealed for the SIRET the field holds, asked or answered."""
    extra = unmarked(sealed)
    try:
        siret = validate_siret(values.get("siret") or "")
    except InvalidSiret:
        return extra
    if opened is None or siret not in (opened["siret"], opened["answered_siret"]):
        return extra
    tiers = tiers_from_snapshot(opened["payload"], opened["siret"])
    extra["prefilled"] = marks(opened["prefilled"], values)
    extra["tiers"] = tiers
    # The field already holds the successor's SIRET: no "Utiliser le SIRET …" to offer.
    extra["siret_replaced"] = bool(tiers and tiers.redirected_from and tiers.siret == siret)
    return extra
