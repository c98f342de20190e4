"""/admin/journal: the API call journal (issue 4)."""

from flask import Blueprint

bp = Blueprint("journal", __name__, url_prefix="/admin")
