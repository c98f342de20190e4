"""The built-in fictitious API Entreprise: same v4 routes, shapes, status codes and error bodies.

Every organisation here is invented (SIRENs chosen in ranges unlikely to be allocated, except
La Poste's SIREN which the La Poste checksum rule needs). The sandbox serves three ways:

- in process, through `portail.api_transport.SandboxTransport` for `SANDBOX_URL` (no socket,
  no deadlock);
- as a WSGI application (`make_wsgi_app`);
- on loopback, in a thread (`LoopbackSandbox`) or from the command line:
  `python -m portail.sandbox --port 8001`.

Error bodies reuse the titles and details of the official OpenAPI examples; 00210/00211 and the
empty 429 come from recorded answers (see shared/api-entreprise/examples/errors_not_in_openapi).
"""

from __future__ import annotations

import argparse
import copy
import http
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from socketserver import ThreadingMixIn
from urllib.parse import parse_qsl, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from portail.core.api_urls import SANDBOX_URL
from portail.core.tokens import NotAJwt, decode_claims, mint_token

RATE_LIMIT = 250  # requests per token per minute on JSON routes, like the real API


WINDOW_SECONDS = 60


SLOW_DELAY = 8.0  # past the 5 s client timeout the docs recommend for JSON routes


PERSONA_RETRY_AFTER = 10  # seconds; short so that a demo click does not freeze the demo long


BLACKLISTED_SUBJECT = "blacklisted"  # a token whose `sub` is this is answered 00105


# The fictitious authority using the demo: commune SIRENs start with 21 + département, and
# département 99 does not exist, so this SIREN cannot be a real commune's.
DEMO_RECIPIENT_SIRET = "21999001700010"


# Current scope names: open data (prefill), protected établissement, protected association,
# and both attestations.
DEMO_SCOPES: tuple[str, ...] = (
    "open_data",
    "unites_legales_etablissements_insee",
    "associations_djepva",
    "attestation_fiscale_dgfip",
    "attestation_sociale_urssaf",
)


# Replaceable in tests (rate-limit windows, token expiry): seconds since the epoch.
clock: Callable[[], float] = time.time


_JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Persona:
    """A SIRET to type in the demo, what it is, and what the portal then shows (French)."""

    siret: str
    label: str
    shows: str
    kind: str  # "ok" | "error"


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "99912340900016",
        "Siège d'une SAS",
        "Tous les champs se remplissent ; l'établissement est le siège. Le numéro de voie "
        "« 22 bis » est complet et la commune « PARIS 12 » devient « PARIS ».",
        "ok",
    ),
    Persona(
        "99912340900024",
        "Établissement secondaire de la même SAS",
        "Le formulaire indique « siège : non » et donne le SIRET du siège ; la commune "
        "« LYON 3EME » devient « LYON ».",
        "ok",
    ),
    Persona(
        "99923451100023",
        "Établissement fermé",
        "L'établissement est signalé fermé depuis le 30 juin 2023 ; l'entreprise reste active.",
        "ok",
    ),
    Persona(
        "99934562200016",
        "Entreprise cessée",
        "L'entreprise a cessé son activité ; son unique établissement est fermé depuis le "
        "31 décembre 2022.",
        "ok",
    ),
    Persona(
        "99945673400014",
        "Entrepreneuse individuelle",
        "Le nom s'affiche sous la forme « BERTRAND Élodie » ; aucune tranche d'effectif "
        "n'est publiée.",
        "ok",
    ),
    Persona(
        "99956784500014",
        "Entrepreneur individuel en diffusion partielle",
        "Le nom et l'adresse (sauf la commune) ne sont pas publics : ces champs restent vides, "
        "à compléter par vous ; l'activité, la forme juridique et la commune se remplissent.",
        "ok",
    ),
    Persona(
        "89967895700015",
        "Association déclarée",
        "Le numéro RNA et l'objet de l'association se remplissent en plus des données de "
        "l'établissement ; la commune « MARSEILLE 8 » devient « MARSEILLE ».",
        "ok",
    ),
    Persona(
        "99978906800023",
        "Établissement à l'étranger",
        "L'adresse est au Royaume-Uni : commune « LONDRES », pays « Royaume-Uni », "
        "pas de code postal.",
        "ok",
    ),
    Persona(
        "35600000040011",
        "Bureau de La Poste",
        "Ce SIRET suit la règle propre à La Poste (somme des chiffres multiple de 5) : il est "
        "accepté bien qu'il ne respecte pas la clé de Luhn.",
        "ok",
    ),
    Persona(
        "99989017100013",
        "Établissement transféré",
        "L'API répond avec le SIRET du nouvel établissement (99989017100021) : c'est lui qui "
        "s'affiche, avec la mention du transfert.",
        "ok",
    ),
    Persona(
        "89912349100016",
        "Entité jamais publiée (451)",
        "L'INSEE ne diffuse aucune donnée sur cette entité : rien n'est pré-rempli, vous "
        "saisissez les informations vous-même.",
        "error",
    ),
    Persona(
        "89923450400012",
        "SIRET inconnu (404)",
        "Le numéro est valide mais inconnu : le portail vous invite à le vérifier ou à "
        "saisir les informations vous-même.",
        "error",
    ),
    Persona(
        "89934561500012",
        "Jeton refusé (401)",
        "L'API refuse le jeton d'accès : le pré-remplissage est indisponible et "
        "l'administrateur est alerté ; le dépôt reste possible.",
        "error",
    ),
    Persona(
        "89945672700010",
        "Droits insuffisants (403)",
        "Le jeton n'ouvre pas ce service : le pré-remplissage est indisponible et "
        "l'administrateur est alerté ; le dépôt reste possible.",
        "error",
    ),
    Persona(
        "89956783800011",
        "Trop de requêtes (429)",
        "L'API demande de patienter (en-tête Retry-After) : le portail suspend ses appels "
        "pendant ce délai et vous propose la saisie manuelle. Pendant une dizaine de "
        "secondes, toute recherche, quel que soit le SIRET, reçoit ce même message : c'est "
        "voulu, car ignorer un 429 ferait bannir le serveur pendant 12 heures.",
        "error",
    ),
    Persona(
        "89967804900011",
        "Trop de requêtes, réponse vide (429)",
        "Même situation, avec une réponse sans contenu, comme l'environnement de recette "
        "de l'API : le portail réagit de la même façon.",
        "error",
    ),
    Persona(
        "89978915000013",
        "Fournisseur de données en erreur (502)",
        "Le service de l'INSEE répond mal : le pré-remplissage est momentanément "
        "indisponible, vous pouvez saisir les informations vous-même.",
        "error",
    ),
    Persona(
        "89989026300010",
        "Fournisseur de données injoignable (504)",
        "Le service de l'INSEE ne répond pas à temps : le pré-remplissage est momentanément "
        "indisponible, vous pouvez saisir les informations vous-même.",
        "error",
    ),
    Persona(
        "89901238900016",
        "Réponse très lente",
        "L'API met 8 secondes à répondre ; le portail n'attend pas plus de 5 secondes et "
        "vous propose la saisie manuelle.",
        "error",
    ),
)


