"""The SIRET lookup behind the deposit form: validate, ask the gateway, fill the tiers block.

One path for the htmx fragment (live, while typing) and for the whole page (the no-JS
"Pré-remplir", a bookmark). A new answer replaces only what the previous prefill proposed
(per the form's signed snapshot), never what the applicant typed or corrected; a failed
lookup erases nothing typed; the status line under the SIRET says what happened in French,
including which of the applicant's values were kept.
"""

from __future__ import annotations

import secrets

from flask import current_app, request

from portail.applicant.prefill import lookup_public_tiers
from portail.applicant.prefill_marks import (
    marks,
    marks_from_opened,
    previous_prefill,
    unmarked,
)
from portail.core.formats import siret_fr
from portail.core.prefill_edits import (
    FORM_DEFAULTS,
    LOOKUP_FIELDS,
    applicant_values,
    kept_sentence,
    same_value,
)
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

    `values` is updated in place. What the applicant typed or corrected in the tiers block
    is never overwritten: only the values the previous prefill proposed (per its signed
    snapshot) are replaced by the new answer, or cleared when another SIRET finds nothing,
    and the status says which values were kept. A lookup that fails for the same SIRET
    changes nothing (nor the snapshot, which still describes those fields). `fill_siret`
    is for the whole page: when the directory answers for another SIRET, the field takes
    that SIRET.
    """
    previous = previous_prefill(previous_snapshot)  # opened once: it sits on every lookup

    def unchanged() -> dict:
        # The block as posted, its marks and warnings read from the snapshot it carries.
        return marks_from_opened(values, previous_snapshot, previous)

    conf = get_settings()
    if not conf.prefill_available:
        return Status(
            "L'assistance à la saisie par SIRET n'est pas disponible : "
            "complétez les champs vous-même."
        ), unchanged()
    raw = values.get("siret", "")
    digits = normalise(raw)
    if live and digits.isascii() and digits.isdigit() and len(digits) < 14:
        # The browser sends an incomplete number only once the field is left (never at each
        # keystroke): say what is missing, calmly, without calling the API.
        return Status(
            f"Le numéro SIRET compte 14 chiffres : vous en avez saisi "
            f"{len(digits)}. Complétez-le pour pré-remplir le formulaire."
        ), unchanged()
    try:
        siret = validate_siret(raw)
    except InvalidSiret as exc:
        extra = unchanged()
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
    kept = applicant_values(values, previous["prefilled"] if previous else None)
    if outcome.tiers is None:
        if previous is None or siret in (previous["siret"], previous["answered_siret"]):
            return Status(outcome.message, outcome.level), unchanged()
        # Another SIRET found nothing: the previous organisation's values must not stay
        # under this number. The applicant's own values stay, and the status says so.
        cleared = _clear_previous(values, kept)
        message = [outcome.message]
        if cleared:
            message.append(
                "Les informations pré-remplies pour le SIRET précédent "
                f"({siret_fr(previous['answered_siret'])}) ont été retirées."
            )
        message.append(kept_sentence(kept))
        return Status(" ".join(filter(None, message)), outcome.level), unmarked()

    tiers = outcome.tiers
    # The SIRET is handled apart: the htmx fragment cannot touch the input (it is outside
    # the swapped block), so there a redirect is told in a notice with a button instead.
    proposed = {k: v for k, v in tiers.form_values().items() if k != "siret"}
    # Sealed with every value proposed, kept or not: filing then records a kept value as
    # the applicant's change, and the next lookup still recognises it as theirs.
    prefilled = {name: value for name, value in proposed.items() if value}
    values.update({name: value for name, value in proposed.items() if name not in kept})
    if not values.get("pays"):
        values["pays"] = FORM_DEFAULTS["pays"]
    answered = tiers.siret or siret
    extra = unmarked()
    if fill_siret and answered != siret:
        # A transferred establishment: filing the old SIRET next to its successor's data
        # would mislead the authority, and the whole page can fix the field itself.
        values["siret"] = siret_fr(answered)
        prefilled["siret"] = answered
        extra["siret_replaced"] = True
    extra["tiers"] = tiers
    extra["prefilled"] = marks(prefilled, values)
    extra["prefill_snapshot"] = deposits.seal_snapshot(
        current_app.secret_key, siret, outcome.snapshot or {}, prefilled, answered_siret=answered
    )
    overruled = [name for name in kept if not same_value(name, kept[name], proposed.get(name))]
    message = " ".join(filter(None, (outcome.message, kept_sentence(overruled))))
    return Status(message, outcome.level), extra


def _clear_previous(values: dict[str, str], kept: dict[str, str]) -> list[str]:
    """Empty (or reset to the form's default) every tiers value the applicant did not type."""
    cleared = []
    for name in LOOKUP_FIELDS:
        blank = FORM_DEFAULTS.get(name, "")
        if name not in kept and values.get(name, "") != blank:
            values[name] = blank
            cleared.append(name)
    return cleared


def used_siret_status(status: Status, values: dict[str, str]) -> Status:
    """The status after "Utiliser le SIRET …": the input changed under the applicant's eyes,
    so the aria-live line says so first."""
    return Status(
        f"Le SIRET {values['siret']} a été reporté dans le champ « Numéro SIRET ». "
        + status.message,
        status.level,
    )
