"""The admin's connection test: /privileges with the settings as typed, through the gateway,
told in words (what the token allows, or what went wrong and what to do).

Nothing here ever returns, logs or journals a token's value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlite_utils

from portail.admin.token_state import features_for, scope_label
from portail.apientreprise import errors
from portail.apientreprise.catalogue import ROUTE_PRIVILEGES
from portail.apientreprise.gateway import Gateway
from portail.apientreprise.privileges import privileges_from
from portail.core import settings_rules
from portail.core.settings_rules import (
    HOST_CHANGE_MESSAGE,
    SettingError,
    clean_token,
    host_changed,
    url_label,
    validate_api_url,
    validate_context,
    validate_recipient,
    validate_token,
)

logger = logging.getLogger(__name__)


@dataclass
class ConnectionResult:
    """What the connection test says: a title, details and the rights found."""

    ok: bool
    title: str
    detail: str = ""
    rights: list[str] = field(default_factory=list)
    features: list[tuple[str, bool]] = field(default_factory=list)
    advice: str = ""


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token and text else text


def _settings_for_test(
    typed: dict, current: settings_rules.Settings, extra
) -> tuple[settings_rules.Settings | None, ConnectionResult | None, bool]:
    """Settings as typed (or saved where left empty); else a result explaining the refusal."""
    try:
        api_url = validate_api_url(typed.get("api_url") or current.api_url, extra)
    except SettingError as error:
        return None, ConnectionResult(False, "Adresse de l'API refusée", error.message), False
    raw_token = str(typed.get("token") or "")
    uses_saved_token = not clean_token(raw_token)
    if not uses_saved_token:
        try:
            token, _info = validate_token(raw_token, allow_expired=True)
        except SettingError as error:
            return (
                None,
                ConnectionResult(False, "Jeton refusé par le portail", error.message),
                False,
            )
    else:
        token = current.token
        if not token:
            return (
                None,
                ConnectionResult(
                    False,
                    "Aucun jeton à tester",
                    "Collez le jeton d'accès dans le champ « Jeton d'accès » puis testez.",
                ),
                False,
            )
        if host_changed(current.api_url, api_url):
            return None, ConnectionResult(False, "Jeton à ressaisir", HOST_CHANGE_MESSAGE), False
    try:
        recipient = validate_recipient(typed.get("recipient_siret"))
    except SettingError:
        recipient = current.recipient_siret
    try:
        context = validate_context(typed.get("context"))
    except SettingError:
        context = current.context
    typed_settings = settings_rules.Settings(
        enabled=True, recipient_siret=recipient, token=token, context=context, api_url=api_url
    )
    is_saved = uses_saved_token and api_url == current.api_url
    return typed_settings, None, is_saved


def _make_client(gateway: Gateway, typed_settings: settings_rules.Settings, timeout):
    return gateway.client_for(typed_settings, timeout=float(timeout) if timeout else None)


def check_connection(
    db: sqlite_utils.Database,
    typed: dict,
    current: settings_rules.Settings,
    extra,
    *,
    actor: str,
    gateway: Gateway,
    timeout: float | None = None,
) -> ConnectionResult:
    """Call /privileges with the settings as typed (saved ones where left empty).

    `timeout` (CONNECTION_TEST_TIMEOUT) may shorten the gateway's JSON timeout for the test.
    Only a test of the saved configuration is journaled: a refusal of a typed, unsaved
    token must not raise the "token refused" alert about the saved one. A test aimed at the
    saved host goes through the shared rate budget like any call, so a button pressed
    during a 429 pause cannot get the server's address banned.
    """
    typed_settings, refusal, is_saved = _settings_for_test(typed, current, extra)
    if refusal is not None:
        return refusal
    token = typed_settings.token
    try:
        privileges = gateway.call(
            db,
            typed_settings,
            ROUTE_PRIVILEGES,
            None,
            actor=actor,
            object_="test de connexion",
            check=privileges_from,
            client=_make_client(gateway, typed_settings, timeout),
            record=is_saved,
            budgeted=not host_changed(current.api_url, typed_settings.api_url),
            wait=False,  # an admin pressing a button gets "suspended" at once
        ).checked
    except errors.BudgetSpent as error:
        return ConnectionResult(
            False,
            "Appels suspendus",
            "Le portail a suspendu ses appels à API Entreprise (limite de débit atteinte) : "
            f"réessayez dans {max(1, round(error.retry_after or 0))} secondes.",
        )
    except errors.ApiEntrepriseError as error:
        result = _describe_error(error, typed_settings)
        result.title = _scrub(result.title, token)
        result.detail = _scrub(result.detail, token)
        return result
    except Exception as error:  # a bug or an unexpected library error: say so, never crash
        logger.error("connection test failed unexpectedly: %s", type(error).__name__)
        return ConnectionResult(
            False,
            "Erreur inattendue",
            "Le test n'a pas pu aboutir à cause d'une erreur inattendue du portail "
            f"({type(error).__name__}). Réessayez ; si cela persiste, prévenez l'exploitant.",
        )
    rights = [f"{scope_label(scope)} ({scope})" for scope in privileges]
    features = features_for(privileges)
    count = len(privileges)
    result = ConnectionResult(
        True,
        f"Connexion réussie : le jeton donne {count} droit{'s' if count > 1 else ''}.",
        f"API Entreprise a reconnu le jeton ({url_label(typed_settings.api_url, extra)}).",
        rights=rights,
        features=features,
    )
    if not features[0][1]:
        result.advice = (
            "Attention : ce jeton ne permet pas le pré-remplissage public des tiers (il faut "
            "l'un des droits open_data, etablissements ou entreprises)."
        )
    return result


def _describe_error(error, typed_settings: settings_rules.Settings) -> ConnectionResult:
    host = urlsplit(typed_settings.api_url).hostname or typed_settings.api_url
    if isinstance(error, errors.TokenRefused):
        title, detail = {
            "00103": (
                "Jeton expiré",
                "API Entreprise indique que ce jeton a expiré (code 00103). Renouvelez "
                "l'habilitation et collez le nouveau jeton.",
            ),
            "00105": (
                "Jeton sur liste noire",
                "API Entreprise a révoqué ce jeton (code 00105), sans doute parce qu'il a été "
                "divulgué. Récupérez un nouveau jeton dans votre espace API Entreprise et "
                "collez-le ici.",
            ),
        }.get(
            error.code or "",
            (
                "Jeton invalide",
                "API Entreprise ne reconnaît pas ce jeton"
                f"{f' (code {error.code})' if error.code else ''}. Vérifiez que vous l'avez "
                "copié en entier, et qu'il correspond à l'environnement choisi (un jeton de "
                "production ne fonctionne pas en staging, et inversement).",
            ),
        )
        return ConnectionResult(False, title, detail)
    if isinstance(error, errors.ScopeMissing):
        return ConnectionResult(
            False,
            "Droits insuffisants",
            "API Entreprise reconnaît le jeton mais lui refuse cet accès (code 00100). "
            "Vérifiez les droits de votre habilitation DataPass.",
        )
    if isinstance(error, errors.Timeout):
        return ConnectionResult(
            False,
            "Délai dépassé",
            f"{host} n'a pas répondu à temps ({error.note or 'délai dépassé'}). L'API est "
            "peut-être lente ou en panne : voir status.entreprise.api.gouv.fr.",
        )
    if isinstance(error, errors.TransportError):
        return ConnectionResult(
            False,
            "Hôte injoignable",
            f"Impossible de joindre {host} ({error.note or 'connexion impossible'}). "
            "Vérifiez l'adresse choisie et l'accès réseau sortant du serveur (pare-feu, "
            "proxy, DNS, certificats).",
        )
    return ConnectionResult(False, error.title or "Erreur", error.admin_detail)