# Error personas by SIREN, so that every route (INSEE, association, attestations) agrees.
_ERROR_PERSONAS: dict[str, str] = {
    "899123491": "451",
    "899345615": "401",
    "899456727": "403",
    "899567838": "429",
    "899678049": "429_empty",
    "899789150": "502",
    "899890263": "504",
}


_SLOW_SIRENS = frozenset({"899012389"})


_PERSON_KEYS = (
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


_NO_HEADCOUNT = {"code": None, "intitule": None, "date_reference": None, "de": None, "a": None}


_UPDATED = 1759701600  # 2025-10-06, last update of every record


def _naf(code: str, libelle: str) -> dict:
    return {"code": code, "libelle": libelle, "nomenclature": "NAFRev2"}


def _headcount(code: str, intitule: str, de: int | None, a: int | None) -> dict:
    return {"code": code, "intitule": intitule, "date_reference": "2023", "de": de, "a": a}


def _unite_legale(
    siren: str,
    *,
    siret_siege: str,
    naf: dict,
    headcount: dict,
    created: int,
    forme: tuple[str, str],
    raison_sociale: str | None = None,
    sigle: str | None = None,
    person: dict | None = None,
    categorie: str | None = "PME",
    diffusion: str = "diffusible",
    etat: str = "A",
    ess: bool | None = False,
    rna: str | None = None,
) -> dict:
    person = person or {}
    return {
        "siren": siren,
        "rna": rna,
        "siret_siege_social": siret_siege,
        "type": "personne_physique" if person else "personne_morale",
        "personne_morale_attributs": {"raison_sociale": raison_sociale, "sigle": sigle},
        "personne_physique_attributs": {key: person.get(key) for key in _PERSON_KEYS},
        "categorie_entreprise": categorie,
        "status_diffusion": diffusion,
        "diffusable_commercialement": diffusion == "diffusible",
        "forme_juridique": {"code": forme[0], "libelle": forme[1]},
        "activite_principale": dict(naf),
        "tranche_effectif_salarie": dict(headcount),
        "etat_administratif": etat,
        "economie_sociale_et_solidaire": ess,
        "date_creation": created,
        # Like staging, the sandbox gives the same NAF rev. 2 code in both objects.
        "activite_principale_naf_rev2": dict(naf),
    }


def _adresse(
    *,
    name_line: str,
    numero: str | None,
    type_voie: str | None,
    libelle_voie: str,
    code_postal: str | None,
    commune: str | None,
    code_commune: str | None,
    indice: str | None = None,
    complement: str | None = None,
    diffusion: str = "diffusible",
    foreign: tuple[str, str, str] | None = None,  # (commune, country code, country)
) -> dict:
    street = " ".join(p for p in (numero, (indice or "").upper(), type_voie, libelle_voie) if p)
    if foreign:
        town_line, country_line = foreign[0], foreign[2]
    else:
        town = re.sub(r"\s+[0-9].*$", "", commune or "")  # La Poste writes "75012 PARIS"
        town_line, country_line = f"{code_postal} {town}", "FRANCE"
    return {
        "numero_voie": numero,
        "indice_repetition_voie": indice,
        "type_voie": type_voie,
        "libelle_voie": libelle_voie,
        "complement_adresse": complement,
        "code_commune": code_commune,
        "code_postal": code_postal,
        "distribution_speciale": None,
        "code_cedex": None,
        "libelle_cedex": None,
        "libelle_commune": commune,
        "libelle_commune_etranger": foreign[0] if foreign else None,
        "code_pays_etranger": foreign[1] if foreign else None,
        "libelle_pays_etranger": foreign[2] if foreign else None,
        "status_diffusion": diffusion,
        "acheminement_postal": {
            "l1": name_line,
            "l2": "",
            "l3": complement or "",
            "l4": street,
            "l5": "",
            "l6": town_line,
            "l7": country_line,
        },
    }


def _etablissement(
    siret: str,
    unite_legale: dict,
    adresse: dict,
    *,
    created: int,
    naf: dict | None = None,
    headcount: dict | None = None,
    enseigne: str | None = None,
    closed: int | None = None,
) -> dict:
    diffusion = unite_legale["status_diffusion"]
    naf = naf or unite_legale["activite_principale"]
    return {
        "siret": siret,
        "siege_social": siret == unite_legale["siret_siege_social"],
        "etat_administratif": "F" if closed else "A",
        "date_fermeture": closed,
        "activite_principale": dict(naf),
        "tranche_effectif_salarie": dict(headcount or unite_legale["tranche_effectif_salarie"]),
        "status_diffusion": diffusion,
        "diffusable_commercialement": diffusion == "diffusible",
        "enseigne": enseigne,
        "unite_legale": unite_legale,
        "adresse": adresse,
        "date_creation": created,
        "activite_principale_naf_rev2": dict(naf),
    }


def _build_etablissements() -> dict[str, dict]:
    """Every établissement the sandbox knows, by SIRET, with full (protected) values."""
    records: list[dict] = []

    # A SAS: head office in Paris 12 (street number with index), secondary office in Lyon 3.
    sas = _unite_legale(
        "999123409",
        siret_siege="99912340900016",
        raison_sociale="ATELIERS DU VAL FLEURI",
        sigle="AVF",
        forme=("5710", "SAS, société par actions simplifiée"),
        naf=_naf("25.62B", "Mécanique industrielle"),
        headcount=_headcount("12", "20 à 49 salariés", 20, 49),
        created=1456786800,  # 2016-03-01
    )
    records.append(
        _etablissement(
            "99912340900016",
            sas,
            _adresse(
                name_line="ATELIERS DU VAL FLEURI",
                numero="22",
                indice="bis",
                type_voie="RUE",
                libelle_voie="DES CHARRONS",
                complement="BATIMENT B",
                code_postal="75012",
                commune="PARIS 12",
                code_commune="75112",
            ),
            created=1456786800,
            enseigne="VAL FLEURI",
            headcount=_headcount("11", "10 à 19 salariés", 10, 19),
        )
    )
    records.append(
        _etablissement(
            "99912340900024",
            sas,
            _adresse(
                name_line="ATELIERS DU VAL FLEURI",
                numero="145",
                type_voie="AVENUE",
                libelle_voie="DES SOIERIES",
                code_postal="69003",
                commune="LYON 3EME",
                code_commune="69383",
            ),
            created=1567375200,  # 2019-09-02
            enseigne="VAL FLEURI LYON",
            headcount=_headcount("03", "6 à 9 salariés", 6, 9),
        )
    )

    # A bakery SARL whose second shop closed; NAF in the undotted form.
    bakery = _unite_legale(
        "999234511",
        siret_siege="99923451100015",
        raison_sociale="BOULANGERIE DES QUATRE VENTS",
        forme=("5499", "Société à responsabilité limitée (sans autre indication)"),
        naf=_naf("1071C", "Boulangerie et boulangerie-pâtisserie"),
        headcount=_headcount("01", "1 ou 2 salariés", 1, 2),
        created=1239746400,  # 2009-04-15
    )
    records.append(
        _etablissement(
            "99923451100015",
            bakery,
            _adresse(
                name_line="BOULANGERIE DES QUATRE VENTS",
                numero="3",
                type_voie="PLACE",
                libelle_voie="DU MARCHE",
                code_postal="35000",
                commune="RENNES",
                code_commune="35238",
            ),
            created=1239746400,
        )
    )
    records.append(
        _etablissement(
            "99923451100023",
            bakery,
            _adresse(
                name_line="BOULANGERIE DES QUATRE VENTS",
                numero="41",
                type_voie="RUE",
                libelle_voie="DES MOULINS",
                code_postal="35200",
                commune="RENNES",
                code_commune="35238",
            ),
            created=1317592800,  # 2011-10-03
            enseigne="AUX QUATRE VENTS",
            headcount=_NO_HEADCOUNT,
            closed=1688076000,  # 2023-06-30
        )
    )

    # A ceased company: legal unit "C", its only establishment closed.
    ceased = _unite_legale(
        "999345622",
        siret_siege="99934562200016",
        raison_sociale="TRANSPORTS MERIDIENNE",
        forme=("5499", "Société à responsabilité limitée (sans autre indication)"),
        naf=_naf("49.41A", "Transports routiers de fret interurbains"),
        headcount=_headcount("00", "0 salarié", 0, 0),
        created=1531087200,  # 2018-07-09
        etat="C",
    )
    records.append(
        _etablissement(
            "99934562200016",
            ceased,
            _adresse(
                name_line="TRANSPORTS MERIDIENNE",
                numero="8",
                type_voie="ROUTE",
                libelle_voie="DE NARBONNE",
                code_postal="31400",
                commune="TOULOUSE",
                code_commune="31555",
            ),
            created=1531087200,
            closed=1672441200,  # 2022-12-31
        )
    )

    # An individual entrepreneur, public: usage name wins over birth name; no headcount.
    elodie = {
        "prenom_usuel": "ÉLODIE",
        "prenom_1": "ÉLODIE",
        "prenom_2": "MARIE",
        "nom_usage": "BERTRAND",
        "nom_naissance": "MARCHETTI",
        "sexe": "F",
    }
    hairdresser = _unite_legale(
        "999456734",
        siret_siege="99945673400014",
        person=elodie,
        forme=("1000", "Entrepreneur individuel"),
        naf=_naf("9602A", "Coiffure"),
        headcount=_NO_HEADCOUNT,
        created=1610319600,  # 2021-01-11
    )
    records.append(
        _etablissement(
            "99945673400014",
            hairdresser,
            _adresse(
                name_line="BERTRAND ÉLODIE",
                numero="5",
                type_voie="RUE",
                libelle_voie="DES ECOLES",
                code_postal="33000",
                commune="BORDEAUX",
                code_commune="33063",
            ),
            created=1610319600,
            enseigne="SALON ÉLODIE",
        )
    )

    # An individual entrepreneur in partial diffusion: names and street are protected.
    jean_baptiste = {
        "prenom_usuel": "JEAN-BAPTISTE",
        "prenom_1": "JEAN-BAPTISTE",
        "prenom_2": "LOUIS",
        "nom_naissance": "LEROUX",
        "sexe": "M",
    }
    designer = _unite_legale(
        "999567845",
        siret_siege="99956784500014",
        person=jean_baptiste,
        forme=("1000", "Entrepreneur individuel"),
        naf=_naf("74.10Z", "Activités spécialisées de design"),
        headcount=_headcount("NN", "Unités non employeuses", None, None),
        created=1391382000,  # 2014-02-03
        diffusion="partiellement_diffusible",
        ess=None,
    )
    records.append(
        _etablissement(
            "99956784500014",
            designer,
            _adresse(
                name_line="LEROUX JEAN-BAPTISTE",
                numero="7",
                indice="ter",
                type_voie="CHEMIN",
                libelle_voie="DES VIGNES",
                complement="LIEU-DIT LES CROZES",
                code_postal="26400",
                commune="CREST",
                code_commune="26108",
                diffusion="partiellement_diffusible",
            ),
            created=1391382000,
        )
    )

    # A declared association (form 9220) with an RNA number, head office in Marseille 8.
    association = _unite_legale(
        "899678957",
        siret_siege="89967895700015",
        raison_sociale="ASSOCIATION DES JARDINS PARTAGES DU CANAL",
        sigle="AJPC",
        forme=("9220", "Association déclarée"),
        naf=_naf("94.99Z", "Autres organisations fonctionnant par adhésion volontaire"),
        headcount=_headcount("01", "1 ou 2 salariés", 1, 2),
        created=1336946400,  # 2012-05-14
        categorie=None,
        ess=True,
        rna="W999000417",
    )
    records.append(
        _etablissement(
            "89967895700015",
            association,
            _adresse(
                name_line="ASSOCIATION DES JARDINS PARTAGES DU CANAL",
                numero="12",
                type_voie="BOULEVARD",
                libelle_voie="DES JARDINIERS",
                code_postal="13008",
                commune="MARSEILLE 8",
                code_commune="13208",
            ),
            created=1336946400,
        )
    )

    # A publisher in Brest with an establishment in London (foreign address, no postcode).
    publisher = _unite_legale(
        "999789068",
        siret_siege="99978906800015",
        raison_sociale="EDITIONS DU PHARE BLEU",
        forme=("5710", "SAS, société par actions simplifiée"),
        naf=_naf("5811Z", "Édition de livres"),
        headcount=_headcount("02", "3 à 5 salariés", 3, 5),
        created=1119218400,  # 2005-06-20
    )
    records.append(
        _etablissement(
            "99978906800015",
            publisher,
            _adresse(
                name_line="EDITIONS DU PHARE BLEU",
                numero="18",
                type_voie="QUAI",
                libelle_voie="DE LA DOUANE",
                code_postal="29200",
                commune="BREST",
                code_commune="29019",
            ),
            created=1119218400,
        )
    )
    records.append(
        _etablissement(
            "99978906800023",
            publisher,
            _adresse(
                name_line="EDITIONS DU PHARE BLEU",
                numero="14",
                type_voie=None,
                libelle_voie="KINGSWAY GARDENS",
                code_postal=None,
                commune=None,
                code_commune=None,
                foreign=("LONDRES", "99132", "ROYAUME-UNI"),
            ),
            created=1495404000,  # 2017-05-22
            headcount=_NO_HEADCOUNT,
        )
    )

    # La Poste (SIREN 356000000): its SIRETs follow a digit-sum rule, not Luhn.
    la_poste = _unite_legale(
        "356000000",
        siret_siege="35600000040007",
        raison_sociale="LA POSTE",
        forme=("5599", "SA à conseil d'administration (s.a.i.)"),
        naf=_naf(
            "53.10Z", "Activités de poste dans le cadre d'une obligation de service universel"
        ),
        headcount=_headcount("53", "10 000 salariés et plus", 10000, None),
        created=662684400,  # 1991-01-01
        categorie="GE",
    )
    records.append(
        _etablissement(
            "35600000040011",
            la_poste,
            _adresse(
                name_line="LA POSTE",
                numero="1",
                type_voie="PLACE",
                libelle_voie="DE LA MAIRIE",
                code_postal="87000",
                commune="LIMOGES",
                code_commune="87085",
            ),
            created=1262559600,  # 2010-01-04
            enseigne="BUREAU DE POSTE LIMOGES MAIRIE",
            headcount=_headcount("11", "10 à 19 salariés", 10, 19),
        )
    )

    # A joinery that moved: its old SIRET (99989017100013) redirects to the new one.
    joinery = _unite_legale(
        "999890171",
        siret_siege="99989017100021",
        raison_sociale="MENUISERIE DES TROIS CHENES",
        forme=("5499", "Société à responsabilité limitée (sans autre indication)"),
        naf=_naf("16.23Z", "Fabrication de charpentes et d'autres menuiseries"),
        headcount=_headcount("02", "3 à 5 salariés", 3, 5),
        created=1377986400,  # 2013-09-01
    )
    records.append(
        _etablissement(
            "99989017100021",
            joinery,
            _adresse(
                name_line="MENUISERIE DES TROIS CHENES",
                numero="9",
                type_voie="RUE",
                libelle_voie="DES ARTISANS",
                code_postal="49000",
                commune="ANGERS",
                code_commune="49007",
            ),
            created=1707087600,  # 2024-02-05
        )
    )

    # The slow persona: a normal company whose answer takes 8 seconds.
    sawmill = _unite_legale(
        "899012389",
        siret_siege="89901238900016",
        raison_sociale="SCIERIE DU HAUT PLATEAU",
        forme=("5499", "Société à responsabilité limitée (sans autre indication)"),
        naf=_naf("16.10A", "Sciage et rabotage du bois, hors imprégnation"),
        headcount=_headcount("03", "6 à 9 salariés", 6, 9),
        created=1605481200,  # 2020-11-16
    )
    records.append(
        _etablissement(
            "89901238900016",
            sawmill,
            _adresse(
                name_line="SCIERIE DU HAUT PLATEAU",
                numero="2",
                type_voie="CHEMIN",
                libelle_voie="DE LA SCIERIE",
                code_postal="39220",
                commune="LES ROUSSES",
                code_commune="39470",
            ),
            created=1605481200,
        )
    )
    return {record["siret"]: record for record in records}


def _association_address(numero: str, type_voie: str, voie: str, cp: str, commune: str) -> dict:
    return {
        "complement": None,
        "numero_voie": numero,
        "type_voie": type_voie,
        "libelle_voie": voie,
        "distribution": None,
        "code_insee": "13208",
        "code_postal": cp,
        "commune": commune,
    }


def _build_associations() -> dict[str, dict]:
    """Association records (protected shape), by SIREN and by RNA number."""
    address = _association_address("12", "boulevard", "des Jardiniers", "13008", "Marseille")
    record = {
        "rna": "W999000417",
        "ancien_id": None,
        "siren": "899678957",
        "nom": "ASSOCIATION DES JARDINS PARTAGES DU CANAL",
        "active": True,
        "sigle": "AJPC",
        "reconnue_utilite_publique": False,
        "siret_siege": "89967895700015",
        "forme_juridique": {"code": "9220", "libelle": "Association déclarée"},
        "regime": "Loi 1901",
        "groupement": "Simple",
        "eligibilite_cec": True,
        "raison_non_eligibilite_cec": None,
        "impots_commerciaux": False,
        "date_creation": "2012-05-14",
        "date_dissolution": None,
        "date_publication_reconnue_utilite_publique": None,
        "date_publication_journal_officiel": "2012-06-02",
        "adresse_siege": address,
        "adresse_gestion": dict(address),
        "alsace_moselle": {
            "tribunal_instance": None,
            "volume": None,
            "folio": None,
            "date_publication_registre_association": None,
        },
        "composition_reseau": [],
        "agrements": [],
        "activites": {
            "objet": "Créer et animer des jardins partagés ouverts aux habitants du quartier, "
            "favoriser l'entraide entre voisins et sensibiliser au jardinage écologique.",
            "objet_social1": {"code": "011055", "libelle": "jardins partagés, jardins familiaux"},
            "objet_social2": {"code": None, "libelle": None},
            "champ_action_territorial": "local",
            "activite_principale": {
                "code": "94.99Z",
                "libelle": "Autres organisations fonctionnant par adhésion volontaire",
                "annee": "2012",
            },
            "tranche_effectif": {"code": "01", "libelle": "1 ou 2 salariés", "annee": "2023"},
            "economie_sociale_et_solidaire": True,
            "date_appartenance_ess": "2015-01-01",
        },
        "etablissements": [
            {
                "siren": "899678957",
                "siret": "89967895700015",
                "actif": True,
                "siege": True,
                "nom": "ASSOCIATION DES JARDINS PARTAGES DU CANAL",
                "telephone": None,
                "courriel": None,
                "date_debut_activite": "2012-05-14",
                "adresse": dict(address),
                "activite_principale": {
                    "code": "94.99Z",
                    "libelle": "Autres organisations fonctionnant par adhésion volontaire",
                },
                "tranche_effectif": {"code": "01", "libelle": "1 ou 2 salariés"},
                "representants_legaux": [
                    {
                        "civilite": "Madame",
                        "nom": "FONTAINE",
                        "prenom": "CLAIRE",
                        "fonction": "Présidente",
                        "valideur_cec": True,
                        "publication_internet": False,
                        "telephone": None,
                        "courriel": None,
                    }
                ],
                "rhs": [
                    {
                        "annee": "2024",
                        "nombre_benevoles": 24,
                        "nombre_volontaires": 1,
                        "nombre_salaries": 2,
                        "nombre_salaries_etpt": 1.5,
                        "nombre_emplois_aides": 0,
                        "nombre_personnels_detaches": 0,
                        "nombre_adherents": {"hommes": 61, "femmes": 77, "total": 138},
                    }
                ],
                "comptes": [
                    {
                        "annee": "2024",
                        "commisaire_aux_comptes": False,
                        "montant_dons": 1850.0,
                        "cause_subventions": "Fonctionnement",
                        "montant_subventions": 6000.0,
                        "montant_aides_sur_3ans": 15500.0,
                        "total_charges": 41200.0,
                        "total_resultat": 950.0,
                        "total_produits": 42150.0,
                    }
                ],
                "documents_dac": [],
            }
        ],
        "reseaux_affiliation": [],
        "documents_rna": [],
    }
    return {record["siren"]: record, record["rna"]: record}


_ETABLISSEMENTS: dict[str, dict] = _build_etablissements()


_REDIRECTS: dict[str, str] = {"99989017100013": "99989017100021"}


_ASSOCIATIONS: dict[str, dict] = _build_associations()


_KNOWN_SIRENS = frozenset(record["siret"][:9] for record in _ETABLISSEMENTS.values())


_CEASED_SIRENS = frozenset(
    r["siret"][:9]
    for r in _ETABLISSEMENTS.values()
    if r["unite_legale"]["etat_administratif"] == "C"
)


# Protected on diffusibles routes for a partially diffusible entity (API Entreprise docs):
# a person's names, pseudonym and sex; anyone's street number, street, complement, postcode,
# cedex and postal lines. Commune, country, activity, legal form, state, headcount stay public.
_PROTECTED_ADDRESS_KEYS = (
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


_PROTECTED_ONLY_ASSOCIATION_KEYS = ("reseaux_affiliation", "documents_rna")


_PROTECTED_ONLY_ASSOCIATION_ETABLISSEMENT_KEYS = ("representants_legaux", "documents_dac")


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
        _withhold(unite_legale["personne_physique_attributs"], _PERSON_KEYS)
    adresse = data["adresse"]
    _withhold(adresse, _PROTECTED_ADDRESS_KEYS)
    postal = adresse["acheminement_postal"]
    _withhold(postal, sorted(postal))
    return data


def etablissement_payload(siret: str, *, protected: bool) -> dict | None:
    """The 200 body of an INSEE établissement route for siret, or None if unknown."""
    answered = _REDIRECTS.get(siret, siret)
    record = _ETABLISSEMENTS.get(answered)
    if record is None:
        return None
    data = copy.deepcopy(record) if protected else _diffusible_view(record)
    siren = answered[:9]
    unite_legale_path = "unites_legales" if protected else "unites_legales/diffusibles"
    return {
        "data": data,
        "links": {"unite_legale": f"{SANDBOX_URL}/v4/insee/sirene/{unite_legale_path}/{siren}"},
        "meta": {
            "date_derniere_mise_a_jour": _UPDATED,
            "redirect_from_siret": siret if answered != siret else None,
        },
    }


def association_payload(siren_or_rna: str, *, protected: bool) -> dict | None:
    """The 200 body of a DJEPVA association route, or None if no association has that id."""
    record = _ASSOCIATIONS.get(siren_or_rna.upper())
    if record is None:
        return None
    data = copy.deepcopy(record)
    if not protected:
        for key in _PROTECTED_ONLY_ASSOCIATION_KEYS:
            del data[key]
        for etablissement in data["etablissements"]:
            for key in _PROTECTED_ONLY_ASSOCIATION_ETABLISSEMENT_KEYS:
                del etablissement[key]
    return {
        "data": data,
        "links": {},
        "meta": {
            "internal_id": f"sandbox-{record['rna']}",
            "date_derniere_mise_a_jour_sirene": "2025-10-06",
            "date_derniere_mise_a_jour_rna": "2025-09-15",
        },
    }


def _attestation_fiscale(siren: str) -> dict:
    today = date.today()
    end_of_last_month = today.replace(day=1) - timedelta(days=1)
    return {
        "data": {
            "document_url": f"{SANDBOX_URL}/documents/attestation_fiscale_{siren}.pdf",
            "document_url_expires_in": 86400,
            "date_delivrance_attestation": today.isoformat(),
            "date_periode_analysee": end_of_last_month.isoformat(),
        },
        "links": {},
        "meta": {},
    }


def _attestation_vigilance(siren: str) -> dict:
    if siren in _CEASED_SIRENS:
        data = {
            "entity_status": {
                "code": "refus_de_delivrance",
                "libelle": "Attestation refusée par l'Urssaf",
                "description": "La délivrance de l'attestation de vigilance a été refusée par "
                "l'Urssaf.",
            },
            "date_debut_validite": None,
            "date_fin_validite": None,
            "code_securite": None,
            "document_url": None,
            "document_url_expires_in": None,
        }
    else:
        today = date.today()
        data = {
            "entity_status": {
                "code": "ok",
                "libelle": "Attestation délivrée par l'Urssaf",
                "description": "L'attestation de vigilance a été délivrée par l'Urssaf.",
            },
            "date_debut_validite": today.isoformat(),
            "date_fin_validite": (today + timedelta(days=182)).isoformat(),
            "code_securite": f"SBX{siren}",
            "document_url": f"{SANDBOX_URL}/documents/attestation_vigilance_{siren}.pdf",
            "document_url_expires_in": 86400,
        }
    return {"data": data, "links": {}, "meta": {}}


@dataclass(frozen=True)
class _Route:
    name: str
    pattern: re.Pattern
    scopes: tuple[str, ...]
    identifier: str  # "siret", "siren", "siren_or_rna", "" (privileges)
    provider: str  # key of _PROVIDERS
    cached: bool = False  # routes documenting X-Response-Cached / X-Cache-Expires-in


_ROUTES: tuple[_Route, ...] = (
    _Route(
        "etablissement_diffusible",
        re.compile(r"/v4/insee/sirene/etablissements/diffusibles/([^/]+)"),
        ("open_data", "etablissements", "entreprises"),
        "siret",
        "insee",
    ),
    _Route(
        "etablissement",
        re.compile(r"/v4/insee/sirene/etablissements/([^/]+)"),
        ("unites_legales_etablissements_insee", "etablissements", "entreprises"),
        "siret",
        "insee",
    ),
    _Route(
        "association_open_data",
        re.compile(r"/v4/djepva/api-association/associations/open_data/([^/]+)"),
        ("open_data", "associations"),
        "siren_or_rna",
        "djepva",
    ),
    _Route(
        "association",
        re.compile(r"/v4/djepva/api-association/associations/([^/]+)"),
        ("associations_djepva", "associations_donnees_protegees"),
        "siren_or_rna",
        "djepva",
        cached=True,
    ),
    _Route(
        "attestation_fiscale",
        re.compile(r"/v4/dgfip/unites_legales/([^/]+)/attestation_fiscale"),
        ("attestation_fiscale_dgfip", "attestations_fiscales"),
        "siren",
        "dgfip",
        cached=True,
    ),
    _Route(
        "attestation_vigilance",
        re.compile(r"/v4/urssaf/unites_legales/([^/]+)/attestation_vigilance"),
        ("attestation_sociale_urssaf", "attestations_sociales"),
        "siren",
        "acoss",
        cached=True,
    ),
    _Route("privileges", re.compile(r"/privileges"), (), "", ""),
)


# Per data provider: (404 code, 502 code, provider name in meta), from the spec's examples.
_PROVIDERS = {
    "insee": ("01003", "01999", "INSEE"),
    "djepva": ("29003", "29999", "DJEPVA"),
    "dgfip": ("03003", "03999", "DGFIP - Adélie"),
    "acoss": ("04003", "04999", "ACOSS"),
}


_TOKEN_SOURCE = {"parameter": "token"}


_NOT_FOUND_DETAIL = (
    "Le ou les paramètre(s) d'entrée n'existent pas, ne sont pas connus, ou ne comportent "
    "aucune information pour cet appel. Veuillez vérifier que votre recherche est couverte par "
    "le périmètre de l'API."
)


_UNPROCESSABLE = "Entité non traitable"


def _error(code: str, title: str, detail: str, source: dict | None = None, **meta) -> dict:
    """One API Entreprise error object, in the documented key order."""
    return {"code": code, "title": title, "detail": detail, "source": source, "meta": meta}


_INVALID_TOKEN = _error(
    "00101", "Interdit", "Votre token n'est pas valide ou n'est pas renseigné", _TOKEN_SOURCE
)


_EXPIRED_TOKEN = _error(
    "00103", "Jeton expiré", "Votre token est expiré. Vous devez refaire une demande", _TOKEN_SOURCE
)


_BLACKLISTED_TOKEN = _error(
    "00105",
    "Jeton sur liste noire",
    "Votre jeton est sur liste noire, celui-ci a certainement été divulgué sur un canal "
    "non-sécurisé. Vous pouvez trouver un jeton valide sur votre espace personnel: "
    "https://entreprise.api.gouv.fr/compte",
    _TOKEN_SOURCE,
)


_INSUFFICIENT_PRIVILEGES = _error(
    "00100",
    "Privilèges insuffisants",
    "Votre token est valide mais vos privilèges sont insuffisants. Listez vos privilèges sur "
    "/v2/privileges",
    _TOKEN_SOURCE,
)


# The spec maps 00201 to context, 00202 to object and 00203 to recipient.
_MISSING_PARAMS = {
    "context": _error(
        "00201", _UNPROCESSABLE, "Le paramètre context est obligatoire", {"parameter": "context"}
    ),
    "object": _error(
        "00202", _UNPROCESSABLE, "Le paramètre object est obligatoire", {"parameter": "object"}
    ),
    "recipient": _error(
        "00203",
        _UNPROCESSABLE,
        "Le paramètre recipient est obligatoire",
        {"parameter": "recipient"},
    ),
}


_RECIPIENT_NOT_SIRET = _error(
    "00210",
    _UNPROCESSABLE,
    "Le paramètre recipient n'est pas un siret valide",
    {"parameter": "recipient"},
)


_RECIPIENT_IS_TARGET = _error(
    "00211",
    "Le paramètre recipient est identique au SIRET/SIREN appelé.",
    "Le paramètre recipient est identique au SIRET/SIREN appelé, or ce paramètre de traçabilité "
    "doit correspondre au SIRET de l'organisation publique habilitée à utiliser la donnée. Si "
    "vous êtes une collectivité ou une administration, ce paramètre doit donc être votre numéro "
    "de SIRET ; si vous êtes un éditeur, il s'agit du SIRET de l'organisation publique cliente "
    "demandant la donnée.",
    {"parameter": "recipient"},
)


_BAD_IDENTIFIER = {
    "siret": _error(
        "00302",
        _UNPROCESSABLE,
        "Le numéro de siret n'est pas correctement formatté",
        {"parameter": "siret"},
    ),
    "siren": _error(
        "00301",
        _UNPROCESSABLE,
        "Le numéro de siren n'est pas correctement formatté",
        {"parameter": "siren"},
    ),
    "siren_or_rna": _error(
        "00333",
        _UNPROCESSABLE,
        "Le numéro de siren ou le numéro d'association indiqué n'est pas correctement formatté",
        {"parameter": "id"},
    ),
}


_TOO_MANY_REQUESTS = _error("00429", "Trop de requêtes", "Vous avez effectué trop de requêtes")


_NETWORK_ERROR = _error(
    "00501",
    "Erreur réseau",
    "Problème de connexion au serveur distant. L'erreur peut venir soit du fournisseur, soit de "
    "API Entreprise. Il s'agit souvent d'une erreur temporaire.",
    retry_in=10,
)


# The spec declares 451 (with the Error schema) but gives no example: code and wording are
# the sandbox's own. Clients match on the status first.
_UNAVAILABLE_FOR_LEGAL_REASONS = _error(
    "01451",
    "Entité non diffusable",
    "Les données de cette entité ne sont pas diffusées par l'INSEE : elle n'a jamais été "
    "rendue publique.",
    provider="INSEE",
)


def _not_found(route: _Route) -> dict:
    code, _, provider = _PROVIDERS[route.provider]
    return _error(code, "Entité non trouvée", _NOT_FOUND_DETAIL, provider=provider)


def _provider_error(route: _Route) -> dict:
    _, code, provider = _PROVIDERS[route.provider]
    return _error(
        code,
        "Erreur inconnue du fournisseur de données",
        "La réponse retournée par le fournisseur de données est invalide et inconnue de notre "
        "service. L'équipe technique a été notifiée de cette erreur pour investigation.",
        provider=provider,
    )


class _RateLimiter:
    """Fixed one-minute windows per token, shared by every thread of the process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}

    def hit(self, token: str, now: float) -> tuple[bool, int, int]:
        """Count one request; returns (allowed, remaining, reset epoch seconds)."""
        window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(token, 0) + 1
            self._counts[token] = count
        return count <= self.limit, max(0, self.limit - count), window + WINDOW_SECONDS

    def reset(self) -> None:
        """Forget every count (tests)."""
        with self._lock:
            self._window, self._counts = 0, {}


_LIMITER = _RateLimiter(RATE_LIMIT)


def reset_rate_limits() -> None:
    """Forget all per-token request counts, as if a new minute had started."""
    _LIMITER.reset()


@dataclass
class SandboxAnswer:
    """What the sandbox answers: status, headers, raw body, and how long the API would take."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0


def _answer(
    status: int,
    body: dict | bytes,
    extra_headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> SandboxAnswer:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": _JSON, "X-Request-ID": str(uuid.uuid4())}
    headers.update(extra_headers or {})
    return SandboxAnswer(status, headers, raw, delay)


def _errors(status: int, *errors: dict, headers: dict[str, str] | None = None) -> SandboxAnswer:
    return _answer(status, {"errors": list(errors)}, headers)


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _is_siret(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{14}", value)) and stdnum_siret.is_valid(value)


def _is_siren(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{9}", value)) and stdnum_siren.is_valid(value)


def _target_siren(route: _Route, identifier: str) -> str | None:
    """The SIREN a call is about (for 00211 and error personas), None for an RNA number."""
    if route.identifier == "siret":
        return identifier[:9]
    if route.identifier == "siren" or _is_siren(identifier):
        return identifier
    record = _ASSOCIATIONS.get(identifier.upper())
    return record["siren"] if record else None


def _identifier_is_valid(route: _Route, identifier: str) -> bool:
    if route.identifier == "siret":
        return _is_siret(identifier)
    if route.identifier == "siren":
        return _is_siren(identifier)
    return _is_siren(identifier) or bool(re.fullmatch(r"W[0-9A-Z]{9}", identifier.upper()))


def _persona_error(kind: str, route: _Route, now: float) -> SandboxAnswer:
    retry = {
        "RateLimit-Limit": str(RATE_LIMIT),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(int(now) + PERSONA_RETRY_AFTER),
        "Retry-After": str(PERSONA_RETRY_AFTER),
    }
    if kind == "451" and route.provider == "insee":
        # Listed by the spec on the protected route only; the sandbox also answers it on the
        # open data route so that the demo form can show the case.
        return _errors(451, _UNAVAILABLE_FOR_LEGAL_REASONS)
    if kind == "401":
        return _errors(401, _INVALID_TOKEN)
    if kind == "403":
        return _errors(403, _INSUFFICIENT_PRIVILEGES)
    if kind == "429":
        return _errors(429, _TOO_MANY_REQUESTS, headers=retry)
    if kind == "429_empty":
        return _answer(429, b"", retry)  # as recorded on staging: empty body
    if kind == "502":
        return _errors(502, _provider_error(route))
    if kind == "504":
        return _errors(504, _NETWORK_ERROR)
    return _errors(404, _not_found(route))


def _route_for(path: str) -> tuple[_Route | None, str]:
    for route in _ROUTES:
        match = route.pattern.fullmatch(path)
        if match:
            return route, (match.group(1) if match.groups() else "")
    return None, ""


def handle(method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> SandboxAnswer:
    """Answer one request to the fictitious API Entreprise, like the real one would."""
    now = clock()
    headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    query = query or {}
    route, identifier = _route_for(urlsplit(path).path.rstrip("/") or "/")
    if route is None:
        return _errors(
            404,
            _error("00404", "Route inconnue", "Cette route n'existe pas dans le bac à sable."),
        )
    if method.upper() not in ("GET", "HEAD"):
        return _errors(
            405,
            _error("00405", "Méthode non autorisée", "Seule la méthode GET est acceptée."),
            headers={"Allow": "GET"},
        )

    token = _bearer(headers)
    limit_headers: dict[str, str] = {}
    if token is not None:
        allowed, remaining, reset = _LIMITER.hit(token, now)
        limit_headers = {
            "RateLimit-Limit": str(RATE_LIMIT),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
        }
        if not allowed:
            retry_after = str(max(1, math.ceil(reset - now)))
            return _errors(
                429, _TOO_MANY_REQUESTS, headers={**limit_headers, "Retry-After": retry_after}
            )
    if token is None:
        return _errors(401, _INVALID_TOKEN)
    try:
        claims = decode_claims(token)
    except NotAJwt:
        return _errors(401, _INVALID_TOKEN)
    expiry = claims.get("exp")
    if isinstance(expiry, (int, float)) and not isinstance(expiry, bool) and expiry < now:
        return _errors(401, _EXPIRED_TOKEN)
    if claims.get("sub") == BLACKLISTED_SUBJECT:
        return _errors(401, _BLACKLISTED_TOKEN)
    scopes = claims.get("scopes")
    scopes = [str(s) for s in scopes] if isinstance(scopes, list) else []

    if route.name == "privileges":
        return _answer(200, {"privileges": scopes}, limit_headers)
    if not set(scopes) & set(route.scopes):
        return _errors(403, _INSUFFICIENT_PRIVILEGES)

    missing = [name for name in ("context", "object", "recipient") if not query.get(name, "")]
    if missing:
        return _errors(422, *(_MISSING_PARAMS[name] for name in missing))
    recipient = query["recipient"].strip()
    if not _is_siret(recipient):
        return _errors(422, _RECIPIENT_NOT_SIRET)
    if not _identifier_is_valid(route, identifier):
        return _errors(422, _BAD_IDENTIFIER[route.identifier])
    target_siren = _target_siren(route, identifier)
    if target_siren is not None and recipient[:9] == target_siren:
        return _errors(422, _RECIPIENT_IS_TARGET)

    kind = _ERROR_PERSONAS.get(target_siren or "")
    if kind:
        return _persona_error(kind, route, now)
    delay = SLOW_DELAY if target_siren in _SLOW_SIRENS else 0.0

    payload = _payload(route, identifier)
    if payload is None:
        return _errors(404, _not_found(route))
    extra = dict(limit_headers)
    if route.cached:
        # Documented on these routes; the value is empty (but present) when nothing is cached.
        extra.update({"X-Response-Cached": "false", "X-Cache-Expires-in": ""})
    return _answer(200, payload, extra, delay)


def _payload(route: _Route, identifier: str) -> dict | None:
    if route.name in ("etablissement_diffusible", "etablissement"):
        return etablissement_payload(identifier, protected=route.name == "etablissement")
    if route.name in ("association_open_data", "association"):
        return association_payload(identifier, protected=route.name == "association")
    if identifier not in _KNOWN_SIRENS:
        return None
    if route.name == "attestation_fiscale":
        return _attestation_fiscale(identifier)
    return _attestation_vigilance(identifier)


def mint_demo_token(**kwargs) -> str:
    """A fictitious JWT with DEMO_SCOPES that the sandbox accepts (keyword args: mint_token's)."""
    return mint_token(list(DEMO_SCOPES), **kwargs)


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def make_wsgi_app(
    on_request: Callable[[str, str, dict, dict], None] | None = None,
    wait: Callable[[float], object] = time.sleep,
) -> Callable:
    """A WSGI application serving the sandbox; `wait(delay)` runs before slow answers."""

    def application(environ: dict, start_response: Callable) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if on_request is not None:
            on_request(method, path, dict(query), dict(headers))
        answer = handle(method, path, query, headers)
        if answer.delay:
            wait(answer.delay)
        response_headers = list(answer.headers.items())
        response_headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {_reason(answer.status)}", response_headers)
        return [b"" if method.upper() == "HEAD" else answer.body]

    return application


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a slow answer in flight

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up on a slow answer closed its socket: nothing to report.
        pass


class LoopbackSandbox:
    """The sandbox on a real HTTP server (127.0.0.1, ephemeral port) in a daemon thread.

    Use as a context manager; `url` is the base URL, `requests_seen` lists
    (method, path, query, headers) for every request received.
    """

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.url = ""
        self.requests_seen: list[tuple[str, str, dict, dict]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _record(self, method: str, path: str, query: dict, headers: dict) -> None:
        with self._lock:
            self.requests_seen.append((method, path, query, headers))

    def start(self) -> LoopbackSandbox:
        """Bind the port and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        app = make_wsgi_app(on_request=self._record, wait=self._stopping.wait)
        self._server = make_server(
            "127.0.0.1",
            self.port,
            app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-loopback",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake up slow answers in flight, and release the port."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LoopbackSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox on loopback until interrupted (`python -m portail.sandbox`)."""
    parser = argparse.ArgumentParser(
        prog="python -m portail.sandbox",
        description="Bac à sable API Entreprise (données fictives), servi sur 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8001, help="port d'écoute (défaut : 8001)")
    options = parser.parse_args(argv)
    sandbox = LoopbackSandbox(port=options.port).start()
    print(f"Bac à sable API Entreprise (fictif) : {sandbox.url}")
    print(f"Jeton de démonstration (fictif) : {mint_demo_token()}")
    print(f"SIRET destinataire (recipient) : {DEMO_RECIPIENT_SIRET}")
    for persona in PERSONAS:
        print(f"  {persona.siret}  {persona.label}")
    print("Ctrl-C pour arrêter.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
