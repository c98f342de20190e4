"""Turn API Entreprise payloads into a `Tiers`: the values that prefill the deposit form.

One function reads the établissement payload of both INSEE routes (open data `diffusibles` and
protected): the caller decides which route a person may see. Values the API withholds come back
as the string "[ND]" on the open data route; such a value never reaches a field: the field stays
empty and its name is listed in `masked_fields`. The address is read by `core.address`, the
activity and headcount band by `core.activity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from portail.core.activity import normalise_naf, read_activity, read_headcount
from portail.core.address import commune_without_arrondissement, read_address
from portail.core.countries import capitalise_words, country_label, country_name
from portail.core.masking import NOT_DIFFUSED, Reader
from portail.core.masking import as_dict as _dict
from portail.core.paris_time import PARIS

# The contract's form field names (design/contract.md), in display order.
TIERS_FIELDS: tuple[str, ...] = (
    "siret",
    "raison_sociale",
    "sigle",
    "enseigne",
    "forme_juridique",
    "code_naf",
    "libelle_naf",
    "tranche_effectif",
    "date_creation",
    "siege_social",
    "siret_siege",
    "etat_administratif",
    "adresse_numero",
    "adresse_voie",
    "adresse_complement",
    "code_postal",
    "commune",
    "pays",
    "rna",
    "objet_association",
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_SIRET = re.compile(r"[0-9]{14}")


_SIREN = re.compile(r"[0-9]{9}")


class BadPayload(ValueError):
    """The API answered 200 with a body the portal cannot read (missing or mistyped data)."""


@dataclass
class Tiers:
    """The applicant organisation as the form shows it; every form value is a string."""

    siret: str = ""
    raison_sociale: str = ""
    sigle: str = ""
    enseigne: str = ""
    forme_juridique: str = ""
    code_naf: str = ""
    libelle_naf: str = ""
    tranche_effectif: str = ""
    date_creation: str = ""
    siege_social: str = ""
    siret_siege: str = ""
    etat_administratif: str = ""
    adresse_numero: str = ""
    adresse_voie: str = ""
    adresse_complement: str = ""
    code_postal: str = ""
    commune: str = ""
    pays: str = ""
    rna: str = ""
    objet_association: str = ""
    # Facts beyond the form fields.
    siren: str = ""
    redirected_from: str = ""
    closed_on: str = ""
    company_ceased: bool = False
    partially_diffusible: bool = False
    masked_fields: tuple[str, ...] = field(default_factory=tuple)
    is_association: bool = False
    dissolved_on: str = ""  # YYYY-MM-DD an association was dissolved (RNA, else Sirene)

    def form_values(self) -> dict[str, str]:
        """The contract form fields and their values, in display order."""
        return {name: getattr(self, name) for name in TIERS_FIELDS}


def _timestamp(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def paris_date(timestamp: int) -> str:
    """The Europe/Paris calendar date (YYYY-MM-DD) of a Unix timestamp in seconds."""
    # Adding a timedelta works for dates before 1970, where fromtimestamp fails on Windows.
    moment = _EPOCH + timedelta(seconds=timestamp)
    return moment.astimezone(PARIS).date().isoformat()


def first_name_label(label: str) -> str:
    """A first name as INSEE writes it (`JEAN-BAPTISTE`) capitalised (`Jean-Baptiste`)."""
    return capitalise_words(label, keep_minor_words=False)


def _person_name(reader: Reader, person: dict) -> str:
    """ "NOM Prénom" for a natural person; masked as a whole if either part is withheld."""
    nom = reader.pick("raison_sociale", person.get("nom_usage"), person.get("nom_naissance"))
    prenom = reader.pick("raison_sociale", person.get("prenom_usuel"), person.get("prenom_1"))
    if "raison_sociale" in reader.masked:
        return ""
    return " ".join(part for part in (nom.upper(), first_name_label(prenom)) if part)


def _essentials(payload: object) -> tuple[dict, dict, dict, dict, str]:
    """The data, unite_legale, adresse and meta objects and the answered SIRET, or BadPayload."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise BadPayload("the payload has no `data` object")
    data = payload["data"]
    siret = data.get("siret")
    if not isinstance(siret, str) or not _SIRET.fullmatch(siret):
        raise BadPayload("`data.siret` is missing or is not 14 digits")
    unite_legale = data.get("unite_legale")
    if not isinstance(unite_legale, dict):
        raise BadPayload("`data.unite_legale` is missing or is not an object")
    siren = unite_legale.get("siren")
    if not isinstance(siren, str) or not _SIREN.fullmatch(siren):
        raise BadPayload("`data.unite_legale.siren` is missing or is not 9 digits")
    if siret[:9] != siren:
        raise BadPayload("`data.siret` does not belong to `data.unite_legale.siren`")
    adresse = data.get("adresse")
    if not isinstance(adresse, dict):
        raise BadPayload("`data.adresse` is missing or is not an object")
    return data, unite_legale, adresse, _dict(payload.get("meta")), siret


