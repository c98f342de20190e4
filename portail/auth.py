"""Admin authentication (issue 3): login, logout, server-side sessions, login_required."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/admin")


def init_app(app, demo_seeded: bool = False) -> None:
    """Register CLI commands; on a fresh demonstration database, create the demo admin."""
