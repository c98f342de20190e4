"""Certified data on the agent's request: "Vérifier auprès d'API Entreprise" on a deposit.

POST /admin/demandes/<ref>/verification (logged-in agents, CSRF) fetches through the gateway
the protected établissement (which embeds the unité légale) and, for an association, its
protected record; each call is journaled with the agent (`actor`) and the deposit (`object`).
The answers, the date, the agent and the verdict are stored with the deposit
(storage.certified) and the deposit page compares them with the filed values
(core.certified). A check that cannot be made (settings, habilitation, API down...) is
noted with why and what to do, and the previous result stays visible. Never a 500, never
the token in a message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlite_utils
from flask import Blueprint, flash, redirect, url_for

from portail.apientreprise import catalogue
from portail.apientreprise.catalogue import ROUTE_ASSOCIATION, ROUTE_ETABLISSEMENT
from portail.apientreprise.errors import ApiEntrepriseError, BadAnswer, RecipientIsTarget
from portail.apientreprise.gateway import Gateway
from portail.auth.guard import current_session, login_required
from portail.core import certified as rules
from portail.core.settings_rules import Settings
from portail.core.siret import is_valid_siret, normalise
from portail.core.tiers import add_association, tiers_from_etablissement
from portail.core.tokens import may_open
from portail.storage import certified as store
from portail.storage.deposit_search import set_certified_state
from portail.storage.deposits import FiledDeposit
from portail.web.extensions import deposit_or_404, get_db, get_gateway, get_settings

logger = logging.getLogger(__name__)

bp = Blueprint("verification", __name__)

# The DataPass habilitation that opens each protected route, in the admin's words.
HABILITATIONS = {
    ROUTE_ETABLISSEMENT: (
        "« API Entreprise – Données protégées de l'INSEE (unités légales et établissements) »"
    ),
    ROUTE_ASSOCIATION: "« API Entreprise – Données protégées des associations (DJEPVA) »",
}

SETTINGS_ACTION = (
    "Un administrateur peut compléter le SIRET de l'organisation, le jeton d'accès et "
    "l'adresse de l'API dans Paramètres."
)

# Agent-side wording for the normal answers about the entity (the catalogue's speak of
# public data, the protected route's answer means something else to an agent).
_ABOUT_TARGET = {
    "not_found": (
        "SIRET inconnu d'API Entreprise",
        "API Entreprise ne connaît pas ce SIRET (réponse 404) : vérifiez le numéro auprès du "
        "demandeur, par exemple sur son avis de situation Sirene.",
    ),
    "not_public": (
        "Entité non diffusée par l'INSEE",
        "L'INSEE ne diffuse aucune donnée sur cette entité (réponse 451) : demandez au "
        "demandeur un justificatif (avis de situation Sirene, extrait Kbis).",
    ),
}


@dataclass
class Outcome:
    """What the agent is told after pressing the button."""

    ok: bool
    message: str
    level: str  # "ok" | "warning" | "error" (the flash category)
    notes: list[str] = field(default_factory=list)


class _Refused(Exception):
    """The check cannot be made; `title`/`message` say why and what to do."""

    def __init__(self, kind: str, title: str, message: str):
        super().__init__(kind)
        self.kind, self.title, self.message = kind, title, message


def object_for(ref: str) -> str:
    """The `object` of the calls: the deposit, under the API's 50 characters."""
    return f"Instruction {ref}"[: catalogue.OBJECT_MAX_LENGTH]


def missing_scope(settings: Settings, route_path: str) -> str | None:
    """A French explanation when the token's scopes cannot open `route_path`, else None.

    An unreadable token is left for the API to judge."""
    route = catalogue.route(route_path)
    if may_open(settings.token, route.scopes):
        return None
    return (
        f"Le jeton d'accès enregistré n'ouvre pas la donnée « {route.label} » : il lui "
        f"manque l'un des droits {', '.join(sorted(route.scopes))}. Aucun appel n'a été "
        f"envoyé. Un administrateur peut demander l'habilitation "
        f"{HABILITATIONS[route_path]} sur DataPass (datapass.api.gouv.fr) pour la démarche, "
        "puis coller le nouveau jeton dans Paramètres."
    )


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token and text else text


def _error_texts(error: ApiEntrepriseError, settings: Settings) -> tuple[str, str]:
    """The title and the agent's message of a failed call (its admin text: what happened and
    what to do), the token masked should anything ever echo it."""
    if error.kind in _ABOUT_TARGET:
        return _ABOUT_TARGET[error.kind]
    # The kind's own title (the API's title is in the detail, with its code and X-Request-ID).
    return error.default_title, _scrub(error.admin_detail, settings.token)


