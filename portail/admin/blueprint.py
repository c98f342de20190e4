"""The admin area: one parent blueprint under /admin, a child blueprint per page family.

Every page but the public token guide requires a logged-in admin (`login_required` on each
view). Admin pages are never stored by a cache nor brought back by the Back button.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from portail.admin import (
    cli,
    dashboard,
    deposit_views,
    journal_views,
    settings_views,
    token_state,
)
from portail.storage import settings
from portail.web.extensions import get_db

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.register_blueprint(dashboard.bp)
bp.register_blueprint(settings_views.bp)
bp.register_blueprint(deposit_views.bp)
bp.register_blueprint(journal_views.bp)


@bp.after_request
def _no_store(response):
    # Admin pages must not stay in a shared cache or come back with the Back button.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the admin area, its CLI commands, and `admin_banner()` for every template
    (admin pages show it in their layout)."""
    app.register_blueprint(bp)
    cli.init_app(app)

    @app.context_processor
    def admin_banner_context():
        def admin_banner():
            db = get_db()
            return token_state.banner(db, settings.load(db))

        return {"admin_banner": admin_banner}
