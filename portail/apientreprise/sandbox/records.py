"""The 200 bodies: records from the data files, with the API's behaviour applied in code.

On diffusibles routes a partially diffusible entity's protected values become "[ND]"; the
open data association route leaves out the protected lists; attestation dates are counted
from today.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

from portail.apientreprise.sandbox.data import (
    ASSOCIATIONS,
    ASSOCIATIONS_UPDATED,
    ATTESTATIONS,
    CEASED_SIRENS,
    ETABLISSEMENTS,
    ETABLISSEMENTS_UPDATED,
    REDIRECTS,
)
from portail.apientreprise.sandbox.pdf import one_page_pdf
from portail.core.api_urls import SANDBOX_URL

DOCUMENTS_PREFIX = "/documents/"

PERSON_KEYS = (
    "pseudonyme",
    "prenom_usuel",
    "prenom_1",
    "prenom_2",
    "prenom_3",
    "prenom_4",
    "nom_usage",
    "nom_naissance",
    "sexe",
)


# Protected on diffusibles routes for a partially diffusible entity (API Entreprise docs):
# a person's names, pseudonym and sex; anyone's street number, street, complement, postcode,
# cedex and postal lines. Commune, country, activity, legal form, state, headcount stay public.
PROTECTED_ADDRESS_KEYS = (
    "numero_voie",
    "indice_repetition_voie",
    "type_voie",
    "libelle_voie",
    "complement_adresse",
    "code_postal",
    "distribution_speciale",
    "code_cedex",
    "libelle_cedex",
)


PROTECTED_ONLY_ASSOCIATION_KEYS = ("reseaux_affiliation", "documents_rna")


PROTECTED_ONLY_ASSOCIATION_ETABLISSEMENT_KEYS = ("representants_legaux", "documents_dac")


def _withhold(mapping: dict, keys: tuple[str, ...] | list[str]) -> None:
    for key in keys:
        if mapping.get(key) is not None:
            mapping[key] = "[ND]"


def _diffusible_view(data: dict) -> dict:
    """What the open data route shows of an établissement: protected values become "[ND]"."""
    data = copy.deepcopy(data)
    unite_legale = data["unite_legale"]
    if "partiellement_diffusible" not in (
        data["status_diffusion"],
        unite_legale["status_diffusion"],
    ):
        return data
    if unite_legale["type"] == "personne_physique":
        _withhold(unite_legale["personne_physique_attributs"], PERSON_KEYS)
    adresse = data["adresse"]
    _withhold(adresse, PROTECTED_ADDRESS_KEYS)
    postal = adresse["acheminement_postal"]
    _withhold(postal, sorted(postal))
    return data


def etablissement_payload(siret: str, *, protected: bool) -> dict | None:
    """The 200 body of an INSEE établissement route for siret, or None if unknown."""
    answered = REDIRECTS.get(siret, siret)
    record = ETABLISSEMENTS.get(answered)
    if record is None:
        return None
    data = copy.deepcopy(record) if protected else _diffusible_view(record)
    siren = answered[:9]
    unite_legale_path = "unites_legales" if protected else "unites_legales/diffusibles"
    return {
        "data": data,
        "links": {"unite_legale": f"{SANDBOX_URL}/v4/insee/sirene/{unite_legale_path}/{siren}"},
        "meta": {
            "date_derniere_mise_a_jour": ETABLISSEMENTS_UPDATED,
            "redirect_from_siret": siret if answered != siret else None,
        },
    }


def association_payload(siren_or_rna: str, *, protected: bool) -> dict | None:
    """The 200 body of a DJEPVA association route, or None if no association has that id."""
    record = ASSOCIATIONS.get(siren_or_rna.upper())
    if record is None:
        return None
    data = copy.deepcopy(record)
    if not protected:
        for key in PROTECTED_ONLY_ASSOCIATION_KEYS:
            del data[key]
        for etablissement in data["etablissements"]:
            for key in PROTECTED_ONLY_ASSOCIATION_ETABLISSEMENT_KEYS:
                del etablissement[key]
    return {
        "data": data,
        "links": {},
        "meta": {
            "internal_id": f"sandbox-{record['rna']}",
            "date_derniere_mise_a_jour_sirene": ASSOCIATIONS_UPDATED["sirene"],
            "date_derniere_mise_a_jour_rna": ASSOCIATIONS_UPDATED["rna"],
        },
    }


def document_url(kind: str, siren: str, base_url: str = SANDBOX_URL) -> str:
    """Where the sandbox serves an attestation's PDF (`kind`: fiscale or vigilance)."""
    return f"{base_url}{DOCUMENTS_PREFIX}attestation_{kind}_{siren}.pdf"


