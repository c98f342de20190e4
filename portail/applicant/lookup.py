"""The SIRET lookup behind the deposit form: validate, ask the gateway, fill the tiers block.

One path for the htmx fragment (live, while typing) and for the whole page (the no-JS
"Pré-remplir", a bookmark): prefilled fields replace typed ones only on success, and the
status line under the SIRET says what happened in French.
"""

from __future__ import annotations

import secrets

from flask import current_app, request

from portail.applicant.prefill import lookup_public_tiers
from portail.core.formats import count_of, siret_fr
from portail.core.siret import InvalidSiret, normalise, validate_siret
from portail.storage import deposits
from portail.web.extensions import get_db, get_gateway, get_settings


class Status:
    """The status line under the SIRET input: a French sentence and its level."""

    def __init__(self, message: str = "", level: str = "info"):
        self.message = message
        self.level = level


def lookup(
    values: dict[str, str],
    live: bool,
    fill_siret: bool = False,
    previous_snapshot: str | None = None,
) -> tuple[Status, dict]:
    """Validate the SIRET and prefill the tiers; returns the status and extra template data.

    `values` is updated in place: prefilled fields replace typed ones only on success, so a
    failed or refused lookup never erases what the applicant typed (nor the signed snapshot
    of an earlier prefill, which still describes those fields). `fill_siret` is for the
    whole page: when the directory answers for another SIRET, the field takes that SIRET.
    """
    extra: dict = {
        "tiers": None,
        "prefilled": set(),
        "prefill_snapshot": previous_snapshot or "",
        "siret_replaced": False,
    }
    conf = get_settings()
    if not conf.prefill_available:
        return Status(
            "L'assistance à la saisie par SIRET n'est pas disponible : "
            "complétez les champs vous-même."
        ), extra
    raw = values.get("siret", "")
    digits = normalise(raw)
    if live and digits.isascii() and digits.isdigit() and len(digits) < 14:
        # Still typing: a neutral count, not an error shouted at every keystroke.
        return Status(f"Saisie en cours : {count_of(len(digits), 'chiffre')} sur 14."), extra
    try:
        siret = validate_siret(raw)
    except InvalidSiret as exc:
        extra["siret_error"] = exc.message
        return Status(exc.message, "error"), extra

    lookup_id = secrets.token_hex(4).upper()
    outcome = lookup_public_tiers(
        get_gateway(),
        get_db(),
        conf,
        siret,
        actor="anonyme",
        object_=f"Demande d'aide, pré-remplissage {lookup_id}",
        client=request.remote_addr,  # one client may not spend the shared budget alone
    )
    if outcome.tiers is None:
        return Status(outcome.message, outcome.level), extra

    tiers = outcome.tiers
    # The SIRET is handled apart: the htmx fragment cannot touch the input (it is outside
    # the swapped block), so there a redirect is told in a notice with a button instead.
    proposed = {k: v for k, v in tiers.form_values().items() if k != "siret"}
    prefilled = {name: value for name, value in proposed.items() if value}
    values.update(proposed)
    if not values.get("pays"):
        values["pays"] = "France"
    answered = tiers.siret or siret
    if fill_siret and answered != siret:
        # A transferred establishment: filing the old SIRET next to its successor's data
        # would mislead the authority, and the whole page can fix the field itself.
        values["siret"] = siret_fr(answered)
        prefilled["siret"] = answered
        extra["siret_replaced"] = True
    extra["tiers"] = tiers
    extra["prefilled"] = set(prefilled)
    extra["prefill_snapshot"] = deposits.seal_snapshot(
        current_app.secret_key, siret, outcome.snapshot or {}, prefilled, answered_siret=answered
    )
    return Status(outcome.message, outcome.level), extra


def used_siret_status(status: Status, values: dict[str, str]) -> Status:
    """The status after "Utiliser le SIRET …": the input changed under the applicant's eyes,
    so the aria-live line says so first."""
    return Status(
        f"Le SIRET {values['siret']} a été reporté dans le champ « Numéro SIRET ». "
        + status.message,
        status.level,
    )
