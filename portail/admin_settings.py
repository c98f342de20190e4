"""The admin's settings: validation shared by the form and the CLI, the change journal, what a
token allows in plain words, the expiry banner and the connection test.

Nothing here ever returns, logs or journals a token's value: only its last four characters,
its expiry and its scopes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlite_utils

from portail import settings as settings_store
from portail.api_urls import KNOWN_URLS, PRODUCTION_URL
from portail.paris_time import PARIS, in_paris
from portail.siret import InvalidSiret, validate_siret
from portail.store import immediate, utcnow
from portail.tokens import NotAJwt, TokenInfo, token_info

logger = logging.getLogger(__name__)

TOKEN_MAX_LENGTH = 8192

# What each scope allows, in the admin's words.
SCOPE_LABELS = {
    "open_data": "données ouvertes (open data) des entreprises et des associations",
    "etablissements": "établissements du répertoire Sirene",
    "entreprises": "entreprises du répertoire Sirene",
    "unites_legales_etablissements_insee": "unités légales et établissements INSEE, "
    "données protégées comprises",
    "associations": "associations (répertoire national des associations)",
    "associations_djepva": "associations : données protégées (DJEPVA)",
    "associations_donnees_protegees": "associations : données protégées",
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


class SettingError(ValueError):
    """A setting value refused, with a French message (never containing the token)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- formatting -------------------------------------------------------------------------


def paris_date(moment: datetime | None) -> str:
    """A date as DD/MM/YYYY in Paris time."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y") if moment else ""


def paris_datetime(value: datetime | str | None) -> str:
    """A time as 'DD/MM/YYYY à HH:MM' in Paris time (accepts stored ISO strings)."""
    return in_paris(value, "%d/%m/%Y à %H:%M")


def scope_label(scope: str) -> str:
    """A scope in plain words; unknown scopes are shown as they are."""
    return SCOPE_LABELS.get(scope, f"autre droit ({scope})")


def features_for(scopes) -> list[tuple[str, bool]]:
    """For each feature of the portal: its label and whether the scopes allow it."""
    held = set(scopes)
    return [(label, bool(held & needed)) for _key, label, needed in FEATURES]


def days_words(days: int) -> str:
    """'1 jour', '12 jours'."""
    days = abs(days)
    return f"{days} jour{'s' if days > 1 else ''}"


# -- validation -------------------------------------------------------------------------

_ENABLED_WORDS = {
    "on": True,
    "off": False,
    "oui": True,
    "non": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
}


def parse_enabled(raw: str | bool | None) -> bool:
    """`on`/`off` (also oui/non, true/false, 1/0) as a boolean."""
    if isinstance(raw, bool):
        return raw
    value = (raw or "").strip().lower()
    if value not in _ENABLED_WORDS:
        raise SettingError("Valeur attendue pour « enabled » : on ou off.")
    return _ENABLED_WORDS[value]


def validate_recipient(raw: str | None) -> str:
    """The authority's SIRET, validated like any SIRET."""
    try:
        return validate_siret(raw)
    except InvalidSiret as error:
        raise SettingError(error.message) from None


def clean_token(raw: str | None) -> str:
    """The token as pasted, without whitespace or a leading 'Bearer' (a JWT has neither)."""
    text = (raw or "").strip()
    if text[:7].lower() == "bearer ":
        text = text[7:]
    return "".join(text.split())


def validate_token(raw: str | None, *, allow_expired: bool = False) -> tuple[str, TokenInfo]:
    """A pasted token and what it says; refuses what is not a JWT (or, to save, expired)."""
    token = clean_token(raw)
    if not token:
        raise SettingError("Collez le jeton d'accès fourni par API Entreprise.")
    if len(token) > TOKEN_MAX_LENGTH:
        raise SettingError("Ce texte est bien trop long pour être un jeton API Entreprise.")
    try:
        info = token_info(token)
    except NotAJwt:
        raise SettingError(
            "Ce texte n'est pas un jeton API Entreprise. Le jeton est une longue suite de "
            "caractères en trois parties séparées par des points, qui commence en général "
            "par « eyJ ». Copiez-le en entier depuis votre espace API Entreprise."
        ) from None
    if not allow_expired and info.expires_at and info.expires_at <= datetime.now(UTC):
        raise SettingError(
            f"Ce jeton a expiré le {paris_date(info.expires_at)}. Collez le nouveau jeton "
            "obtenu en renouvelant votre habilitation (voir le guide « Obtenir et renouveler "
            "le jeton »)."
        )
    return token, info


