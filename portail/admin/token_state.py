"""What the admin is told about the token: its expiry and scopes in plain words, and the
banner shown on every admin page when the prefill is off, the token expires soon or was
refused.

Nothing here ever returns, logs or journals a token's value: only its last four characters,
its expiry and its scopes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from portail.apientreprise.catalogue import TOKENLESS_ROUTES
from portail.core import settings_rules
from portail.core.formats import days_words, paris_date, paris_datetime
from portail.core.tokens import NotAJwt, token_info
from portail.storage import journal, settings

logger = logging.getLogger(__name__)


# What each scope allows, in the admin's words.
SCOPE_LABELS = {
    "open_data": "données ouvertes (open data) des entreprises et des associations",
    "etablissements": "établissements du répertoire Sirene",
    "entreprises": "entreprises du répertoire Sirene",
    "unites_legales_etablissements_insee": "unités légales et établissements INSEE, "
    "données protégées comprises",
    "associations": "associations (répertoire national des associations)",
    "associations_djepva": "associations : données protégées (DJEPVA)",
    "associations_donnees_protegees": "associations : données protégées",
    "attestation_fiscale_dgfip": "attestation fiscale (DGFiP)",
    "attestations_fiscales": "attestations fiscales",
    "attestation_sociale_urssaf": "attestation de vigilance (Urssaf)",
    "attestations_sociales": "attestations sociales (Urssaf)",
}


# Features of the portal and the scopes that open each one (any one of them suffices).
FEATURES = (
    (
        "prefill",
        "Pré-remplissage public des tiers par SIRET (données ouvertes)",
        frozenset({"open_data", "etablissements", "entreprises"}),
    ),
    (
        "protected",
        "Données protégées pour les agents instructeurs",
        frozenset({"unites_legales_etablissements_insee", "etablissements", "entreprises"}),
    ),
    (
        "associations",
        "Données des associations",
        frozenset(
            {
                "associations",
                "associations_djepva",
                "associations_donnees_protegees",
                "open_data",
            }
        ),
    ),
    (
        "attestation_fiscale",
        "Attestation fiscale",
        frozenset({"attestation_fiscale_dgfip", "attestations_fiscales"}),
    ),
    (
        "attestation_vigilance",
        "Attestation de vigilance (Urssaf)",
        frozenset({"attestation_sociale_urssaf", "attestations_sociales"}),
    ),
)


def scope_label(scope: str) -> str:
    """A scope in plain words; unknown scopes are shown as they are."""
    return SCOPE_LABELS.get(scope, f"autre droit ({scope})")


def features_for(scopes) -> list[tuple[str, bool]]:
    """For each feature of the portal: its label and whether the scopes allow it."""
    held = set(scopes)
    return [(label, bool(held & needed)) for _key, label, needed in FEATURES]


@dataclass(frozen=True)
class TokenState:
    """What the admin may know of the saved token."""

    present: bool
    readable: bool = True
    last4: str = ""
    expires_at: datetime | None = None
    days_left: int | None = None
    scopes: tuple[str, ...] = ()

    @property
    def expired(self) -> bool:
        """True once the exp claim is past."""
        return self.expires_at is not None and self.expires_at <= datetime.now(UTC)

    @property
    def expiry_text(self) -> str:
        """'expire le 12/05/2027 (dans 530 jours)' or 'a expiré le ...'."""
        if self.expires_at is None:
            return "date d'expiration inconnue (le jeton n'en indique pas)"
        if self.expired:
            return f"a expiré le {paris_date(self.expires_at)}"
        return f"expire le {paris_date(self.expires_at)} (dans {days_words(self.days_left or 0)})"

    @property
    def features(self) -> list[tuple[str, bool]]:
        """Portal features and whether the token's scopes allow each."""
        return features_for(self.scopes)

    @property
    def scope_words(self) -> list[str]:
        """Each scope in plain words."""
        return [scope_label(scope) for scope in self.scopes]


def token_state(token: str | None) -> TokenState:
    """Describe a token for display without ever exposing its value."""
    if not token:
        return TokenState(present=False)
    try:
        info = token_info(token)
    except NotAJwt:
        return TokenState(present=True, readable=False, last4=token.strip()[-4:])
    return TokenState(
        present=True,
        last4=info.last4,
        expires_at=info.expires_at,
        days_left=info.days_left(),
        scopes=info.scopes,
    )