def _preconditions(settings: Settings, siret: str) -> None:
    """Refuse, without any call, a check that cannot succeed."""
    if not (settings.token and settings.recipient_siret and settings.api_url):
        raise _Refused(
            "settings",
            "Paramètres incomplets",
            "Le portail n'a pas de jeton d'accès ou de SIRET d'organisation enregistré : "
            f"aucune vérification n'est possible. {SETTINGS_ACTION}",
        )
    if not is_valid_siret(siret):
        raise _Refused(
            "invalid_siret",
            "SIRET déposé invalide",
            "Le SIRET déposé n'est pas un numéro valide : aucune vérification n'est possible. "
            "Demandez le bon numéro au demandeur.",
        )
    scope_text = missing_scope(settings, ROUTE_ETABLISSEMENT)
    if scope_text:
        raise _Refused("scope_missing", "Habilitation manquante", scope_text)
    if settings.recipient_siret[:9] == siret[:9]:
        error = RecipientIsTarget(note="détecté par le portail, aucun appel envoyé")
        raise _Refused(error.kind, error.title, error.admin_detail)


def check_deposit(
    gateway: Gateway,
    db: sqlite_utils.Database,
    settings: Settings,
    filed: FiledDeposit,
    username: str,
) -> Outcome:
    """Fetch the certified data of a deposit, store the result or the failure, and say what
    happened. Never raises."""
    siret = normalise(filed.values.get("siret", ""))
    try:
        try:
            return _check(gateway, db, settings, filed, siret, username)
        except _Refused as refusal:
            store.save_failure(
                db,
                filed.ref,
                siret=siret,
                actor=username,
                kind=refusal.kind,
                title=refusal.title,
                message=refusal.message,
            )
            return Outcome(
                False,
                f"La vérification n'a pas abouti : {refusal.title.lower()}. "
                "Les explications figurent dans la section « Données certifiées ».",
                "error",
            )
    except Exception:
        # A bug or a database failure: the deposit page must still work.
        logger.exception("Vérification certifiée en échec inattendu (%s)", filed.ref)
        return Outcome(
            False,
            "La vérification n'a pas pu aboutir à cause d'une erreur inattendue du portail. "
            "Réessayez ; si cela persiste, prévenez l'exploitant.",
            "error",
        )


def _check(gateway, db, settings, filed, siret, username) -> Outcome:
    _preconditions(settings, siret)
    ref = filed.ref

    def call(route_path, target, check):
        return gateway.call(
            db,
            settings,
            route_path,
            target,
            actor=f"admin {username}",
            object_=object_for(ref),
            check=check,
            wait=False,  # an agent pressing a button gets an answer at once
        )

    try:
        found = call(
            ROUTE_ETABLISSEMENT, siret, lambda payload: tiers_from_etablissement(payload, siret)
        )
    except ApiEntrepriseError as error:
        title, message = _error_texts(error, settings)
        raise _Refused(error.kind, title, message) from None
    tiers, association_body, notes = found.checked, None, []
    if tiers.is_association and tiers.siren:
        scope_text = missing_scope(settings, ROUTE_ASSOCIATION)
        if scope_text:
            notes.append(f"Données de l'association non vérifiées. {scope_text}")
        else:
            base = tiers
            try:
                association = call(
                    ROUTE_ASSOCIATION, tiers.siren, lambda payload: add_association(base, payload)
                )
                association_body = association.body
            except ApiEntrepriseError as error:
                title, message = _error_texts(error, settings)
                notes.append(
                    f"Données de l'association non vérifiées ({title}). {message} "
                    "Les données de l'établissement ci-dessous restent valables."
                )
    try:
        comparison = rules.compare(filed.values, found.body, association_body)
    except Exception:
        logger.exception("Réponse certifiée illisible (%s)", ref)
        error = BadAnswer(note="réponse illisible par le portail")
        raise _Refused(error.kind, error.title, error.admin_detail) from None
    state = comparison.state
    store.save_result(
        db,
        ref,
        siret=siret,
        actor=username,
        state=state,
        etablissement=found.body,
        association=association_body,
        notes=notes,
    )
    set_certified_state(db, ref, state)  # H4's column: the deposits list filters on it
    return _outcome(comparison, notes)


def _outcome(comparison: rules.Comparison, notes: list[str]) -> Outcome:
    count = len(comparison.differences)
    if comparison.closed:
        message = "Vérification faite : l'établissement est fermé ou l'entreprise a cessé."
        level = "warning"
    elif count:
        plural = "s" if count > 1 else ""
        message = f"Vérification faite : {count} écart{plural} entre déclaré et certifié."
        level = "warning"
    else:
        message = "Vérification faite : les données déclarées correspondent aux données certifiées."
        level = "ok"
    if notes:
        message += " Certaines données n'ont pas pu être vérifiées (voir la section)."
        level = "warning"
    return Outcome(True, message, level, notes)


@bp.post("/<ref>/verification")
@login_required
def verify(ref: str):
    """Run the check for one deposit, then back to its page (anchor #verification)."""
    db = get_db()
    filed = deposit_or_404(ref)
    admin_session = current_session()
    outcome = check_deposit(get_gateway(), db, get_settings(), filed, admin_session.username)
    flash(outcome.message, outcome.level)
    return redirect(url_for("admin.deposits.detail", ref=filed.ref, _anchor="verification"), 303)
