"""The company search allows about 7 calls a second per address: the portal's search bucket
has a sliding second (6 by default) beside its sliding minute, shared by every connection,
so by every process, like the other budgets."""

from __future__ import annotations

import threading
import time

import pytest

from portail.apientreprise import budget, catalogue
from portail.apientreprise.policy import MAX_SEARCH_PER_SECOND, GatewayPolicy
from portail.storage import database as store
from tests.api_helpers import portal_on
from tests.fault_double import Reply


@pytest.fixture
def path(tmp_path):
    file = tmp_path / "portail.sqlite3"
    db = store.connect(file)
    store.migrate(db)
    db.conn.close()
    return file


def acquire(db, now, per_second=3):
    return budget.try_acquire(db, per_minute=300, bucket="search", now=now, per_second=per_second)


def test_no_sliding_second_holds_more_than_the_cap(path):
    db = store.connect(path)
    grants = [acquire(db, 1000 + i * 0.1) for i in range(4)]
    assert [g.granted for g in grants] == [True, True, True, False]
    assert grants[3].reason == "per_second" and grants[3].retry_at == pytest.approx(1001.0)
    assert not acquire(db, 1000.99).granted
    assert acquire(db, 1001.01).granted  # the first call is a second old
    assert not acquire(db, 1001.05).granted  # 1000.1, 1000.2 and 1001.01 still in the second
    # Another bucket is not counted, nor capped without per_second.
    assert budget.try_acquire(db, per_minute=300, now=1001.05, per_second=3).granted
    assert budget.try_acquire(db, per_minute=300, bucket="search", now=1001.06).granted


def test_connections_share_the_second(path):
    """Eight threads on their own connections (as processes would be): never over the cap."""
    granted = []
    lock = threading.Lock()
    start = threading.Barrier(8)
    now = time.time() + 100  # one frozen instant: every call falls in the same second

    def worker():
        db = store.connect(path)
        start.wait()
        for _ in range(5):
            if acquire(db, now, per_second=6).granted:
                with lock:
                    granted.append(1)
        db.conn.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 6


def test_the_policy_caps_the_search_only_and_never_above_six():
    policy = GatewayPolicy()
    assert policy.per_second_for(catalogue.route(catalogue.ROUTE_SEARCH)) == 6
    other = catalogue.route("/v4/insee/sirene/etablissements/diffusibles/{siret}")
    assert policy.per_second_for(other) is None
    assert GatewayPolicy.from_config({"RATE_BUDGET_SEARCH_PER_SECOND": 50}).search_per_second == (
        MAX_SEARCH_PER_SECOND
    )
    assert GatewayPolicy.from_config({"RATE_BUDGET_SEARCH_PER_SECOND": 2}).search_per_second == 2


def test_a_burst_of_searches_sends_at_most_six_in_any_second(tmp_path, double):
    app = portal_on(tmp_path, double.url, SEARCH_API_URL=double.url)
    double.on("/search", Reply(body={"results": [], "total_results": 0}))
    clients = [app.test_client() for _ in range(10)]
    for number, client in enumerate(clients):  # distinct addresses: no one's own share spent
        environ = {"REMOTE_ADDR": f"192.0.2.{number + 1}"}
        client.get(f"/demande/recherche?nom=burst+{number}", environ_base=environ)
    db = store.connect(app.config["DATABASE"])
    sent = sorted(row["at"] for row in db["rate_budget_calls"].rows_where("bucket = 'search'"))
    assert len(sent) == len(double.seen) == 10  # all sent: the later ones waited under a second
    for index, start in enumerate(sent):
        assert len([t for t in sent[index:] if t < start + 1.0]) <= 6
