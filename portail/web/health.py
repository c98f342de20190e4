"""/healthz: database and API state for operators and load balancers, with no secret.

Reports whether the feature is on, whether the portal runs on its demonstration sandbox,
each provider's circuit breaker, the time of the last successful API Entreprise call and the
shared quotas of each bucket (calls in the last minute, and until when calls are suspended
after a 429). Never the
token, the recipient SIRET or any answer. Cheap by design (a few indexed reads): monitoring
may poll it often.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

from flask import Blueprint, jsonify, request

from portail.apientreprise import budget, circuit
from portail.apientreprise.catalogue import (
    BUCKET_DOCUMENTS,
    BUCKET_JSON,
    BUCKET_SEARCH,
    PROVIDER_INSEE,
    PROVIDER_LABELS,
    TOKENLESS_ROUTES,
)
from portail.core.netaddr import is_loopback_host
from portail.storage import journal, settings
from portail.web.extensions import get_db

bp = Blueprint("health", __name__)

# Every provider the portal calls has its own circuit; every family of routes its own quota.
PROVIDERS = tuple(PROVIDER_LABELS)
BUCKETS = (BUCKET_JSON, BUCKET_DOCUMENTS, BUCKET_SEARCH)


logger = logging.getLogger(__name__)


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


def _may_see_details() -> bool:
    """Details (demonstration mode, circuits, quota) are for monitoring on the server itself:
    a request from the loopback that no proxy forwarded. Anyone else learns ok or degraded;
    admins read the details on their dashboard."""
    return is_loopback_host(request.remote_addr) and "X-Forwarded-For" not in request.headers


def _quota(state: dict) -> dict:
    return {
        "used_last_minute": state["used_last_minute"],
        "blocked_until": _iso(state["blocked_until"]),
    }


def _public(status: str, code: int = 200):
    response = jsonify({"status": status})
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """JSON health report; 503 when the database cannot be read. Outside the server itself
    it says only "ok" or "degraded"."""
    details = _may_see_details()
    try:
        db = get_db()
        current = settings.load(db)
        circuits = {provider: circuit.state(db, provider) for provider in PROVIDERS}
        success = journal.last_success(db, TOKENLESS_ROUTES)
        quotas = {bucket: budget.snapshot(db, bucket=bucket) for bucket in BUCKETS}
        quota = quotas[BUCKET_JSON]
    except sqlite3.Error as error:
        logger.error("healthz: database unavailable (%s)", type(error).__name__)
        if not details:
            return _public("degraded", 503)
        response = jsonify({"status": "error", "database": "error"})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    if not details:
        healthy = circuits[PROVIDER_INSEE] != "open" and not quota["blocked_until"]
        return _public("ok" if healthy else "degraded")
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
                "quota": _quota(quota),
                # The attestations (documents) and the name search count apart.
                "quotas": {bucket: _quota(state) for bucket, state in quotas.items()},
            },
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