def validate_context(raw: str | None) -> str:
    """The call context: free text, bounded; empty gives the default."""
    text = " ".join((raw or "").split())
    if not text:
        return settings_store.DEFAULT_CONTEXT
    if len(text) > settings_store.CONTEXT_MAX_LENGTH:
        raise SettingError(
            f"Le contexte d'appel compte au plus {settings_store.CONTEXT_MAX_LENGTH} "
            f"caractères (vous en avez saisi {len(text)})."
        )
    return text


def extra_urls(config_value) -> list[str]:
    """EXTRA_API_BASE_URLS as a list, whether configured as a list or a comma-separated text."""
    if not config_value:
        return []
    if isinstance(config_value, str):
        config_value = config_value.replace(",", " ").split()
    return [normalise_url(str(url)) for url in config_value if str(url).strip()]


def normalise_url(raw: str | None) -> str:
    """A base URL without surrounding spaces or trailing slash."""
    return (raw or "").strip().rstrip("/")


def allowed_urls(extra) -> dict[str, str]:
    """The base URLs an admin may choose, with their labels."""
    choices = dict(KNOWN_URLS)
    for url in extra_urls(extra):
        choices.setdefault(url, f"Adresse ajoutée par l'exploitant : {url}")
    return choices


def is_loopback_hostname(hostname: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    from portail.auth import is_loopback_host

    return bool(hostname) and is_loopback_host(
        f"[{hostname}]" if ":" in (hostname or "") else hostname
    )


def validate_api_url(raw: str | None, extra) -> str:
    """A base URL among the allowed ones, https unless on loopback."""
    url = normalise_url(raw)
    if not url:
        raise SettingError("Choisissez l'adresse de l'API Entreprise.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        raise SettingError("Cette adresse n'est pas une URL valide (https://…).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingError("Cette adresse n'est pas une URL valide (https://…).")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SettingError(
            "L'adresse de l'API ne doit contenir ni identifiant, ni paramètre, ni fragment."
        )
    if url not in allowed_urls(extra):
        raise SettingError(
            "Cette adresse n'est pas autorisée. Choisissez la production, la recette "
            "(staging) ou le bac à sable intégré. Une autre adresse (proxy de votre "
            "organisation, doublure de test) doit d'abord être ajoutée par l'exploitant du "
            "serveur dans EXTRA_API_BASE_URLS."
        )
    if parts.scheme != "https" and not is_loopback_hostname(parts.hostname):
        raise SettingError(
            "HTTPS est obligatoire : en http, le jeton circulerait en clair sur le réseau. "
            "Seule une adresse locale (127.0.0.1, ::1, localhost) peut utiliser http."
        )
    return url


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: whoever answers there receives the token."""
    parts = urlsplit(normalise_url(url))
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def host_changed(old_url: str, new_url: str) -> bool:
    """True when the token would now be sent to another host."""
    return origin(old_url) != origin(new_url)


HOST_CHANGE_MESSAGE = (
    "Vous changez l'adresse de l'API : saisissez à nouveau le jeton d'accès. Le jeton est "
    "transmis à cette adresse à chaque appel ; le ressaisir confirme que vous lui faites "
    "confiance. Vos autres saisies sont conservées."
)


@dataclass
class FormOutcome:
    """The result of validating the settings form: changes to save, or errors per field."""

    changes: dict[str, str | bool] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    token_typed: bool = False


def validate_form(
    typed: dict[str, str | bool | None], current: settings_store.Settings, extra
) -> FormOutcome:
    """Validate every typed setting; the token is kept when left empty."""
    outcome = FormOutcome()
    changes, errors = outcome.changes, outcome.errors
    changes["enabled"] = bool(typed.get("enabled"))
    for key, check in (("recipient_siret", validate_recipient), ("context", validate_context)):
        try:
            changes[key] = check(typed.get(key))
        except SettingError as error:
            errors[key] = error.message
    try:
        changes["api_url"] = validate_api_url(typed.get("api_url"), extra)
    except SettingError as error:
        errors["api_url"] = error.message
    raw_token = typed.get("token") or ""
    outcome.token_typed = bool(clean_token(str(raw_token)))
    if outcome.token_typed:
        try:
            changes["token"], _info = validate_token(str(raw_token))
        except SettingError as error:
            errors["token"] = error.message
    elif (
        "api_url" in changes
        and current.token
        and host_changed(current.api_url or PRODUCTION_URL, str(changes["api_url"]))
    ):
        errors["token"] = HOST_CHANGE_MESSAGE
    return outcome


# -- saving and the change journal ------------------------------------------------------


def _summary(key: str, old: settings_store.Settings, new_value) -> str:
    if key == "enabled":
        return "fonctionnalité activée" if new_value else "fonctionnalité désactivée"
    if key == "token":
        if not new_value:
            return "jeton effacé"
        try:
            info = token_info(str(new_value))
        except NotAJwt:
            return "jeton remplacé"
        expiry = f", expire le {paris_date(info.expires_at)}" if info.expires_at else ""
        return f"jeton remplacé (se termine par …{info.last4}{expiry})"
    if key == "recipient_siret":
        return f"{old.recipient_siret or '(vide)'} → {new_value}"
    if key == "api_url":
        return f"{old.api_url} → {new_value}"
    if key == "context":
        return f"« {new_value} »"
    return "modifié"


def apply_changes(
    db: sqlite_utils.Database, changes: dict[str, str | bool], actor: str
) -> list[str]:
    """Save validated settings and journal each change (who, when, which; never a token)."""
    with immediate(db):
        before = settings_store.load(db)
        changed = settings_store.save(db, changes, actor)
        moment = utcnow()
        for key in changed:
            db["settings_changes"].insert(
                {
                    "at": moment,
                    "actor": actor,
                    "key": key,
                    "summary": _summary(key, before, changes[key]),
                }
            )
    if changed:
        logger.info("settings changed by %s: %s", actor, ", ".join(changed))
    return changed


def recent_changes(db: sqlite_utils.Database, limit: int = 10) -> list[dict]:
    """The latest settings changes, newest first."""
    return list(db.query("SELECT * FROM settings_changes ORDER BY id DESC LIMIT ?", [limit]))


# -- token state and banner -------------------------------------------------------------


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


def banner(db: sqlite_utils.Database, current: settings_store.Settings) -> Banner | None:
    """The most urgent thing to tell the admin about the token, or None."""
    state = token_state(current.token)
    fix = (
        "Demandez un nouveau jeton (renouvellement de l'habilitation) puis collez-le dans "
        "les paramètres."
    )
    if not state.present:
        if current.enabled:
            return Banner(
                "warning",
                "Aucun jeton enregistré",
                "L'assistance à la saisie est activée mais aucun jeton n'est enregistré : "
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
        from portail import journal

        refused = journal.token_refused_since(
            db, settings_store.changed_at(db, "token") or "1970-01-01T00:00:00"
        )
        if refused and refused.get("status") == 401:
            # A call that succeeded since (same token) shows the refusal was transient.
            success = journal.last_success(db)
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
            f"Le {paris_datetime(refused['at'])}, API Entreprise a refusé le jeton {who} : "
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
            f"Le jeton {state.expiry_text} : API Entreprise le refuse et les demandeurs "
            "remplissent tout à la main.",
            fix,
        )
    if state.days_left is not None and state.days_left <= 30:
        return Banner(
            "warning",
            "Le jeton expire bientôt",
            f"Le jeton {state.expiry_text}. Sans renouvellement, le pré-remplissage s'arrêtera "
            "à cette date.",
            "Renouvelez l'habilitation dès maintenant : le nouveau jeton se colle dans les "
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


# -- connection test --------------------------------------------------------------------


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
    typed: dict, current: settings_store.Settings, extra
) -> tuple[settings_store.Settings | None, ConnectionResult | None, bool]:
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
                    "Collez le jeton d'accès dans le champ « Jeton d'accès » puis testez.",
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
    typed_settings = settings_store.Settings(
        enabled=True, recipient_siret=recipient, token=token, context=context, api_url=api_url
    )
    is_saved = uses_saved_token and api_url == current.api_url
    return typed_settings, None, is_saved


def _make_client(typed_settings: settings_store.Settings, policy):
    from portail import lookup

    return lookup.make_client(typed_settings, policy)


def check_connection(
    db: sqlite_utils.Database,
    typed: dict,
    current: settings_store.Settings,
    extra,
    *,
    actor: str,
    policy=None,
) -> ConnectionResult:
    """Call /privileges with the settings as typed (saved ones where left empty).

    Only a test of the saved configuration is journaled: a refusal of a typed, unsaved
    token must not raise the "token refused" alert about the saved one. A test aimed at the
    saved host goes through the shared rate budget like any call, so a button pressed
    during a 429 pause cannot get the server's address banned.
    """
    from portail import api_entreprise as api
    from portail import lookup

    policy = policy or lookup.LookupPolicy()
    typed_settings, refusal, is_saved = _settings_for_test(typed, current, extra)
    if refusal is not None:
        return refusal
    token = typed_settings.token
    try:
        privileges = lookup.check_privileges(
            db,
            typed_settings,
            actor=actor,
            policy=policy,
            record=is_saved,
            budgeted=not host_changed(current.api_url, typed_settings.api_url),
            client=_make_client(typed_settings, policy),
        )
    except api.BudgetSpent as error:
        return ConnectionResult(
            False,
            "Appels suspendus",
            "Le portail a suspendu ses appels à API Entreprise (limite de débit atteinte) : "
            f"réessayez dans {max(1, round(error.retry_after or 0))} secondes.",
        )
    except api.ApiEntrepriseError as error:
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
            f"({type(error).__name__}). Réessayez ; si cela persiste, prévenez l'exploitant.",
        )
    rights = [f"{scope_label(scope)} ({scope})" for scope in privileges]
    features = features_for(privileges)
    count = len(privileges)
    result = ConnectionResult(
        True,
        f"Connexion réussie : le jeton donne {count} droit{'s' if count > 1 else ''}.",
        f"API Entreprise a reconnu le jeton ({url_label(typed_settings.api_url, extra)}).",
        rights=rights,
        features=features,
    )
    if not features[0][1]:
        result.advice = (
            "Attention : ce jeton ne permet pas le pré-remplissage public des tiers (il faut "
            "l'un des droits open_data, etablissements ou entreprises)."
        )
    return result


def _describe_error(error, typed_settings: settings_store.Settings) -> ConnectionResult:
    from portail import api_entreprise as api

    host = urlsplit(typed_settings.api_url).hostname or typed_settings.api_url
    if isinstance(error, api.TokenRefused):
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
    if isinstance(error, api.ScopeMissing):
        return ConnectionResult(
            False,
            "Droits insuffisants",
            "API Entreprise reconnaît le jeton mais lui refuse cet accès (code 00100). "
            "Vérifiez les droits de votre habilitation DataPass.",
        )
    if isinstance(error, api.Timeout):
        return ConnectionResult(
            False,
            "Délai dépassé",
            f"{host} n'a pas répondu à temps ({error.note or 'délai dépassé'}). L'API est "
            "peut-être lente ou en panne : voir status.entreprise.api.gouv.fr.",
        )
    if isinstance(error, api.TransportError):
        return ConnectionResult(
            False,
            "Hôte injoignable",
            f"Impossible de joindre {host} ({error.note or 'connexion impossible'}). "
            "Vérifiez l'adresse choisie et l'accès réseau sortant du serveur (pare-feu, "
            "proxy, DNS, certificats).",
        )
    return ConnectionResult(False, error.title or "Erreur", error.admin_detail)


def url_label(url: str, extra) -> str:
    """The label of a base URL, or the URL itself."""
    return allowed_urls(extra).get(url, url)
