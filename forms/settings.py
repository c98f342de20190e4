"""The settings form of /admin/parametres (fields `enabled`, `recipient_siret`, `token`,
`context`, `api_url`), validated by the same rules as `flask settings set`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, StringField

from portail.core import settings_rules
from portail.core.settings_rules import Settings

# Which button sent the form: the no-JavaScript path posts the same form for both.
ACTION_SAVE = "enregistrer"
ACTION_TEST = "tester"


class SettingsForm(FlaskForm):
    """The four DataPass settings and the feature switch."""

    enabled = BooleanField("Assistance à la saisie des tiers avec SIRET : API Entreprise")
    recipient_siret = StringField("SIRET de votre organisation")
    # PasswordField never renders its value back: the token is never filled in a page.
    token = PasswordField("Jeton d'accès")
    context = StringField("Contexte d'appel")
    api_url = RadioField("URL de l'API Entreprise", choices=[], validate_choice=False)

    def typed(self) -> dict[str, str | bool | None]:
        """The values as typed, for the shared validation."""
        return {
            "enabled": bool(self.enabled.data),
            "recipient_siret": self.recipient_siret.data or "",
            "token": self.token.data or "",
            "context": self.context.data or "",
            "api_url": self.api_url.data or "",
        }

    def check(self, current: Settings, extra) -> settings_rules.FormOutcome:
        """Validate with the rules shared with the CLI; errors are keyed by field name."""
        return settings_rules.validate_form(self.typed(), current, extra)


def display_values(current: Settings) -> dict[str, str | bool]:
    """What the form shows for saved settings (never the token)."""
    return {
        "enabled": current.enabled,
        "recipient_siret": current.recipient_siret,
        "context": current.context,
        "api_url": current.api_url,
    }


def typed_values(form: SettingsForm) -> dict[str, str | bool]:
    """What the form shows again after an error or a test: as typed, token excepted."""
    typed = form.typed()
    typed.pop("token")
    return typed