def attestation_fiscale_payload(siren: str, today: date, base_url: str = SANDBOX_URL) -> dict:
    """The DGFIP attestation: delivered today, for the period ending last month."""
    facts = ATTESTATIONS["attestation_fiscale"]
    end_of_last_month = today.replace(day=1) - timedelta(days=1)
    return {
        "data": {
            "document_url": document_url("fiscale", siren, base_url),
            "document_url_expires_in": facts["document_url_expires_in"],
            "date_delivrance_attestation": (
                today - timedelta(days=facts["delivered_days_ago"])
            ).isoformat(),
            "date_periode_analysee": end_of_last_month.isoformat(),
        },
        "links": {},
        "meta": {},
    }


def attestation_vigilance_payload(siren: str, today: date, base_url: str = SANDBOX_URL) -> dict:
    """The URSSAF attestation: refused for a ceased company, else valid from today."""
    facts = ATTESTATIONS["attestation_vigilance"]
    if siren in CEASED_SIRENS:
        data = {
            "entity_status": dict(facts["refused"]["entity_status"]),
            "date_debut_validite": None,
            "date_fin_validite": None,
            "code_securite": None,
            "document_url": None,
            "document_url_expires_in": None,
        }
    else:
        delivered = facts["delivered"]
        start = today - timedelta(days=delivered["valid_from_days_ago"])
        data = {
            "entity_status": dict(delivered["entity_status"]),
            "date_debut_validite": start.isoformat(),
            "date_fin_validite": (start + timedelta(days=delivered["valid_for_days"])).isoformat(),
            "code_securite": f"{delivered['code_securite_prefix']}{siren}",
            "document_url": document_url("vigilance", siren, base_url),
            "document_url_expires_in": delivered["document_url_expires_in"],
        }
    return {"data": data, "links": {}, "meta": {}}


def company_name(siren: str) -> str | None:
    """The name of the unité légale behind a SIREN (a person: NAME First name), or None."""
    for siret, record in ETABLISSEMENTS.items():
        if siret[:9] != siren:
            continue
        unite_legale = record["unite_legale"]
        if unite_legale["type"] == "personne_morale":
            return unite_legale["personne_morale_attributs"]["raison_sociale"]
        person = unite_legale["personne_physique_attributs"]
        names = (person["nom_usage"] or person["nom_naissance"], person["prenom_usuel"])
        return " ".join(name for name in names if name) or None
    return None


def _french(day: str | None) -> str:
    return f"{day[8:10]}/{day[5:7]}/{day[:4]}" if day else "non précisée"


def attestation_document(kind: str, siren: str, today: date) -> bytes | None:
    """The PDF behind an attestation's document_url, with the same facts as its answer;
    None when the answer gives no document (unknown company, vigilance refused)."""
    name = company_name(siren)
    if name is None:
        return None
    texts = ATTESTATIONS["documents"]
    if kind == "fiscale":
        data = attestation_fiscale_payload(siren, today)["data"]
        facts = [
            f"Date de délivrance : {_french(data['date_delivrance_attestation'])}",
            f"Situation au : {_french(data['date_periode_analysee'])}",
        ]
    else:
        data = attestation_vigilance_payload(siren, today)["data"]
        if data["document_url"] is None:
            return None
        facts = [
            f"Valable du {_french(data['date_debut_validite'])} "
            f"au {_french(data['date_fin_validite'])}",
            f"Code de sécurité : {data['code_securite']}",
        ]
    document = texts[f"attestation_{kind}"]
    lines = [
        f"Délivrée par : {document['issuer']}",
        f"Entreprise : {name}",
        f"SIREN : {siren[:3]} {siren[3:6]} {siren[6:]}",
        *facts,
        "",
        texts["notice"],
    ]
    return one_page_pdf(document["title"], lines, created=today, producer=texts["producer"])
