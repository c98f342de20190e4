"""/healthz: database and API state, no secret."""

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness for operators and load balancers."""
    return jsonify({"status": "ok"})
