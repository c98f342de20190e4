"""The admin's dashboard: feature and token state, shared quota, last calls and deposits,
recent admin activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template

from portail.admin import token_state
from portail.admin.common import EVENT_LABELS, SETTING_LABELS, extra_urls
from portail.admin.settings_views import missing_settings
from portail.apientreprise import budget, circuit
from portail.apientreprise.catalogue import BUCKET_DOCUMENTS, PROVIDER_LABELS, TOKENLESS_ROUTES
from portail.apientreprise.errors import KIND_LABELS
from portail.auth.guard import login_required
from portail.core import formats, settings_rules
from portail.core.formats import euros
from portail.storage import accounts, journal, settings
from portail.web.extensions import get_db, get_gateway

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index():
    """Feature state, token state, last API calls, deposits and recent admin activity."""
    db = get_db()
    current = settings.load(db)
    day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    quota = budget.snapshot(db)
    # Providers whose circuit is not closed: their calls are held back for a while.
    held_back = [
        (label, state)
        for provider, label in PROVIDER_LABELS.items()
        if (state := circuit.state(db, provider)) != circuit.CLOSED
    ]
    return render_template(
        "admin/dashboard.html",
        current=current,
        quota=quota,
        # What the portal really allows: its budget, lowered if the API announced less.
        budget_per_minute=budget.effective_limit(
            get_gateway().policy.budget_per_minute, quota["api_limit"]
        ),
        refused_last_day=journal.refused_since(db, day_ago),
        held_back=held_back,
        documents_quota=budget.snapshot(db, bucket=BUCKET_DOCUMENTS),
        kind_labels=KIND_LABELS,
        epoch_paris=_epoch_paris,
        token=token_state.token_state(current.token),
        url_label=settings_rules.url_label(current.api_url, extra_urls()),
        last_success=journal.last_success(db, TOKENLESS_ROUTES),
        last_failure=journal.last_failure(db, TOKENLESS_ROUTES),
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
        missing=missing_settings(current),
        paris=formats.paris_datetime,
        euros=euros,
    )


def _epoch_paris(epoch: float) -> str:
    return formats.paris_datetime(datetime.fromtimestamp(epoch, UTC))
