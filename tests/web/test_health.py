"""/healthz: database and API state, no secret."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

from portail.apientreprise import budget, circuit
from portail.storage import journal, settings
from tests.api_helpers import journal_row


def test_healthz_reports_database_and_api_state(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    api = body["api"]
    assert api["enabled"] is True and api["demo"] is True  # a first start is a demo
    assert api["circuit"] == "closed" and api["last_success"] is None


def test_healthz_shows_the_quota_and_a_block_after_a_429(client, db):
    quota = client.get("/healthz").get_json()["api"]["quota"]
    assert quota == {"used_last_minute": 0, "blocked_until": None}
    budget.try_acquire(db, per_minute=10)
    budget.block_until(db, time.time() + 120)
    quota = client.get("/healthz").get_json()["api"]["quota"]
    assert quota["used_last_minute"] == 1
    blocked = datetime.fromisoformat(quota["blocked_until"])
    assert 100 < (blocked - datetime.now(UTC)).total_seconds() <= 121


def test_healthz_holds_no_secret(client, db):
    current = settings.load(db)
    text = client.get("/healthz").get_data(as_text=True)
    assert current.token not in text
    assert current.token[-4:] not in text
    assert current.recipient_siret not in text


def test_healthz_shows_last_success_and_an_open_circuit(client, db):
    journal_row(db)
    policy = circuit.CircuitPolicy(threshold=1, cooldown=60)
    circuit.record_failure(db, "insee", policy, now=time.time())
    api = client.get("/healthz").get_json()["api"]
    assert api["last_success"] == journal.last_success(db)["at"]
    assert api["circuit"] == "open"


def test_healthz_says_when_the_database_fails(app, client, monkeypatch):
    def broken(_db):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(settings, "load", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


PUBLIC = {"REMOTE_ADDR": "203.0.113.9"}


def test_healthz_tells_the_public_only_ok_or_degraded(client, db):
    assert client.get("/healthz", environ_base=PUBLIC).get_json() == {"status": "ok"}
    budget.block_until(db, time.time() + 120)
    answer = client.get("/healthz", environ_base=PUBLIC)
    assert answer.status_code == 200 and answer.get_json() == {"status": "degraded"}


def test_healthz_details_never_go_through_a_proxy(client):
    forwarded = client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.get_json() == {"status": "ok"}


def test_healthz_public_answer_on_a_database_failure(client, monkeypatch):
    def broken(_db):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(settings, "load", broken)
    response = client.get("/healthz", environ_base=PUBLIC)
    assert response.status_code == 503 and response.get_json() == {"status": "degraded"}


def test_healthz_says_degraded_when_the_insee_circuit_is_open(client, db):
    circuit.record_failure(db, "insee", circuit.CircuitPolicy(threshold=1, cooldown=60))
    assert client.get("/healthz", environ_base=PUBLIC).get_json() == {"status": "degraded"}


def test_healthz_shows_every_providers_circuit_and_every_quota(client, db):
    # The attestations (DGFiP, Urssaf) and the name search have circuits and quotas of their
    # own: an operator must see them too, not only the prefill's.
    policy = circuit.CircuitPolicy(threshold=1, cooldown=60)
    circuit.record_failure(db, "urssaf", policy, now=time.time())
    budget.block_until(db, time.time() + 120, bucket="documents")
    api = client.get("/healthz").get_json()["api"]
    assert api["circuits"] == {
        "insee": "closed",
        "djepva": "closed",
        "dgfip": "closed",
        "urssaf": "open",
        "recherche_entreprises": "closed",
    }
    assert api["circuit"] == "closed"  # the prefill's own (INSEE) is unaffected
    assert set(api["quotas"]) == {"json", "documents", "search"}
    assert api["quotas"]["documents"]["blocked_until"] is not None
    assert api["quotas"]["json"]["blocked_until"] is None and api["quota"] == api["quotas"]["json"]
