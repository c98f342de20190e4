"""Issue 10: a per-address limit on filing (FILING_LIMIT_PER_MINUTE, FILING_LIMIT_PER_DAY),
shared by every process through SQLite, answered by a 429 page that keeps what was typed."""

from __future__ import annotations

import html
import multiprocessing
import re

import pytest

from portail.core.netaddr import client_keys
from portail.storage import database, filing_limits
from portail.storage import database as worker_store
from portail.storage.filing_limits import DAY, FilingLimits
from tests.applicant.htmx_helpers import complete_form, csrf_token
from tests.applicant.test_receipt_expiry import PERSONAL


def file(client, address="192.0.2.10", **overrides):
    data = complete_form(csrf_token(client), **overrides)
    return client.post("/demande", data=data, environ_base={"REMOTE_ADDR": address})


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_few_filings_a_minute_then_429_with_every_typed_value_kept(client, db):
    for _ in range(3):  # the default: 3 a minute
        assert file(client).status_code == 303
    refused = file(client, prefill_snapshot="kept-as-sent")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Cache-Control"] == "no-store"
    page = text(refused)
    assert "n'a pas encore été déposée" in page and "Vos informations sont conservées" in page
    assert re.search(r"dans (1 seconde|\d+ secondes|1 minute|\d+ minutes)\b", page)
    for value in (*PERSONAL, "732 829 320 00074", "Les Jardins Partagés"):
        assert value in page, value
    assert 'name="prefill_snapshot" value="kept-as-sent"' in page
    assert re.search(r'id="f-consentement"[^>]*checked', page)
    assert db["deposits"].count == 3
    # Another address files as usual; an invalid form is a 422, not counted.
    assert file(client, address="192.0.2.11").status_code == 303
    assert file(client, address="192.0.2.12", email="non").status_code == 422
    assert db["deposits"].count == 4


def test_ipv6_addresses_count_per_64(client, db):
    for host in ("1", "2", "3"):
        assert file(client, address=f"2001:db8:1:1::{host}").status_code == 303
    assert file(client, address="2001:db8:1:1::ffff").status_code == 429  # same /64
    assert file(client, address="2001:db8:1:2::1").status_code == 303  # the next /64


def test_limits_are_configurable_and_zero_means_none(app, client, db):
    app.config.update(FILING_LIMIT_PER_MINUTE=0, FILING_LIMIT_PER_DAY=0)
    for _ in range(6):
        assert file(client).status_code == 303
    # Without limits nothing is counted: the day's count starts when one is set.
    app.config.update(FILING_LIMIT_PER_MINUTE=0, FILING_LIMIT_PER_DAY=2)
    assert file(client).status_code == 303
    assert file(client).status_code == 303
    refused = file(client)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 23 * 3600  # a day's window
    assert re.search(r"dans \d+ heures", text(refused))


# -- the shared table ---------------------------------------------------------------------


V4 = client_keys("192.0.2.1")


def test_the_minute_and_the_day_windows_slide(database):
    limits = FilingLimits(per_minute=2, per_day=3)
    t0 = 1_000_000.0
    assert filing_limits.admit(database, V4, limits, now=t0) is None
    assert filing_limits.admit(database, V4, limits, now=t0 + 1) is None
    assert filing_limits.admit(database, V4, limits, now=t0 + 2) == pytest.approx(58)
    assert filing_limits.admit(database, V4, limits, now=t0 + 61) is None  # 3rd of the day
    assert filing_limits.admit(database, V4, limits, now=t0 + 200) == pytest.approx(DAY - 200)
    assert filing_limits.admit(database, V4, limits, now=t0 + DAY + 1) is None
    # Refusals are not counted, and rows older than a day are purged on the way.
    rows = database.execute("SELECT count(*) FROM filing_attempts").fetchone()[0]
    assert rows == 2


def test_an_ipv6_48_has_a_wider_cap_of_its_own(database):
    limits = FilingLimits(per_minute=1, per_day=0, network_factor=3)
    t0 = 2_000_000.0
    for subnet in range(3):
        keys = client_keys(f"2001:db8:0:{subnet}::1")
        assert filing_limits.admit(database, keys, limits, now=t0) is None
    assert filing_limits.admit(database, client_keys("2001:db8:0:9::1"), limits, now=t0)
    assert filing_limits.admit(database, client_keys("2001:db9::1"), limits, now=t0) is None


def test_a_lowered_cap_waits_for_enough_filings_to_expire(database):
    t0 = 3_000_000.0
    for second in range(5):
        filing_limits.admit(database, V4, FilingLimits(5, 0), now=t0 + second)
    # Now 2 a minute: the 4th oldest filing (t0 + 3) must leave the window first.
    wait = filing_limits.admit(database, V4, FilingLimits(2, 0), now=t0 + 10)
    assert wait == pytest.approx(53)


def _filer(db_path, attempts, results):
    """One 'server process' filing as fast as it can from the same address."""
    db = worker_store.connect(db_path)
    limits = FilingLimits(per_minute=5, per_day=0)
    admitted = sum(
        filing_limits.admit(db, client_keys("198.51.100.7"), limits) is None
        for _ in range(attempts)
    )
    results.put(admitted)


def test_processes_share_the_limit(tmp_path):
    db_path = str(tmp_path / "shared.sqlite3")
    database.migrate(database.connect(db_path))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_filer, args=(db_path, 20, results)) for _ in range(2)]
    for process in processes:
        process.start()
    admitted = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(10)
        assert process.exitcode == 0
    assert sum(admitted) == 5
