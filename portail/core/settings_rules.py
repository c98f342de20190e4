"""The admin settings and their rules, shared by the settings form and the CLI: the four
DataPass settings and the switch (`Settings`), and the validation of every typed value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from portail.core import settings_rules
from portail.core.api_urls import KNOWN_URLS, PRODUCTION_URL, SANDBOX_URL, SEARCH_URL
from portail.core.formats import paris_date
from portail.core.netaddr import is_loopback_host
from portail.core.siret import InvalidSiret, validate_siret
from portail.core.tokens import NotAJwt, TokenInfo, token_info

DEFAULT_CONTEXT = "Aides publiques : dépôt et instruction des demandes de subvention"


CONTEXT_MAX_LENGTH = 200


@dataclass(frozen=True)
class Settings:
    """The four DataPass settings and the feature switch."""

    enabled: bool = False
    recipient_siret: str = ""
    token: str = ""
    context: str = DEFAULT_CONTEXT
    api_url: str = PRODUCTION_URL

    @property
    def demo(self) -> bool:
        """True when the portal answers from its built-in sandbox of fictitious data."""
        return self.api_url == SANDBOX_URL

    @property
    def prefill_available(self) -> bool:
        """True when applicants get the SIRET prefill: switch on and settings complete."""
        return bool(self.enabled and self.recipient_siret and self.token and self.api_url)

    def __repr__(self) -> str:  # the token must never reach a log through repr()
        return (
            f"Settings(enabled={self.enabled!r}, recipient_siret={self.recipient_siret!r}, "
            f"token={'***' if self.token else ''!r}, context={self.context!r}, "
            f"api_url={self.api_url!r})"
        )


TOKEN_MAX_LENGTH = 8192


class SettingError(ValueError):
    """A setting value refused, with a French message (never containing the token)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
        raise SettingError("Valeur attendue pour « enabled » : on ou off.")
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
            "par « eyJ ». Copiez-le en entier depuis votre espace API Entreprise."
        ) from None
    if not allow_expired and info.expires_at and info.expires_at <= datetime.now(UTC):
        raise SettingError(
            f"Ce jeton a expiré le {paris_date(info.expires_at)}. Collez le nouveau jeton "
            "obtenu en renouvelant votre habilitation (voir le guide « Obtenir et renouveler "
            "le jeton »)."
        )
    return token, info


def validate_context(raw: str | None) -> str:
    """The call context: free text, bounded; empty gives the default."""
    text = " ".join((raw or "").split())
    if not text:
        return settings_rules.DEFAULT_CONTEXT
    if len(text) > settings_rules.CONTEXT_MAX_LENGTH:
        raise SettingError(
            f"Le contexte d'appel compte au plus {settings_rules.CONTEXT_MAX_LENGTH} "
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
        choices.setdefault(url, f"Adresse ajoutée par l'exploitant : {url}")
    return choices


def allowed_search_urls(extra) -> frozenset[str]:
    """The base URLs the company search (SEARCH_API_URL) may point at: the State's, the
    built-in sandbox, or one the operator added to EXTRA_API_BASE_URLS."""
    return frozenset({SEARCH_URL, SANDBOX_URL, *extra_urls(extra)})


def validate_search_url(raw: str | None, extra) -> str:
    """The configured company search URL if allowed (https unless on loopback)."""
    url = normalise_url(raw)
    if url not in allowed_search_urls(extra):
        raise SettingError(
            "Cette adresse de recherche d'entreprises n'est pas autorisée : ajoutez-la "
            "d'abord dans EXTRA_API_BASE_URLS."
        )
    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback_hostname(parts.hostname):
        raise SettingError("HTTPS est obligatoire pour la recherche d'entreprises.")
    return url


def is_loopback_hostname(hostname: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
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
            "HTTPS est obligatoire : en http, le jeton circulerait en clair sur le réseau. "
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
    "Vous changez l'adresse de l'API : saisissez à nouveau le jeton d'accès. Le jeton est "
    "transmis à cette adresse à chaque appel ; le ressaisir confirme que vous lui faites "
    "confiance. Vos autres saisies sont conservées."
)


@dataclass
class FormOutcome:
    """The result of validating the settings form: changes to save, or errors per field."""

    changes: dict[str, str | bool] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    token_typed: bool = False


def validate_form(
    typed: dict[str, str | bool | None], current: settings_rules.Settings, extra
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


def url_label(url: str, extra) -> str:
    """The label of a base URL, or the URL itself."""
    return allowed_urls(extra).get(url, url)
