"""The deposit page's lines in words: each filed value as an agent reads it (grouped SIRET,
dates and amounts in French, the consent as a sentence), never a raw stored code."""

from __future__ import annotations

from portail.core import formats
from portail.core.labels import APPLICANT_SECTION, FIELD_LABELS, PROJECT_SECTION, TIERS_SECTION
from portail.storage.deposits import FiledDeposit

CONSENT_LABEL = "Consentement à l'utilisation des données"
_SIRET_FIELDS = ("siret", "siret_siege")
_WORD_FIELDS = ("siege_social", "etat_administratif")  # stored lower case: "oui", "actif"


def field_order(values: dict) -> list[str]:
    known = [*TIERS_SECTION, *APPLICANT_SECTION, *PROJECT_SECTION]
    extra = [name for name in values if name not in known and name != "consentement"]
    return [*known, "consentement", *extra]


def shown(name: str, value: str | None, deposit: FiledDeposit) -> str:
    """One stored value as the agent reads it."""
    if name == "consentement":
        # The box is ticked when filing: the consent is dated by the filing itself.
        given = value not in (None, "", "n", "non", "0", "false")
        return f"donné le {formats.paris_long(deposit.created_at)}" if given else "non donné"
    if not value:
        return ""
    if name in _SIRET_FIELDS:
        return formats.siret_fr(value)
    if name == "date_creation":
        return formats.date_long(value)
    if name == "montant_demande" and deposit.amount_cents is not None:
        return formats.euros(deposit.amount_cents)
    if name in _WORD_FIELDS:
        return value[:1].upper() + value[1:]
    return value


def lines(deposit: FiledDeposit) -> list[dict]:
    """Every filed (or prefilled) field: its label, value in words, origin and proposed value."""
    values, prefilled = deposit.values, deposit.prefilled
    changed = set(deposit.changed_fields)
    rows = []
    for name in field_order(values):
        if name not in values and name not in prefilled:
            continue
        if name in changed:
            origin = "changed"
        elif name in prefilled:
            origin = "prefilled"
        else:
            origin = "typed"
        proposed = prefilled.get(name)
        rows.append(
            {
                "name": name,
                "label": CONSENT_LABEL if name == "consentement" else FIELD_LABELS.get(name, name),
                "value": shown(name, values.get(name), deposit),
                "origin": origin,
                "proposed": shown(name, proposed, deposit) if proposed else proposed,
            }
        )
    return rows


def origin_summary(prefilled_count: int, changed_count: int) -> str:
    """'12 champs pré-remplis depuis API Entreprise, aucun modifié par le demandeur.'"""
    if not prefilled_count:
        return "Aucun champ pré-rempli\u202f: toutes les valeurs ont été saisies par le demandeur."
    fields = formats.count_of(prefilled_count, "champ")
    done = "pré-rempli" if prefilled_count < 2 else "pré-remplis"
    if not changed_count:
        changes = "aucun modifié"
    else:
        changes = f"dont {changed_count} modifié{'s' if changed_count > 1 else ''}"
    return f"{fields} {done} depuis API Entreprise, {changes} par le demandeur."
