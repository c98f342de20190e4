"""The shared rate budget: a sliding window below the API's limit, fed by its headers,
blocked after a 429, atomic across connections, never sleeping more than about a second."""

from __future__ import annotations

import random
import threading
import time

import pytest

from portail.apientreprise import answer, budget
from portail.apientreprise.answer import RateLimitInfo
from portail.storage import database as store


@pytest.fixture
def path(tmp_path):
    """A migrated database file."""
    file = tmp_path / "portail.sqlite3"
    db = store.connect(file)
    store.migrate(db)
    db.conn.close()
    return file


@pytest.fixture
def database(path):
    """A connection to it."""
    db = store.connect(path)
    yield db
    db.conn.close()


def test_budget_is_a_sliding_minute(database):
    grants = [budget.try_acquire(database, per_minute=3, now=1000 + i) for i in range(4)]
    assert [g.granted for g in grants] == [True, True, True, False]
    assert grants[3].retry_at == 1060 and grants[3].reason == "budget"
    assert not budget.try_acquire(database, per_minute=3, now=1059.9).granted
    assert budget.try_acquire(database, per_minute=3, now=1060.01).granted


def test_no_sixty_second_span_ever_exceeds_the_budget(database):
    clock = 10_000.0
    sent = []
    randomness = random.Random(4)
    for _ in range(600):
        clock += randomness.expovariate(1 / 0.4)  # bursts and lulls, ~150 attempts a minute
        if budget.try_acquire(database, per_minute=20, now=clock).granted:
            sent.append(clock)
    assert len(sent) > 60
    for index, start in enumerate(sent):
        in_span = [t for t in sent[index:] if t < start + 60]
        assert len(in_span) <= 20


def test_a_429_blocks_every_caller_until_retry_after(database, path):
    now = time.time()
    budget.block_until(database, now + 30)
    other_process_connection = store.connect(path)
    refused = budget.try_acquire(other_process_connection, per_minute=200, now=now + 1)
    assert not refused.granted and refused.reason == "rate_limited"
    assert refused.retry_at == pytest.approx(now + 30)
    assert budget.try_acquire(other_process_connection, per_minute=200, now=now + 31).granted


def test_a_shorter_block_never_shortens_a_longer_one(database):
    now = time.time()
    budget.block_until(database, now + 30)
    budget.block_until(database, now + 5)
    assert budget.snapshot(database)["blocked_until"] == pytest.approx(now + 30)


def test_api_remaining_stops_calls_before_a_429(database):
    now = time.time()
    budget.record_rate_headers(database, RateLimitInfo(250, 6, now + 20), now=now)
    assert budget.try_acquire(database, per_minute=200, now=now).granted  # 6 -> 5
    refused = budget.try_acquire(database, per_minute=200, now=now)
    assert not refused.granted and refused.reason == "api_remaining"
    assert refused.retry_at == pytest.approx(now + 20)
    assert budget.try_acquire(database, per_minute=200, now=now + 21).granted


def test_late_answers_of_a_window_keep_the_lowest_remaining(database):
    now = time.time()
    budget.record_rate_headers(database, RateLimitInfo(250, 3, now + 20), now=now)
    budget.record_rate_headers(database, RateLimitInfo(250, 90, now + 20), now=now)
    assert budget.snapshot(database)["api_remaining"] == 3
    budget.record_rate_headers(database, RateLimitInfo(250, 240, now + 80), now=now)
    assert budget.snapshot(database)["api_remaining"] == 240
    budget.record_rate_headers(database, RateLimitInfo(250, 1, now + 20), now=now)
    assert budget.snapshot(database)["api_remaining"] == 240  # older window: ignored


def test_a_smaller_token_limit_lowers_the_budget():
    assert budget.effective_limit(200, 250) == 200
    assert budget.effective_limit(200, 50) == 45
    assert budget.effective_limit(200, None) == 200


def test_acquire_waits_only_when_a_slot_frees_within_a_second(database):
    budget.block_until(database, time.time() + 0.3)
    started = time.monotonic()
    assert budget.acquire(database, per_minute=200, max_wait=1.0).granted
    assert 0.25 < time.monotonic() - started < 1.0

    budget.block_until(database, time.time() + 30)
    started = time.monotonic()
    assert not budget.acquire(database, per_minute=200, max_wait=1.0).granted
    assert time.monotonic() - started < 0.1


def test_threads_on_separate_connections_never_overspend(path):
    granted = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker():
        db = store.connect(path)
        start.wait()
        for _ in range(20):
            if budget.try_acquire(db, per_minute=30).granted:
                with lock:
                    granted.append(1)
        db.conn.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 30


def test_the_budget_leaves_the_connection_fully_synchronous(database):
    # The budget's own commit skips the fsync; the request's other writes must not.
    assert database.execute("PRAGMA synchronous").fetchone()[0] == 2
    budget.try_acquire(database, per_minute=10)
    assert database.execute("PRAGMA synchronous").fetchone()[0] == 2


@pytest.mark.parametrize("reset", ["9999999999", str(int(1e12)), str(int(time.time() * 1000))])
def test_a_nonsensical_rate_limit_reset_blocks_for_a_minute_at_most(database, reset):
    # RateLimit-Reset ends the current one-minute window: a date in 2286 or milliseconds
    # taken for seconds must not stop the prefill for centuries.
    now = time.time()
    headers = {"RateLimit-Limit": "250", "RateLimit-Remaining": "0", "RateLimit-Reset": reset}
    info = answer.rate_limit_info(headers, now)
    assert info.reset_at <= now + 60
    budget.record_rate_headers(database, info, now=now)
    refused = budget.try_acquire(database, per_minute=200, now=now + 1)
    assert not refused.granted and refused.retry_after(now + 1) <= 59
    assert budget.try_acquire(database, per_minute=200, now=now + 61).granted
    assert answer.retry_after_seconds(headers, now) <= 60
