"""An établissement's address (`data.adresse` of the INSEE payload) as the form's address fields.

French addresses keep their postcode and commune (without the arrondissement of Paris, Lyon and
Marseille). A foreign address has no French postcode: INSEE often writes the foreign postcode
inside the commune label (`60528 FRANKFURT AM MAIN`), which is split here; a foreign address may
have no commune at all. `distribution_speciale` (`BP 4087`) joins the address complement.
"""

from __future__ import annotations

import re

from portail.core.countries import country_name
from portail.core.masking import NOT_DIFFUSED, Reader

# Only these three cities publish arrondissements in the commune label ("PARIS 12",
# "LYON 3EME", "MARSEILLE 8"); other labels may hold digits that belong to the name.
_ARRONDISSEMENT = re.compile(
    r"(PARIS|LYON|MARSEILLE)\s+[0-9]{1,2}\s*(?:ER|E|EME|ÈME)?(?:\s+ARRONDISSEMENT)?",
    re.IGNORECASE,
)

# A foreign postcode: digits, maybe grouped (`00-950`, `1200-195`), maybe after the country's
# letters (`D-60528`, `CH-1201`, `L-1234`).
_POSTCODE = r"(?:[A-Z]{1,3}-)?(?:[0-9]{3,6}|[0-9]{2,5}-[0-9]{3,4})"
_POSTCODE_FIRST = re.compile(rf"({_POSTCODE})\s+([^0-9].*)", re.IGNORECASE)
_POSTCODE_LAST = re.compile(r"([^0-9].*?)\s+([0-9]{4,6})")
# Dutch postcodes end with two letters (`1012 AB AMSTERDAM`). Only for the Netherlands: in
# Belgium `1310 LA HULPE` is postcode 1310 and the commune LA HULPE.
_DUTCH_POSTCODE_FIRST = re.compile(r"([0-9]{4})\s?([A-Z]{2})\s+(.+)", re.IGNORECASE)
_NETHERLANDS = {"PAYS-BAS", "PAYS BAS", "NETHERLANDS", "NEDERLAND", "HOLLANDE"}

# Joins the complement and the special distribution (`BATIMENT B, BP 4087`).
COMPLEMENT_SEPARATOR = ", "


def commune_without_arrondissement(label: str) -> str:
    """Drop the arrondissement: `PARIS 12` -> `PARIS`, `LYON 3EME` -> `LYON`; others untouched."""
    text = label.strip()
    match = _ARRONDISSEMENT.fullmatch(text)
    return match[1] if match else text


def split_foreign_commune(label: str, country: str = "") -> tuple[str, str]:
    """(postcode, commune) of a foreign commune label: `60528 FRANKFURT AM MAIN` ->
    (`60528`, `FRANKFURT AM MAIN`), `NEW YORK 10001` -> (`10001`, `NEW YORK`), in the
    Netherlands `1012 AB AMSTERDAM` -> (`1012 AB`, `AMSTERDAM`); a label without a postcode
    gives ("", label)."""
    text = " ".join(label.split())
    if " ".join(country.upper().split()) in _NETHERLANDS:
        match = _DUTCH_POSTCODE_FIRST.fullmatch(text)
        if match:
            return f"{match[1]} {match[2].upper()}", match[3]
    match = _POSTCODE_FIRST.fullmatch(text)
    if match and re.search(r"[^\W\d_]", match[2]):
        return match[1].upper(), match[2]
    match = _POSTCODE_LAST.fullmatch(text)
    if match and re.search(r"[^\W\d_]", match[1]):
        return match[2], match[1]
    return "", text


def _complement(reader: Reader, adresse: dict) -> str:
    """The complement, then the special distribution (`BP 4087`) unless already in it."""
    complement = adresse.get("complement_adresse")
    distribution = adresse.get("distribution_speciale")
    if (
        isinstance(complement, str)
        and isinstance(distribution, str)
        and distribution.strip()
        and distribution.strip() != NOT_DIFFUSED
        and distribution.strip().upper() in complement.upper()
    ):
        distribution = None
    return reader.join("adresse_complement", complement, distribution, sep=COMPLEMENT_SEPARATOR)


def _country_code(reader: Reader, adresse: dict) -> str | None:
    """INSEE's code of the foreign country (`99404`), unless its label was withheld."""
    code = adresse.get("code_pays_etranger")
    if "pays" in reader.masked or not isinstance(code, str):
        return None
    return code.strip()


def read_address(reader: Reader, adresse: dict) -> dict[str, str]:
    """The address fields (number, street, complement, postcode, commune, country) of adresse."""
    values: dict[str, str] = {}
    indice = adresse.get("indice_repetition_voie")
    if isinstance(indice, str) and indice.strip() != NOT_DIFFUSED:
        indice = indice.lower()  # "BIS" or "bis" -> "22 bis"
    values["adresse_numero"] = reader.join("adresse_numero", adresse.get("numero_voie"), indice)
    values["adresse_voie"] = reader.join(
        "adresse_voie", adresse.get("type_voie"), adresse.get("libelle_voie")
    )
    values["adresse_complement"] = _complement(reader, adresse)
    foreign_country = reader.pick("pays", adresse.get("libelle_pays_etranger"))
    foreign_commune = reader.pick("commune", adresse.get("libelle_commune_etranger"))
    if foreign_country or foreign_commune:
        postcode, commune = split_foreign_commune(foreign_commune, foreign_country)
        # INSEE sometimes gives the foreign postcode in its own field (Monaco: 98000).
        values["code_postal"] = postcode or reader.pick("code_postal", adresse.get("code_postal"))
        values["commune"] = commune or commune_without_arrondissement(
            reader.pick("commune", adresse.get("libelle_commune"))
        )
        values["pays"] = country_name(foreign_country, _country_code(reader, adresse))
    else:
        values["code_postal"] = reader.pick("code_postal", adresse.get("code_postal"))
        values["commune"] = commune_without_arrondissement(
            reader.pick("commune", adresse.get("libelle_commune"))
        )
        values["pays"] = "" if "pays" in reader.masked else "France"
    return values


__all__ = [
    "COMPLEMENT_SEPARATOR",
    "commune_without_arrondissement",
    "read_address",
    "split_foreign_commune",
]
