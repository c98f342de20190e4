"""The deposit form's values as typed: read from a post or a query string, bounded, never None.

Which of them the live lookup may carry (`LOOKUP_PARAMS`): the SIRET, the tiers block it
fills and its signed snapshot. The applicant's name, e-mail, phone and project never travel
with a lookup, and a lookup link (`GET /demande/tiers?siret=`) carries the SIRET alone.
"""

from __future__ import annotations

from portail.core import labels
from portail.core.formats import siret_fr
from portail.core.siret import InvalidSiret, validate_siret
from portail.core.tiers import TIERS_FIELDS

APPLICANT_FIELDS = (*labels.APPLICANT_SECTION, *labels.PROJECT_SECTION)


TEXT_FIELDS = tuple(dict.fromkeys(("siret", *TIERS_FIELDS, *APPLICANT_FIELDS)))


MAX_FIELD_LENGTH = 5000  # echoed values are bounded even before validation


USE_SIRET = "use_siret"  # the "Utiliser le SIRET …" button: its value is the answered SIRET


# What the htmx lookup posts (its `hx-params`): the fragment renders the tiers block only.
# The "Utiliser le SIRET …" button adds its own name (USE_SIRET) to the list.
LOOKUP_PARAMS = ",".join(dict.fromkeys(("siret", "prefill_snapshot", *TIERS_FIELDS)))


def typed_values(source) -> dict[str, str]:
    """Every text field as typed (from a form or a query string), bounded, never None."""
    if hasattr(source, "to_dict"):
        # A werkzeug MultiDict raises (and catches) an exception per missing key on .get():
        # one plain dict of first values is cheaper for a form of 27 fields.
        source = source.to_dict()
    values = {name: (source.get(name) or "")[:MAX_FIELD_LENGTH] for name in TEXT_FIELDS}
    values["consentement"] = "y" if source.get("consentement") else ""
    if not values["pays"] and "pays" not in source:
        values["pays"] = "France"
    return values


def siret_only(source) -> dict[str, str]:
    """The form's values with nothing but the SIRET taken from `source` (a foreign link or
    post may not fill in an e-mail or an amount the applicant never typed)."""
    return typed_values({"siret": source.get("siret") or ""})


def take_used_siret(values: dict[str, str], source) -> bool:
    """Put the SIRET of a clicked "Utiliser le SIRET …" button in the field; True if one was."""
    used = (source.get(USE_SIRET) or "")[:MAX_FIELD_LENGTH]
    try:
        siret = validate_siret(used)
    except InvalidSiret:
        return False  # not a SIRET the portal offered: the field keeps what was typed
    values["siret"] = siret_fr(siret)
    return True


def only_siret_typed(values: dict[str, str]) -> bool:
    """True when the form holds a valid SIRET and nothing else the applicant typed."""
    if any(value.strip() for name, value in values.items() if name not in ("siret", "pays")):
        return False
    try:
        validate_siret(values["siret"])
    except InvalidSiret:
        return False  # an invalid SIRET is a filing error like any other: the usual 422
    return True
