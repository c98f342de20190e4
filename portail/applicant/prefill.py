"""The applicant's prefill: a SIRET in, a `Tiers` from open data (or a French explanation) out.

Two calls through the gateway at most: the établissement (open data), then, for an
association, its open-data record (RNA number and purpose). Whatever the API does,
`lookup_public_tiers` returns a `LookupOutcome` and never raises: the applicant can always
fill in by hand. Only open-data routes are called here: an anonymous applicant never sees
protected data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlite_utils

from portail.apientreprise.catalogue import (
    ROUTE_ASSOCIATION_OPEN_DATA,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
)
from portail.apientreprise.errors import (
    NORMAL_KINDS,
    ApiEntrepriseError,
    BadAnswer,
    RecipientIsTarget,
)
from portail.apientreprise.gateway import Gateway
from portail.core.netaddr import client_keys
from portail.core.settings_rules import Settings
from portail.core.tiers import Tiers, add_association, tiers_from_etablissement

logger = logging.getLogger(__name__)

DISABLED_MESSAGE = (
    "Le pré-remplissage n'est pas disponible pour le moment. Complétez les champs vous-même."
)
ASSOCIATION_NOTE = (
    "Le numéro RNA et l'objet de l'association n'ont pas pu être récupérés : "
    "complétez-les vous-même."
)
MASKED_NOTE = "Certaines informations ne sont pas publiques : complétez-les vous-même."


@dataclass
class LookupOutcome:
    """What the deposit view shows: the Tiers (or None), the status line and its level."""

    tiers: Tiers | None
    message: str
    level: str  # "ok" | "warning" | "error"
    snapshot: dict | None = None  # {"etablissement": body, "association": body or None}
    error_kind: str | None = None
    from_cache: bool = False
    joined: bool = False
    retry_after: float | None = None
    admin_detail: str | None = None  # for logs and admin pages, never for the applicant


def _found_message(tiers: Tiers, notes: list[str]) -> str:
    who = f"pour « {tiers.raison_sociale} »" if tiers.raison_sociale else "pour ce SIRET"
    parts = [f"Informations publiques trouvées {who}."]
    parts.append("Vérifiez-les : tous les champs restent modifiables.")
    parts += notes
    return " ".join(parts)


def _failure(error: ApiEntrepriseError, **extra) -> LookupOutcome:
    return LookupOutcome(
        tiers=None,
        message=error.applicant_message,
        level="warning" if error.kind in NORMAL_KINDS else "error",
        error_kind=error.kind,
        retry_after=error.retry_after,
        admin_detail=error.admin_detail,
        **extra,
    )


def lookup_public_tiers(
    gateway: Gateway,
    db: sqlite_utils.Database,
    settings: Settings,
    siret: str,
    *,
    actor: str = "anonyme",
    object_: str,
    client: str | None = None,
) -> LookupOutcome:
    """Prefill from open data for `siret` (already validated by the caller). Never raises.

    `client` is the applicant's address: its share of the shared budget is capped.
    """
    if not settings.prefill_available:
        return LookupOutcome(None, DISABLED_MESSAGE, "warning", error_kind="disabled")
    if settings.recipient_siret[:9] == siret[:9]:
        # The API would answer 422 00211 (recipient equals target, also at SIREN level):
        # say so without spending a call.
        return _failure(RecipientIsTarget(note="détecté par le portail, aucun appel envoyé"))
    try:
        return _lookup(gateway, db, settings, siret, actor, object_, client)
    except Exception:
        # A bug or a database failure must still leave the applicant a usable form.
        logger.exception("Recherche SIRET en échec inattendu")
        return _failure(BadAnswer(note="erreur interne du portail"))


def _lookup(gateway, db, settings, siret, actor, object_, client) -> LookupOutcome:
    applicant = client_keys(client) if client else None

    def call(route, target, check):
        return gateway.call(
            db,
            settings,
            route,
            target,
            actor=actor,
            object_=object_,
            applicant=applicant,
            check=check,
        )

    try:
        found = call(
            ROUTE_ETABLISSEMENT_DIFFUSIBLE,
            siret,
            lambda payload: tiers_from_etablissement(payload, siret),
        )
    except ApiEntrepriseError as error:
        return _failure(error, from_cache=getattr(error, "from_cache", False))
    tiers, from_cache, joined = found.checked, found.from_cache, found.joined

    notes = []
    association_body = None
    if tiers.is_association and tiers.siren:
        base = tiers
        try:
            association = call(
                ROUTE_ASSOCIATION_OPEN_DATA,
                base.siren,
                lambda payload: add_association(base, payload),
            )
            association_body, tiers = association.body, association.checked
            from_cache = from_cache or association.from_cache
            joined = joined or association.joined
        except ApiEntrepriseError as error:
            # The company data stands on its own: keep it and say what is missing.
            logger.info("Association %s non complétée : %s", tiers.siren, error._summary())
            notes.append(ASSOCIATION_NOTE)
    if tiers.masked_fields:
        notes.append(MASKED_NOTE)
    return LookupOutcome(
        tiers=tiers,
        message=_found_message(tiers, notes),
        level="warning" if ASSOCIATION_NOTE in notes else "ok",
        snapshot={"etablissement": found.body, "association": association_body},
        from_cache=from_cache,
        joined=joined,
    )