def tiers_from_etablissement(payload: dict, asked_siret: str) -> Tiers:
    """Map an INSEE établissement payload (v4, either route) to a Tiers, or raise BadPayload."""
    data, unite_legale, adresse, meta, siret = _essentials(payload)
    reader = Reader()
    values: dict[str, str] = {"siret": siret}

    attributes_pm = _dict(unite_legale.get("personne_morale_attributs"))
    attributes_pp = _dict(unite_legale.get("personne_physique_attributs"))
    company_name = reader.pick("raison_sociale", attributes_pm.get("raison_sociale"))
    if unite_legale.get("type") == "personne_physique" or (
        not company_name and "raison_sociale" not in reader.masked
    ):
        company_name = _person_name(reader, attributes_pp)
    values["raison_sociale"] = company_name
    values["sigle"] = reader.pick("sigle", attributes_pm.get("sigle"))
    values["enseigne"] = reader.pick("enseigne", data.get("enseigne"))
    forme = _dict(unite_legale.get("forme_juridique"))
    values["forme_juridique"] = reader.pick("forme_juridique", forme.get("libelle"))

    values["code_naf"], values["libelle_naf"] = read_activity(reader, data, unite_legale)
    values["tranche_effectif"] = read_headcount(reader, data, unite_legale)
    created = _timestamp(data.get("date_creation"))
    if created is None:
        created = _timestamp(unite_legale.get("date_creation"))
    values["date_creation"] = paris_date(created) if created is not None else ""

    siege = data.get("siege_social")
    values["siege_social"] = ("oui" if siege else "non") if isinstance(siege, bool) else ""
    siret_siege = reader.pick("siret_siege", unite_legale.get("siret_siege_social"))
    values["siret_siege"] = siret_siege if _SIRET.fullmatch(siret_siege) else ""
    state = data.get("etat_administratif")
    values["etat_administratif"] = {"A": "actif", "F": "fermé"}.get(state, "")
    closed = _timestamp(data.get("date_fermeture"))
    closed_on = paris_date(closed) if state == "F" and closed is not None else ""

    values.update(read_address(reader, adresse))

    values["rna"] = reader.pick("rna", unite_legale.get("rna"))
    values["objet_association"] = ""

    # Belt and braces: whatever the path, a value containing the marker is withheld.
    for name, value in values.items():
        if NOT_DIFFUSED.lower() in value.lower():
            values[name] = ""
            reader.mask(name)

    redirect = meta.get("redirect_from_siret")
    asked = re.sub(r"\D", "", asked_siret or "")
    if isinstance(redirect, str) and _SIRET.fullmatch(redirect) and redirect != siret:
        redirected_from = redirect
    elif asked and asked != siret:
        redirected_from = asked
    else:
        redirected_from = ""

    statuses = {
        data.get("status_diffusion"),
        unite_legale.get("status_diffusion"),
        adresse.get("status_diffusion"),
    }
    partially = bool(statuses & {"partiellement_diffusible", "non_diffusible"}) or bool(
        reader.masked
    )
    return Tiers(
        **values,
        siren=unite_legale["siren"],
        redirected_from=redirected_from,
        closed_on=closed_on,
        company_ceased=unite_legale.get("etat_administratif") == "C",
        partially_diffusible=partially,
        masked_fields=tuple(name for name in TIERS_FIELDS if name in reader.masked),
        is_association=bool(values["rna"]) or str(forme.get("code") or "").startswith("92"),
    )


def add_association(tiers: Tiers, payload: dict) -> Tiers:
    """A copy of tiers completed from an association payload (DJEPVA, open data or protected):
    RNA number, purpose (`activites.objet`), and the name or legal form where still empty."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise BadPayload("the association payload has no `data` object")
    data = payload["data"]
    siren = data.get("siren")
    if isinstance(siren, str) and _SIREN.fullmatch(siren) and tiers.siren and siren != tiers.siren:
        raise BadPayload("the association payload is about another SIREN")
    reader = Reader()
    rna = reader.pick("rna", data.get("rna"))
    objet = reader.pick("objet_association", _dict(data.get("activites")).get("objet"))
    name = reader.pick("raison_sociale", data.get("nom"))
    forme = reader.pick("forme_juridique", _dict(data.get("forme_juridique")).get("libelle"))
    changes: dict[str, object] = {"is_association": True}
    dissolved = data.get("date_dissolution")
    if isinstance(dissolved, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", dissolved):
        changes["dissolved_on"] = dissolved
    if rna and not tiers.rna:
        changes["rna"] = rna
    if objet:
        changes["objet_association"] = objet
    if name and not tiers.raison_sociale and "raison_sociale" not in tiers.masked_fields:
        changes["raison_sociale"] = name
    if forme and not tiers.forme_juridique:
        changes["forme_juridique"] = forme
    for name_, value in changes.items():
        if isinstance(value, str) and NOT_DIFFUSED.lower() in value.lower():
            changes[name_] = ""
            reader.mask(name_)
    masked = set(tiers.masked_fields) | {
        name_ for name_ in reader.masked if not changes.get(name_) and not getattr(tiers, name_)
    }
    changes["masked_fields"] = tuple(name_ for name_ in TIERS_FIELDS if name_ in masked)
    return replace(tiers, **changes)


__all__ = [
    "NOT_DIFFUSED",
    "TIERS_FIELDS",
    "BadPayload",
    "Tiers",
    "add_association",
    "commune_without_arrondissement",
    "country_label",
    "country_name",
    "first_name_label",
    "normalise_naf",
    "paris_date",
    "tiers_from_etablissement",
]
