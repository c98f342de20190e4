"""The settings page: the four DataPass settings and the switch, the connection test,
clearing the token, and the public guide to getting a token."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from forms.settings import ACTION_TEST, SettingsForm, display_values, typed_values
from portail.admin import connection_test, token_state
from portail.admin.common import SETTING_LABELS, actor, extra_urls
from portail.auth.guard import login_required
from portail.core import formats, settings_rules
from portail.core.api_urls import SANDBOX_URL
from portail.storage import settings
from portail.web.extensions import get_db, get_gateway

bp = Blueprint("settings", __name__)


def missing_settings(current: settings_rules.Settings) -> list[str]:
    """The labels of the settings the prefill still needs."""
    missing = []
    if not current.recipient_siret:
        missing.append(SETTING_LABELS["recipient_siret"])
    if not current.token:
        missing.append(SETTING_LABELS["token"])
    return missing


def _render_settings(
    form: SettingsForm,
    current: settings_rules.Settings,
    values: dict,
    status: int = 200,
    errors: dict | None = None,
    result: connection_test.ConnectionResult | None = None,
    token_not_kept: bool = False,
):
    db = get_db()
    extra = extra_urls()
    choices = settings_rules.allowed_urls(extra)
    if current.api_url not in choices:
        # A URL saved when the configuration allowed it: shown, so the admin sees why.
        choices[current.api_url] = f"Adresse enregistrée, plus autorisée : {current.api_url}"
    response = current_app.make_response(
        (
            render_template(
                "admin/settings.html",
                form=form,
                values=values,
                errors=errors or {},
                token=token_state.token_state(current.token),
                url_choices=choices,
                sandbox_url=SANDBOX_URL,
                result=result,
                token_not_kept=token_not_kept,
                setting_labels=SETTING_LABELS,
                context_max=settings_rules.CONTEXT_MAX_LENGTH,
                default_context=settings_rules.DEFAULT_CONTEXT,
                changes=settings.recent_changes(db, 10),
                paris=formats.paris_datetime,
            ),
            status,
        )
    )
    response.headers["Vary"] = "HX-Request"
    return response


@bp.route("/parametres", methods=["GET", "POST"])
@login_required
def edit():
    """The settings form; its POST saves, or runs the connection test (htmx or not)."""
    db = get_db()
    current = settings.load(db)
    form = SettingsForm()
    if request.method == "GET":
        return _render_settings(form, current, display_values(current))

    if request.form.get("action") == ACTION_TEST:
        result = connection_test.check_connection(
            db,
            form.typed(),
            current,
            extra_urls(),
            actor=f"admin {actor()}",
            gateway=get_gateway(),
            timeout=current_app.config.get("CONNECTION_TEST_TIMEOUT"),
        )
        if request.headers.get("HX-Request") == "true":
            response = current_app.make_response(
                render_template("admin/_connection_result.html", result=result)
            )
            response.headers["Vary"] = "HX-Request"
            return response
        return _render_settings(
            form,
            current,
            typed_values(form),
            result=result,
            token_not_kept=bool(settings_rules.clean_token(form.token.data)),
        )

    outcome = form.check(current, extra_urls())
    if outcome.errors:
        return _render_settings(
            form,
            current,
            typed_values(form),
            422,
            outcome.errors,
            token_not_kept=outcome.token_typed and "token" not in outcome.errors,
        )
    changed = settings.apply_changes(db, outcome.changes, actor())
    if changed:
        flash(
            "Paramètres enregistrés : "
            + ", ".join(f"« {SETTING_LABELS[key]} »" for key in changed)
            + ".",
            "ok",
        )
    else:
        flash("Aucun paramètre n'a changé.", "info")
    saved = settings.load(db)
    if saved.enabled and not saved.prefill_available:
        flash(
            "L'assistance à la saisie est activée mais des paramètres manquent "
            f"({', '.join(missing_settings(saved))}) : les demandeurs remplissent à la main "
            "en attendant.",
            "warning",
        )
    return redirect(url_for("admin.settings.edit"), 303)


CLEARED_NOTICE = (
    "Le jeton d'accès a été effacé. Le pré-remplissage par SIRET n'est plus proposé aux "
    "demandeurs : ils remplissent le formulaire eux-mêmes jusqu'à ce que vous enregistriez un "
    "nouveau jeton."
)


@bp.route("/parametres/effacer-jeton", methods=["GET", "POST"])
@login_required
def clear_token():
    """Confirm (GET), then remove (POST) the saved token; journaled without its value.

    A page of its own rather than a button in the settings form: erasing the token stops
    the prefill for every applicant, so the admin reads the consequence before confirming,
    with or without JavaScript. An expired session sends a GET here after logging in again,
    never a replayed POST.
    """
    db = get_db()
    current = settings.load(db)
    if request.method == "GET":
        return render_template(
            "admin/clear_token.html",
            token=token_state.token_state(current.token),
            setting_labels=SETTING_LABELS,
        )
    if not current.token:
        # Nothing to erase: no empty "jeton effacé" line in the history.
        flash("Aucun jeton n'était enregistré : rien n'a été effacé.", "info")
        return redirect(url_for("admin.settings.edit"), 303)
    settings.apply_changes(db, {"token": ""}, actor())  # nosec B105  # erasing, not a password
    flash(CLEARED_NOTICE, "ok")
    return redirect(url_for("admin.settings.edit"), 303)


@bp.get("/guide-jeton")
def token_guide():
    """How an authority gets and renews its API Entreprise token (public: no secret)."""
    return render_template("admin/guide.html")
