"""The company search (`GET /search`) of the State's Recherche d'entreprises, answered offline.

Like the real service: non-diffusible entities never appear, but partially diffusible ones
do, with `statut_diffusion` / `statut_diffusion_etablissement` "P" and their withheld values
(a sole trader's name, the address, the postcode, the coordinates) as "[NON-DIFFUSIBLE]",
diffusible ones with "O". The portal, not this sandbox, must keep them out of its results.
`q` needs 3 characters; results are legal units with their head office (`siege`) and the
establishments that matched (`matching_etablissements`), filtered by `code_postal` (a
comma-separated list) when given. Every word of `q` must be found in the visible name,
acronym, trade name or commune (accents and case ignored).
"""

from __future__ import annotations

import unicodedata

from portail.apientreprise.sandbox.answers import SandboxAnswer, answer
from portail.apientreprise.sandbox.data import ETABLISSEMENTS

PER_PAGE_MAX = 25
DIFFUSIBLE = "diffusible"
NON_DIFFUSIBLE = "non_diffusible"
WITHHELD = "[NON-DIFFUSIBLE]"  # the search's marker (API Entreprise's is "[ND]")


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _name(unite_legale: dict) -> str:
    if unite_legale.get("type") == "personne_physique":
        person = unite_legale["personne_physique_attributs"]
        parts = (person.get("nom_usage") or person.get("nom_naissance"), person.get("prenom_usuel"))
        return " ".join(part for part in parts if part)
    return unite_legale["personne_morale_attributs"].get("raison_sociale") or ""


def _address(address: dict) -> str:
    parts = (
        address.get("complement_adresse"),
        address.get("numero_voie"),
        address.get("indice_repetition_voie"),
        address.get("type_voie"),
        address.get("libelle_voie"),
        address.get("code_postal"),
        address.get("libelle_commune"),
    )
    return " ".join(str(part) for part in parts if part)


def _public(record: dict) -> bool:
    """Fully diffusible: the établissement and its unit."""
    return (
        record["status_diffusion"] == DIFFUSIBLE
        and record["unite_legale"]["status_diffusion"] == DIFFUSIBLE
    )


def _etablissement(record: dict) -> dict:
    address = record.get("adresse") or {}
    activity = record.get("activite_principale") or {}
    public = _public(record)
    return {
        "siret": record["siret"],
        "adresse": _address(address) if public else WITHHELD,
        "code_postal": address.get("code_postal") if public else WITHHELD,
        "commune": address.get("code_commune"),
        "libelle_commune": address.get("libelle_commune"),
        "latitude": "45.75" if public else WITHHELD,
        "longitude": "4.85" if public else WITHHELD,
        "activite_principale": activity.get("code"),
        "libelle_activite_principale": activity.get("libelle"),
        "etat_administratif": record["etat_administratif"],
        "est_siege": record["siege_social"],
        "nom_commercial": record.get("enseigne"),
        "statut_diffusion_etablissement": "O" if public else "P",
    }


def _listed(record: dict) -> bool:
    """Returned by the search at all: everything but the non-diffusible."""
    return NON_DIFFUSIBLE not in (
        record["status_diffusion"],
        record["unite_legale"]["status_diffusion"],
    )


def _visible_name(unite_legale: dict) -> str:
    """The name the search shows: a partially diffusible sole trader's is withheld."""
    if (
        unite_legale["status_diffusion"] != DIFFUSIBLE
        and unite_legale.get("type") == "personne_physique"
    ):
        return WITHHELD
    return _name(unite_legale)


def _matches(record: dict, words: list[str], postcodes: set[str]) -> bool:
    address = record.get("adresse") or {}
    if postcodes and address.get("code_postal") not in postcodes:
        return False
    unite_legale = record["unite_legale"]
    attributes = unite_legale.get("personne_morale_attributs") or {}
    haystack = _folded(
        " ".join(
            str(part)
            for part in (
                _visible_name(unite_legale).replace(WITHHELD, ""),
                attributes.get("sigle"),
                record.get("enseigne"),
                address.get("libelle_commune"),
            )
            if part
        )
    )
    return all(word in haystack for word in words)


def search(query: dict[str, str]) -> SandboxAnswer:
    """The answer of GET /search for these parameters."""
    q = " ".join((query.get("q") or "").split())
    if len(q) < 3:
        return answer(400, {"erreur": "Veuillez indiquer au moins 3 caractères."})
    words = _folded(q).split()
    postcodes = {code.strip() for code in (query.get("code_postal") or "").split(",") if code}
    units: dict[str, dict] = {}
    for record in ETABLISSEMENTS.values():
        if not _listed(record) or not _matches(record, words, postcodes):
            continue
        unite_legale = record["unite_legale"]
        siren = unite_legale["siren"]
        if siren not in units:
            head = ETABLISSEMENTS.get(unite_legale.get("siret_siege_social") or "")
            attributes = unite_legale.get("personne_morale_attributs") or {}
            units[siren] = {
                "siren": siren,
                "nom_complet": _visible_name(unite_legale),
                "nom_raison_sociale": attributes.get("raison_sociale"),
                "statut_diffusion": "O" if unite_legale["status_diffusion"] == DIFFUSIBLE else "P",
                "sigle": attributes.get("sigle"),
                "activite_principale": (unite_legale.get("activite_principale") or {}).get("code"),
                "etat_administratif": unite_legale["etat_administratif"],
                "siege": _etablissement(head) if head and _listed(head) else None,
                "matching_etablissements": [],
            }
        units[siren]["matching_etablissements"].append(_etablissement(record))
    results = list(units.values())
    per_page = min(PER_PAGE_MAX, max(1, int(query.get("per_page") or 10)))
    return answer(
        200,
        {
            "results": results[:per_page],
            "total_results": len(results),
            "page": 1,
            "per_page": per_page,
            "total_pages": max(1, -(-len(results) // per_page)),
        },
    )
