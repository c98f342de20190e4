"""What the applicant changed in a prefilled tiers block, and what a new lookup may replace.

The form carries a signed snapshot of the last prefill: the values API Entreprise proposed.
Comparing the posted values with them tells, without trusting the browser, which fields still
hold the API's value (a new lookup may replace or clear them) and which ones the applicant
typed or corrected (a new lookup keeps them, and says so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from portail.core.labels import FIELD_LABELS
from portail.core.siret import normalise
from portail.core.tiers import (
    TIERS_FIELDS,
    BadPayload,
    Tiers,
    add_association,
    tiers_from_etablissement,
)

# The form's own defaults: present before anyone types, so never the applicant's input.
FORM_DEFAULTS = {"pays": "France"}


# The lookup fills these (the SIRET is the applicant's own input, handled apart).
LOOKUP_FIELDS = tuple(name for name in TIERS_FIELDS if name != "siret")


# Labels read out of context in a sentence: "Numéro" alone would say nothing.
_SENTENCE_LABELS = {"adresse_numero": "Numéro de voie", "siege_social": "Siège social"}


def same_value(name: str, typed: str | None, proposed: str | None) -> bool:
    """True when `typed` is the proposed value as a browser sends it back.

    Browsers post a textarea's line breaks as CRLF and the applicant may leave a stray space;
    a SIRET may come back grouped by threes. None of that is a correction.
    """
    typed, proposed = typed or "", proposed or ""
    if name == "siret":
        return normalise(typed) == normalise(proposed)
    return typed.replace("\r\n", "\n").strip() == proposed.replace("\r\n", "\n").strip()


def changed_fields(prefilled: Mapping[str, str], values: Mapping[str, str]) -> list[str]:
    """The prefilled fields whose value is no longer the one proposed, in the form's order."""
    return [
        name
        for name in (*TIERS_FIELDS, *sorted(set(prefilled) - set(TIERS_FIELDS)))
        if name in prefilled and not same_value(name, values.get(name), prefilled[name])
    ]


def applicant_values(
    values: Mapping[str, str], previous_prefilled: Mapping[str, str] | None
) -> dict[str, str]:
    """The tiers values a new lookup must keep: whatever the applicant typed or corrected.

    A value still equal to what the previous prefill proposed is the API's, not the
    applicant's; so is an empty field or one holding the form's default. Without a previous
    snapshot, any other value was typed by hand.
    """
    previous = previous_prefilled or {}
    kept = {}
    for name in LOOKUP_FIELDS:
        value = values.get(name) or ""
        if not value.strip():
            continue
        if name in previous:
            if same_value(name, value, previous[name]):
                continue
        elif value == FORM_DEFAULTS.get(name):
            continue
        kept[name] = value
    return kept


def sentence_label(name: str) -> str:
    """A field's label as it reads inside a sentence."""
    return _SENTENCE_LABELS.get(name) or FIELD_LABELS.get(name, name)


def kept_sentence(names: Iterable[str]) -> str:
    """The French sentence announcing the applicant's values a lookup kept ("" for none)."""
    labels = [sentence_label(name) for name in names]
    if not labels:
        return ""
    if len(labels) == 1:
        return f"Votre modification a été conservée\u202f: {labels[0]}."
    return f"Vos {len(labels)} modifications ont été conservées\u202f: {', '.join(labels)}."


def tiers_from_snapshot(payload: Mapping, asked_siret: str) -> Tiers | None:
    """The Tiers a sealed snapshot's answers describe again, or None if they cannot be read.

    The payload is the portal's own signed copy of the API's bodies, read by the same mapping
    as on the lookup: the page shows the same warnings (closed, secondary...) without a call.
    A snapshot sealed by an older version that no longer reads gives None (no warnings).
    """
    body = payload.get("etablissement") if isinstance(payload, Mapping) else None
    if not isinstance(body, dict):
        return None
    unreadable = (BadPayload, TypeError, KeyError, AttributeError)
    try:
        tiers = tiers_from_etablissement(body, asked_siret)
    except unreadable:
        return None
    association = payload.get("association")
    if isinstance(association, dict):
        # As on the lookup: the établissement's data stands on its own.
        with contextlib.suppress(*unreadable):
            tiers = add_association(tiers, association)
    return tiers