@dataclass(frozen=True)
class Banner:
    """The token life-cycle banner shown on every admin page."""

    level: str  # "info", "warning", "danger"
    title: str
    message: str
    action: str = ""


def _refusal_words(row: dict) -> str:
    code = row.get("error_code")
    if row.get("status") == 403:
        return "droits insuffisants pour la donnée demandée (403)"
    return {
        "00101": "jeton invalide (401, code 00101)",
        "00103": "jeton expiré (401, code 00103)",
        "00105": "jeton sur liste noire (401, code 00105)",
    }.get(code or "", f"jeton refusé (HTTP {row.get('status')})")


# A token is stored but no key opens it (storage/token_key): read as absent meanwhile.
KEY_LOST = (
    "Jeton illisible : clé perdue, ressaisissez le jeton",
    "Le jeton enregistré est chiffré avec une clé que le portail n'a plus (fichier "
    "instance/token_key perdu ou remplacé, ou variable PORTAIL_TOKEN_KEY changée) : le "
    "pré-remplissage est arrêté et les demandeurs remplissent à la main.",
    "Collez de nouveau le jeton fourni par API Entreprise dans les paramètres.",
)


def banner(db: sqlite_utils.Database, current: settings_rules.Settings) -> Banner | None:
    """The most urgent thing to tell the admin about the token, or None."""
    state = token_state(current.token)
    fix = (
        "Demandez un nouveau jeton (renouvellement de l'habilitation) puis collez-le dans "
        "les paramètres."
    )
    if not state.present:
        if settings.token_lost(db):
            return Banner("danger", *KEY_LOST)
        if current.enabled:
            return Banner(
                "warning",
                "Aucun jeton enregistré",
                "L'assistance à la saisie est activée mais aucun jeton n'est enregistré : "
                "les demandeurs remplissent tout à la main.",
                "Collez le jeton fourni par API Entreprise dans les paramètres.",
            )
        return None
    if not state.readable:
        return Banner(
            "danger",
            "Jeton illisible",
            "Le jeton enregistré n'est pas un jeton API Entreprise valide.",
            fix,
        )
    try:
        refused = journal.token_refused_since(
            db, settings.changed_at(db, "token") or "1970-01-01T00:00:00", TOKENLESS_ROUTES
        )
        if refused and refused.get("status") == 401:
            # A call that succeeded since (same token) shows the refusal was transient.
            success = journal.last_success(db, TOKENLESS_ROUTES)
            if success and success["at"] > refused["at"]:
                refused = None
    except Exception:  # the journal table may be absent on an old database: no alert then
        logger.exception("could not read the API journal")
        refused = None
    if refused:
        who = (
            "lors d'une recherche de SIRET par un demandeur"
            if (refused.get("actor") or "anonyme") == "anonyme"
            else "lors d'un appel"
        )
        return Banner(
            "danger",
            "API Entreprise refuse le jeton",
            f"Le {paris_datetime(refused['at'])}, API Entreprise a refusé le jeton {who} : "
            f"{_refusal_words(refused)}. Les demandeurs ne bénéficient plus du "
            "pré-remplissage et remplissent à la main.",
            fix
            if refused.get("status") == 401
            else "Vérifiez les droits (scopes) de votre habilitation DataPass.",
        )
    if state.expired:
        return Banner(
            "danger",
            "Jeton expiré",
            f"Le jeton {state.expiry_text} : API Entreprise le refuse et les demandeurs "
            "remplissent tout à la main.",
            fix,
        )
    if state.days_left is not None and state.days_left <= 30:
        return Banner(
            "warning",
            "Le jeton expire bientôt",
            f"Le jeton {state.expiry_text}. Sans renouvellement, le pré-remplissage s'arrêtera "
            "à cette date.",
            "Renouvelez l'habilitation dès maintenant : le nouveau jeton se colle dans les "
            "paramètres.",
        )
    if state.days_left is not None and state.days_left <= 90:
        return Banner(
            "info",
            "Renouvellement du jeton à prévoir",
            f"Le jeton {state.expiry_text}. API Entreprise prévient ses détenteurs trois mois "
            "avant l'échéance.",
            "Préparez la demande de renouvellement.",
        )
    return None
