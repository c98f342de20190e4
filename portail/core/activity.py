"""The activity (NAF/APE code and label) and the headcount band of an INSEE établissement payload.

An activity coded in an old NAF revision (`70.2C`, "ancienne révision NAF (NAF1993) non
supportée") is not an activity the applicant can keep: both code and label stay empty. The
headcount band says whose it is: the établissement's own band, or for an open head office
without one, the company's; a secondary or closed établissement never shows the company's band.
"""

from __future__ import annotations

import re

from portail.core.countries import folded
from portail.core.masking import Reader, as_dict

_NAF = re.compile(r"([0-9]{2})\.?([0-9]{2})([A-Z])")

# NAF 1993 and NAF rév. 1 codes have three digits (`70.2C`); NAF rév. 2 and NAF 2025, four.
_OLD_NAF_CODE = re.compile(r"[0-9]{2}\.?[0-9][A-Z]")

# Nomenclatures INSEE names for the revisions before NAF rév. 2 (folded, letters and digits).
_OLD_NOMENCLATURES = ("NAFREV1", "NAF1993", "NAF93", "NAP", "NAF2003", "NAF03")

# What the label says when INSEE gives an old revision's code.
_OLD_NAF_LABEL = re.compile(
    r"ANCIENNE\s+REVISION|NON\s+SUPPORTEE|NAF\s*(?:19)?93|NAF\s*REV\.?\s*1\b|\bNAP\b"
)

ESTABLISHMENT_BAND = "établissement"
COMPANY_BAND = "entreprise"


def normalise_naf(code: str) -> str:
    """A NAF code as `NN.NNX` (accepts `8411Z` and `84.11Z`); unknown shapes are kept as given."""
    text = code.strip().upper()
    match = _NAF.fullmatch(text)
    return f"{match[1]}.{match[2]}{match[3]}" if match else text


def is_old_naf(activity: dict) -> bool:
    """Whether an `activite_principale` object holds a code of a NAF revision before rév. 2,
    told by its nomenclature, its label or the shape of its code."""
    nomenclature = activity.get("nomenclature")
    if isinstance(nomenclature, str):
        name = re.sub(r"[^0-9A-Z]", "", folded(nomenclature))
        if name.startswith(_OLD_NOMENCLATURES):
            return True
    label = activity.get("libelle")
    if isinstance(label, str) and _OLD_NAF_LABEL.search(folded(label)):
        return True
    code = activity.get("code")
    return isinstance(code, str) and bool(_OLD_NAF_CODE.fullmatch(code.strip().upper()))


def read_activity(reader: Reader, data: dict, unite_legale: dict) -> tuple[str, str]:
    """(code_naf, libelle_naf): the établissement's activity, else the company's. An old
    revision's activity leaves both empty, and the établissement's is not replaced by the
    company's (which would be shown as the établissement's)."""
    own = as_dict(data.get("activite_principale"))
    company = as_dict(unite_legale.get("activite_principale"))
    if is_old_naf(own):
        own, company = {}, {}
    elif is_old_naf(company):
        company = {}
    code = reader.pick("code_naf", own.get("code"), company.get("code"))
    label = reader.pick("libelle_naf", own.get("libelle"), company.get("libelle"))
    return (normalise_naf(code) if code else ""), label


def read_headcount(reader: Reader, data: dict, unite_legale: dict) -> str:
    """The headcount band, saying whose it is: `10 à 19 salariés (établissement)`, or for an
    open head office without its own band, `20 à 49 salariés (entreprise)`; else empty."""
    own = reader.pick(
        "tranche_effectif", as_dict(data.get("tranche_effectif_salarie")).get("intitule")
    )
    if own:
        return f"{own} ({ESTABLISHMENT_BAND})"
    open_head_office = data.get("siege_social") is True and data.get("etat_administratif") != "F"
    if not open_head_office or "tranche_effectif" in reader.masked:
        return ""
    company = reader.pick(
        "tranche_effectif", as_dict(unite_legale.get("tranche_effectif_salarie")).get("intitule")
    )
    return f"{company} ({COMPANY_BAND})" if company else ""


__all__ = [
    "COMPANY_BAND",
    "ESTABLISHMENT_BAND",
    "is_old_naf",
    "normalise_naf",
    "read_activity",
    "read_headcount",
]
