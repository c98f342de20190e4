"""Admin pages (issue 3): dashboard, settings, deposits, journal."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
