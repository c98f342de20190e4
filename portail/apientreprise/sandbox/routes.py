"""The routes the sandbox serves, the scopes that open each, and their identifier rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from portail.apientreprise.sandbox.data import ASSOCIATIONS


@dataclass(frozen=True)
class Route:
    name: str
    pattern: re.Pattern
    scopes: tuple[str, ...]
    identifier: str  # "siret", "siren", "siren_or_rna", "" (privileges)
    provider: str  # suffix of the provider's error names in errors.json
    cached: bool = False  # routes documenting X-Response-Cached / X-Cache-Expires-in


ROUTES: tuple[Route, ...] = (
    Route(
        "etablissement_diffusible",
        re.compile(r"/v4/insee/sirene/etablissements/diffusibles/([^/]+)"),
        ("open_data", "etablissements", "entreprises"),
        "siret",
        "insee",
    ),
    Route(
        "etablissement",
        re.compile(r"/v4/insee/sirene/etablissements/([^/]+)"),
        ("unites_legales_etablissements_insee", "etablissements", "entreprises"),
        "siret",
        "insee",
    ),
    Route(
        "association_open_data",
        re.compile(r"/v4/djepva/api-association/associations/open_data/([^/]+)"),
        ("open_data", "associations"),
        "siren_or_rna",
        "djepva",
    ),
    Route(
        "association",
        re.compile(r"/v4/djepva/api-association/associations/([^/]+)"),
        ("associations_djepva", "associations_donnees_protegees"),
        "siren_or_rna",
        "djepva",
        cached=True,
    ),
    Route(
        "attestation_fiscale",
        re.compile(r"/v4/dgfip/unites_legales/([^/]+)/attestation_fiscale"),
        ("attestation_fiscale_dgfip", "attestations_fiscales"),
        "siren",
        "dgfip",
        cached=True,
    ),
    Route(
        "attestation_vigilance",
        re.compile(r"/v4/urssaf/unites_legales/([^/]+)/attestation_vigilance"),
        ("attestation_sociale_urssaf", "attestations_sociales"),
        "siren",
        "acoss",
        cached=True,
    ),
    Route("privileges", re.compile(r"/privileges"), (), "", ""),
)


def route_for(path: str) -> tuple[Route | None, str]:
    """The route serving path, and the identifier in it ("" for /privileges)."""
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match:
            return route, (match.group(1) if match.groups() else "")
    return None, ""


def is_siret(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{14}", value)) and stdnum_siret.is_valid(value)


def is_siren(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{9}", value)) and stdnum_siren.is_valid(value)


def identifier_is_valid(route: Route, identifier: str) -> bool:
    if route.identifier == "siret":
        return is_siret(identifier)
    if route.identifier == "siren":
        return is_siren(identifier)
    return is_siren(identifier) or bool(re.fullmatch(r"W[0-9A-Z]{9}", identifier.upper()))


def target_siren(route: Route, identifier: str) -> str | None:
    """The SIREN a call is about (for 00211 and error personas), None for an RNA number."""
    if route.identifier == "siret":
        return identifier[:9]
    if route.identifier == "siren" or is_siren(identifier):
        return identifier
    record = ASSOCIATIONS.get(identifier.upper())
    return record["siren"] if record else None
