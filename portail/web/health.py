"""/healthz: database and API state for operators and load balancers, with no secret.

Reports whether the feature is on, whether the portal runs on its demonstration sandbox,
the circuit breaker's state, the time of the last successful API call and the shared
quota (calls in the last minute, and until when calls are suspended after a 429). Never the
token, the recipient SIRET or any answer. Cheap by design (a few indexed reads): monitoring
may poll it often.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

from flask import Blueprint, jsonify

from portail.apientreprise import budget, circuit
from portail.apientreprise.catalogue import PROVIDER_DJEPVA, PROVIDER_INSEE
from portail.storage import journal, settings
from portail.web.extensions import get_db

bp = Blueprint("health", __name__)


logger = logging.getLogger(__name__)


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


@bp.get("/healthz")
def healthz():
    """JSON health report; 503 when the database cannot be read."""
    try:
        db = get_db()
        current = settings.load(db)
        circuits = {
            PROVIDER_INSEE: circuit.state(db, PROVIDER_INSEE),
            PROVIDER_DJEPVA: circuit.state(db, PROVIDER_DJEPVA),
        }
        success = journal.last_success(db)
        quota = budget.snapshot(db)
    except sqlite3.Error as error:
        logger.error("healthz: database unavailable (%s)", type(error).__name__)
        response = jsonify({"status": "error", "database": "error"})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    response = jsonify(
        {
            "status": "ok",
            "database": "ok",
            "api": {
                "enabled": current.enabled,
                # Switch on and settings complete: applicants actually get the prefill.
                "available": current.prefill_available,
                "demo": current.demo,
                # The prefill depends on INSEE; the association provider only completes it.
                "circuit": circuits[PROVIDER_INSEE],
                "circuits": circuits,
                "last_success": success["at"] if success else None,
                # After a 429 every worker stops until Retry-After: monitoring should see it.
                "quota": {
                    "used_last_minute": quota["used_last_minute"],
                    "blocked_until": _iso(quota["blocked_until"]),
                },
            },
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
