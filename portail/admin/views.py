"""Admin pages: dashboard, settings, connection test and clearing the token, filed deposits,
the DataPass guide.

Every page but the guide requires a logged-in admin. The token's value never reaches a
template: pages get a `TokenState` (last four characters, expiry, scopes) instead.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from forms.settings import ACTION_TEST, SettingsForm, display_values, typed_values
from portail.admin import connection_test, token_state
from portail.auth.guard import client_ip, current_session, login_required
from portail.core import formats, settings_rules
from portail.core.api_urls import SANDBOX_URL
from portail.core.formats import euros
from portail.core.labels import APPLICANT_SECTION, FIELD_LABELS, PROJECT_SECTION, TIERS_SECTION
from portail.storage import accounts, settings
from portail.storage.deposits import get_deposit
from portail.web.extensions import get_db

bp = Blueprint("admin", __name__, url_prefix="/admin")


DEPOSITS_PER_PAGE = 50


SETTING_LABELS = {
    "enabled": "Assistance à la saisie des tiers avec SIRET : API Entreprise",
    "recipient_siret": "SIRET de votre organisation",
    "token": "Jeton d'accès",
    "context": "Contexte d'appel",
    "api_url": "URL de l'API Entreprise",
}


EVENT_LABELS = {
    "login_succeeded": "Connexion réussie",
    "login_failed": "Échec de connexion",
    "login_throttled": "Tentative refusée (trop d'échecs)",
    "logout": "Déconnexion",
    "password_changed": "Mot de passe changé",
    "admin_created": "Compte administrateur créé",
    "admin_deleted": "Compte administrateur supprimé",
    "deposit_viewed": "Consultation d'une demande",
}


def _extra_urls():
    return current_app.config.get("EXTRA_API_BASE_URLS") or []


def _actor() -> str:
    admin_session = current_session()
    return admin_session.username if admin_session else "inconnu"


@bp.after_request
def _no_store(response):
    # Admin pages must not stay in a shared cache or come back with the Back button.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/")
@login_required
def dashboard():
    """Feature state, token state, last API calls, deposits and recent admin activity."""
    from portail.admin.journal_views import KIND_LABELS
    from portail.apientreprise import budget
    from portail.apientreprise.gateway import LookupPolicy
    from portail.storage import journal

    db = get_db()
    current = settings.load(db)
    day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    quota = budget.snapshot(db)
    return render_template(
        "admin/dashboard.html",
        current=current,
        quota=quota,
        # What the portal really allows: its budget, lowered if the API announced less.
        budget_per_minute=budget.effective_limit(
            LookupPolicy.from_config(current_app.config).budget_per_minute, quota["api_limit"]
        ),
        refused_last_day=journal.refused_since(db, day_ago),
        kind_labels=KIND_LABELS,
        epoch_paris=_epoch_paris,
        token=token_state.token_state(current.token),
        url_label=settings_rules.url_label(current.api_url, _extra_urls()),
        last_success=journal.last_success(db),
        last_failure=journal.last_failure(db),
        deposit_count=db["deposits"].count,
        latest_deposits=list(
            db.query(
                "SELECT ref, created_at, raison_sociale, montant_demande_cents FROM deposits "
                "ORDER BY created_at DESC, id DESC LIMIT 5"
            )
        ),
        events=accounts.recent_events(db, 8),
        event_labels=EVENT_LABELS,
        changes=settings.recent_changes(db, 5),
        setting_labels=SETTING_LABELS,
        missing=_missing_settings(current),
        paris=formats.paris_datetime,
        euros=euros,
    )


def _epoch_paris(epoch: float) -> str:
    return formats.paris_datetime(datetime.fromtimestamp(epoch, UTC))


def _missing_settings(current: settings_rules.Settings) -> list[str]:
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
    extra = _extra_urls()
    choices = settings_rules.allowed_urls(extra)
    if current.api_url not in choices:
        # A URL saved when the configuration allowed it: shown, so the admin sees why.
        choices[current.api_url] = f"Adresse enregistrée, plus autorisée : {current.api_url}"
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


def _test_policy():
    """The lookup policy from the configuration; CONNECTION_TEST_TIMEOUT may shorten it."""
    from portail.apientreprise import gateway

    policy = gateway.LookupPolicy.from_config(current_app.config)
    timeout = current_app.config.get("CONNECTION_TEST_TIMEOUT")
    return dataclasses.replace(policy, timeout=float(timeout)) if timeout else policy


@bp.route("/parametres", methods=["GET", "POST"])
@login_required
def settings_page():
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
            _extra_urls(),
            actor=f"admin {_actor()}",
            policy=_test_policy(),
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

    outcome = form.check(current, _extra_urls())
    if outcome.errors:
        return _render_settings(
            form,
            current,
            typed_values(form),
            422,
            outcome.errors,
            token_not_kept=outcome.token_typed and "token" not in outcome.errors,
        )
    changed = settings.apply_changes(db, outcome.changes, _actor())
    if changed:
        flash(
            "Paramètres enregistrés : "
            + ", ".join(f"« {SETTING_LABELS[key]} »" for key in changed)
            + ".",
            "ok",
        )
    else:
        flash("Aucun paramètre n'a changé.", "info")
    saved = settings.load(db)
    if saved.enabled and not saved.prefill_available:
        flash(
            "L'assistance à la saisie est activée mais des paramètres manquent "
            f"({', '.join(_missing_settings(saved))}) : les demandeurs remplissent à la main "
            "en attendant.",
            "warning",
        )
    return redirect(url_for("admin.settings_page"), 303)


CLEARED_NOTICE = (
    "Le jeton d'accès a été effacé. Le pré-remplissage par SIRET n'est plus proposé aux "
    "demandeurs : ils remplissent le formulaire eux-mêmes jusqu'à ce que vous enregistriez un "
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
        flash("Aucun jeton n'était enregistré : rien n'a été effacé.", "info")
        return redirect(url_for("admin.settings_page"), 303)
    settings.apply_changes(db, {"token": ""}, _actor())
    flash(CLEARED_NOTICE, "ok")
    return redirect(url_for("admin.settings_page"), 303)


@bp.get("/demandes")
@login_required
def deposits():
    """Filed deposits, newest first, 50 per page."""
    db = get_db()
    total = db["deposits"].count
    pages = max(1, -(-total // DEPOSITS_PER_PAGE))
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    page = min(max(1, page), pages)
    rows = list(
        db.query(
            "SELECT ref, created_at, siret, raison_sociale, intitule_projet, "
            "montant_demande_cents FROM deposits ORDER BY created_at DESC, id DESC "
            "LIMIT ? OFFSET ?",
            [DEPOSITS_PER_PAGE, (page - 1) * DEPOSITS_PER_PAGE],
        )
    )
    return render_template(
        "admin/deposits.html",
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        paris=formats.paris_datetime,
        euros=euros,
    )


def _field_order(values: dict) -> list[str]:
    known = [*TIERS_SECTION, *APPLICANT_SECTION, *PROJECT_SECTION]
    extra = [name for name in values if name not in known and name != "consentement"]
    return [*known, "consentement", *extra]


@bp.get("/demandes/<ref>")
@login_required
def deposit(ref: str):
    """One deposit: every filed value, what was prefilled and changed, the API snapshot."""
    db = get_db()
    filed = get_deposit(db, ref[:64])
    if filed is None:
        abort(404)
    values, prefilled, changed = filed.values, filed.prefilled, set(filed.changed_fields)
    admin_session = current_session()
    # Agents' access to data obtained from API Entreprise is traced (CGU, 36 months).
    accounts.record_event(
        db,
        "deposit_viewed",
        username=admin_session.username,
        admin_id=admin_session.admin_id,
        ip=client_ip(),
        detail=filed.ref,
    )
    lines = []
    for name in _field_order(values):
        if name not in values and name not in prefilled:
            continue
        if name in changed:
            origin = "changed"
        elif name in prefilled:
            origin = "prefilled"
        else:
            origin = "typed"
        lines.append(
            {
                "name": name,
                "label": FIELD_LABELS.get(name, name),
                "value": values.get(name, ""),
                "origin": origin,
                "proposed": prefilled.get(name),
            }
        )
    return render_template(
        "admin/deposit.html",
        deposit=filed,
        lines=lines,
        snapshot=json.dumps(filed.snapshot, ensure_ascii=False, indent=2)
        if filed.snapshot
        else None,
        prefilled_count=len(prefilled),
        changed_count=len(changed),
        paris=formats.paris_datetime,
        euros=euros,
    )


@bp.get("/guide-jeton")
def token_guide():
    """How an authority gets and renews its API Entreprise token (public: no secret)."""
    return render_template("admin/guide.html")


def init_app(app: Flask) -> None:
    """Offer `admin_banner()` to every template (admin pages show it in their layout)."""

    @app.context_processor
    def admin_banner_context():
        def admin_banner():
            db = get_db()
            return token_state.banner(db, settings.load(db))

        return {"admin_banner": admin_banner}
