"""Two portal processes sharing one database: together they never exceed the budget, and a
429 seen by one stops both until Retry-After."""

from __future__ import annotations

import multiprocessing
import time

from portail.apientreprise.gateway import Gateway
from portail.apientreprise.policy import GatewayPolicy
from portail.applicant.prefill import lookup_public_tiers
from portail.core.settings_rules import Settings
from portail.core.tokens import mint_token
from portail.storage import database
from portail.storage import database as worker_store
from tests.fault_double import FaultDouble, Reply

RECIPIENT = "21999001700010"
ETAB = "/v4/insee/sirene/etablissements/diffusibles/"


def _worker(db_path, api_url, token, name, attempts, budget, duration, results):
    """One 'server process': lookups of distinct SIRETs as fast as it can."""

    db = worker_store.connect(db_path)
    conf = Settings(True, RECIPIENT, token, "Aides publiques", api_url)
    policy = GatewayPolicy(
        timeout=1.0, budget_per_minute=budget, budget_max_wait=0.2, cache_seconds=0
    )
    gateway = Gateway(policy)
    seen = []
    deadline = time.time() + duration
    number = 0
    while number < attempts and time.time() < deadline:
        siret = f"{name}{number:012d}"
        outcome = lookup_public_tiers(gateway, db, conf, siret, object_=f"process {name}")
        seen.append((time.time(), outcome.error_kind or "ok"))
        number += 1
        time.sleep(0.01)
    results.put((name, seen))


def _run_two(tmp_path, api_url, *, attempts, budget, duration):
    db_path = str(tmp_path / "shared.sqlite3")
    database.migrate(database.connect(db_path))

    token = mint_token(["open_data"])
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(db_path, api_url, token, name, attempts, budget, duration, results),
        )
        for name in ("10", "20")
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(10)
        assert process.exitcode == 0
    return outcomes


def test_two_processes_never_exceed_the_shared_budget(tmp_path):
    with FaultDouble() as api:
        outcomes = _run_two(tmp_path, api.url, attempts=40, budget=20, duration=20)
        times = sorted(seen.at for seen in api.seen)
    # Every call the double received falls in one minute here: the budget is the ceiling.
    assert times[-1] - times[0] < 60
    assert len(times) == 20
    for name in ("10", "20"):
        kinds = [kind for _, kind in outcomes[name]]
        assert "budget_spent" in kinds
    ok = sum(kind == "ok" for seen in outcomes.values() for _, kind in seen)
    assert ok == 20


def test_a_429_stops_both_processes_until_retry_after(tmp_path):
    retry_after = 2.0
    with FaultDouble() as api:
        # Let both processes warm up, then answer 429 once.
        api.on(ETAB, *[Reply()] * 6, Reply(429, b"", headers={"Retry-After": "2"}), Reply())
        outcomes = _run_two(tmp_path, api.url, attempts=10_000, budget=200, duration=4.5)
        seen = list(api.seen)
    first_429 = seen[6].at
    # Calls already admitted when the 429 came back may still land a few ms later.
    during = [s for s in seen if first_429 + 0.25 < s.at < first_429 + retry_after - 0.05]
    assert during == []
    after = {s.query["object"] for s in seen if s.at >= first_429 + retry_after}
    assert after == {"process 10", "process 20"}
    for name in ("10", "20"):
        blocked = [
            t
            for t, kind in outcomes[name]
            if kind in ("budget_spent", "rate_limited") and t < first_429 + retry_after
        ]
        assert blocked, f"process {name} was never stopped"
