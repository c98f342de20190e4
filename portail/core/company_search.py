"""The State's open company search (Recherche d'entreprises): the query sent, and its answer
read into the establishments an applicant may choose from.

Only what is publicly listed is ever shown. The search returns partially public entities too
(a sole trader who asked not to appear): their `statut_diffusion` (the unit) or
`statut_diffusion_etablissement` is "P" and their name, address or postcode read
"[NON-DIFFUSIBLE]". Such a unit or establishment is dropped whole, whatever else it holds: a
result the applicant could pick must never reveal what the register withholds, nor hand the
prefill a half-hidden organisation.

Every value is read defensively: a list where a string was expected, a number, a null, all
read as nothing rather than raise. A SIRET is kept only when it is 14 digits with a valid key,
and an activity coded in an old NAF revision is not shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from portail.core.activity import is_old_naf, normalise_naf
from portail.core.formats import siret_fr
from portail.core.labels import FIELD_LABELS
from portail.core.siret import is_valid_siret
from portail.core.tiers import BadPayload

NAME_MAX_LENGTH = 100
PLACE_MAX_LENGTH = 60
NAME_MIN_LENGTH = 3  # the search answers 400 below it: nothing is sent
MAX_RESULTS = 10

PUBLIC = "O"  # statut_diffusion of a publicly listed unit or establishment
# What the search puts in place of a withheld value (and API Entreprise's own marker).
WITHHELD = ("[NON-DIFFUSIBLE]", "[ND]")

_POSTCODE = re.compile(r"[0-9]{5}")
_FOURTEEN_DIGITS = re.compile(r"[0-9]{14}")


@dataclass(frozen=True)
class Result:
    """One establishment found: what the applicant needs to recognise it."""

    siret: str
    name: str
    address: str
    activity_code: str
    activity_label: str
    open: bool
    head_office: bool

    @property
    def siret_display(self) -> str:
        return siret_fr(self.siret)

    @property
    def activity(self) -> str:
        """The activity in words with its code, or the code under its field's name."""
        if not self.activity_code:
            return ""
        if self.activity_label:
            return f"Activité : {self.activity_label} (code NAF {self.activity_code})"
        return f"{FIELD_LABELS['code_naf']} : {self.activity_code}"


def search_target(name: str, place: str) -> str | None:
    """The query string sent (and journaled): `q` is the name, plus the commune when the
    place is not a postcode (the search reads addresses too); None when too short."""
    name = " ".join(name.split())[:NAME_MAX_LENGTH]
    place = " ".join(place.split())[:PLACE_MAX_LENGTH]
    if len(name) < NAME_MIN_LENGTH:
        return None
    params = {"q": name}
    if _POSTCODE.fullmatch(place):
        params["code_postal"] = place
    elif place:
        params["q"] = f"{name} {place}"
    params["per_page"] = str(MAX_RESULTS)
    return urlencode(params)


def _text(value: object) -> str:
    """A string value stripped; the first string of a list (an odd `nom_commercial`); else
    nothing (a number, an object, a null)."""
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, str) and item.strip()), "")
    return value.strip() if isinstance(value, str) else ""


def _withholds(mapping: dict) -> bool:
    """Whether any value of the mapping (or of a list in it) is a withheld marker."""
    for value in mapping.values():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and item.strip() in WITHHELD for item in items):
            return True
    return False


def _public_unit(unit: dict) -> bool:
    top_level = {key: value for key, value in unit.items() if not isinstance(value, dict)}
    top_level.pop("matching_etablissements", None)
    return unit.get("statut_diffusion") == PUBLIC and not _withholds(top_level)


def _public_establishment(record: dict) -> bool:
    return record.get("statut_diffusion_etablissement") == PUBLIC and not _withholds(record)


def _activity(record: dict, unit: dict) -> tuple[str, str]:
    """(code, label) of the establishment's activity, else the unit's; empty for an old
    NAF revision (its code means something else today)."""
    for source in (record, unit):
        code = _text(source.get("activite_principale"))
        if not code:
            continue
        label = _text(source.get("libelle_activite_principale"))
        if is_old_naf({"code": code, "libelle": label}):
            return "", ""
        return normalise_naf(code), label
    return "", ""


def _establishment(unit: dict, record: dict) -> Result | None:
    siret = _text(record.get("siret"))
    if not _FOURTEEN_DIGITS.fullmatch(siret) or not is_valid_siret(siret):
        return None
    name = _text(unit.get("nom_complet")) or _text(unit.get("nom_raison_sociale"))
    trade_name = _text(record.get("nom_commercial"))
    if trade_name and trade_name.upper() not in name.upper():
        name = f"{name} ({trade_name})" if name else trade_name
    if not name:
        return None  # nothing the applicant could recognise
    code, label = _activity(record, unit)
    return Result(
        siret=siret,
        name=name,
        address=_text(record.get("adresse")),
        activity_code=code,
        activity_label=label,
        open=record.get("etat_administratif") == "A" and unit.get("etat_administratif") != "C",
        head_office=record.get("est_siege") is True,
    )


def read_results(body: object) -> list[Result]:
    """The publicly listed establishments of an answer (those that matched, else the head
    office); a BadPayload when the answer is not a search answer at all."""
    units = body.get("results") if isinstance(body, dict) else None
    if not isinstance(units, list):
        raise BadPayload("results")
    found: list[Result] = []
    for unit in units:
        if not isinstance(unit, dict):
            raise BadPayload("results")
        if not _public_unit(unit):
            continue
        records = unit.get("matching_etablissements")
        if not isinstance(records, list) or not records:
            records = [unit.get("siege")]
        for record in records:
            if isinstance(record, dict) and _public_establishment(record):
                result = _establishment(unit, record)
                if result is not None:
                    found.append(result)
    return found[:MAX_RESULTS]


__all__ = [
    "MAX_RESULTS",
    "NAME_MAX_LENGTH",
    "NAME_MIN_LENGTH",
    "PLACE_MAX_LENGTH",
    "Result",
    "read_results",
    "search_target",
]
