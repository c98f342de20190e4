"""The instruction area: actions on one deposit under /admin/demandes/<ref>/, for logged-in
agents only. Each child blueprint is one family of actions (certified data, attestations);
the deposit page itself (admin.deposits.detail) shows their results.

Instruction pages and documents are never stored by a cache nor brought back by the Back
button: they hold protected data.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from portail.instruction import attestations, verification

bp = Blueprint("instruction", __name__, url_prefix="/admin/demandes")
bp.register_blueprint(verification.bp)
bp.register_blueprint(attestations.bp)


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the instruction area."""
    app.register_blueprint(bp)
