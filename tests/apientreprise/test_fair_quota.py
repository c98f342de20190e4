"""Fair use of the API budget: part of each minute is kept for light clients, so that ten
hostile addresses hammering distinct SIRETs cannot leave a newcomer without prefill (issue
10, H9). Heavy clients still get the rest; agents (no client key) are never held back."""

from __future__ import annotations

import threading

import pytest

from portail.apientreprise import budget
from portail.apientreprise.policy import GatewayPolicy
from tests.api_helpers import portal_on, valid_siret

ETAB = "/v4/insee/sirene/etablissements/diffusibles/"
HTMX = {"HX-Request": "true", "HX-Target": "tiers-block"}
NOW = 1_800_000_000.0
RESERVE = budget.Reserve(percent=25, light_calls=5, light_network_calls=15)


def _take(db, client, *, reserve=RESERVE, network=None, offset=0.0, per_minute=200):
    return budget.try_acquire(
        db,
        per_minute=per_minute,
        client=client,
        per_client=20,
        network=network,
        per_network=60 if network else None,
        reserve=reserve,
        now=NOW + offset,
    )


# -- the budget itself ---------------------------------------------------------------------


def test_ten_heavy_clients_leave_the_reserve_to_newcomers(database):
    granted = {f"ip:203.0.113.{n}": 0 for n in range(10)}
    for _round in range(40):
        for client in granted:
            granted[client] += _take(database, client).granted
    # 200 calls a minute, 50 kept: the ten together get 150, whatever they try.
    assert sum(granted.values()) == 150
    newcomers = [_take(database, f"ip:198.51.100.{n}").granted for n in range(50)]
    assert newcomers == [True] * 50
    assert not _take(database, "ip:198.51.100.200").granted  # the whole budget is spent


def test_without_a_reserve_the_same_heavy_clients_take_everything(database):
    off = budget.Reserve()
    for _round in range(40):
        for n in range(10):
            _take(database, f"ip:203.0.113.{n}", reserve=off)
    refused = _take(database, "ip:198.51.100.1", reserve=off)
    assert not refused.granted and refused.reason == "budget"


def test_a_heavy_client_is_told_when_the_window_frees_below_the_reserve(database):
    for index in range(150):
        assert _take(database, f"ip:192.0.2.{index % 30}", offset=index * 0.1).granted
    refused = _take(database, "ip:192.0.2.0", offset=20)  # 5 calls already: heavy
    assert not refused.granted and refused.reason == "client_reserve"
    # Free again when the oldest call ages out and the window holds 149 calls.
    assert refused.retry_at == NOW + budget.WINDOW_SECONDS
    assert _take(database, "ip:192.0.2.0", offset=60.05).granted
    # A light client still passes meanwhile, and so does an agent (no client key).
    assert _take(database, "ip:192.0.2.250", offset=21).granted
    assert _take(database, None, offset=21).granted


def test_hopping_64s_of_one_48_makes_the_network_heavy(database):
    for block in range(15):
        client = f"ip:2001:db8:aa:{block:x}::/64"
        assert _take(database, client, network="net:2001:db8:aa::/48").granted
    for index in range(135):
        assert _take(database, f"ip:192.0.2.{index % 30}").granted
    refused = _take(database, "ip:2001:db8:aa:ff::/64", network="net:2001:db8:aa::/48")
    assert not refused.granted and refused.reason == "network_reserve"


def test_the_reserve_follows_the_api_limit_and_never_takes_the_whole_budget():
    assert RESERVE.calls(200) == 50
    assert RESERVE.calls(7) == 2  # rounded up
    assert RESERVE.calls(1) == 0
    assert budget.Reserve(percent=25, light_calls=0).calls(200) == 0


def test_the_policy_reads_and_bounds_the_reserve_keys():
    policy = GatewayPolicy.from_config(
        {"RATE_BUDGET_LIGHT_RESERVE_PERCENT": "40", "RATE_BUDGET_LIGHT_CLIENT_CALLS": 3}
    )
    assert (policy.light_reserve_percent, policy.light_client_calls) == (40, 3)
    assert GatewayPolicy(light_reserve_percent=100).light_reserve_percent == 90
    assert GatewayPolicy().reserve == RESERVE  # 25 %, heavy past 5 calls (a /48: past 15)


# -- through the real app: ten hostile addresses, ten newcomers ----------------------------


def _flood(app, applicants_at: tuple[float, ...]) -> tuple[list[str], int]:
    """Ten hostile addresses look up 40 distinct SIRETs each, concurrently; newcomers (one
    lookup each, from fresh addresses) come when the flood has done the given fractions of
    its work, then after it. Returns the newcomers' pages and the hostile successes."""
    hostile_total = 10 * 40
    done = 0
    hostile_ok = 0
    progress = threading.Condition()

    def hostile(index: int) -> None:
        nonlocal done, hostile_ok
        client = app.test_client()
        forwarded = {**HTMX, "X-Forwarded-For": f"203.0.113.{index + 1}"}
        for number in range(40):
            siret = valid_siret(index * 100 + number, series=61)
            page = client.get(f"/demande/tiers?siret={siret}", headers=forwarded)
            with progress:
                done += 1
                hostile_ok += "DOUBLE DE TEST" in page.get_data(as_text=True)
                progress.notify_all()

    threads = [threading.Thread(target=hostile, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    pages = []
    newcomer = app.test_client()
    for number, fraction in enumerate(applicants_at):
        with progress:
            progress.wait_for(lambda f=fraction: done >= f * hostile_total, timeout=60)
        if fraction >= 1.0:
            for thread in threads:
                thread.join()
        siret = valid_siret(number, series=62)
        # Half of them arrive by a bookmark or a link (the whole page), half through htmx.
        headers = {"X-Forwarded-For": f"198.51.100.{number + 1}"}
        if number % 2:
            headers.update(HTMX)
        response = newcomer.get(f"/demande/tiers?siret={siret}", headers=headers)
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))
    for thread in threads:
        thread.join()
    return pages, hostile_ok


# Three newcomers during the flood, seven after it, within the same minute.
ARRIVALS = (0.3, 0.6, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


@pytest.mark.parametrize("reserve_percent", [None, 0])
def test_a_new_applicant_still_gets_the_prefill_under_ten_hostile_addresses(
    tmp_path, double, reserve_percent
):
    config = {"TRUSTED_PROXIES": 1, "LOOKUP_CACHE_SECONDS": 0, "LOOKUP_NEGATIVE_CACHE_SECONDS": 0}
    if reserve_percent is not None:
        config["RATE_BUDGET_LIGHT_RESERVE_PERCENT"] = reserve_percent
    app = portal_on(tmp_path, double.url, **config)  # the defaults: 200/min, 20 per client

    pages, hostile_ok = _flood(app, ARRIVALS)

    prefilled = sum("DOUBLE DE TEST" in page for page in pages)
    assert double.count(ETAB) <= 200  # the budget itself holds
    if reserve_percent is None:
        assert prefilled >= 9, f"only {prefilled} newcomers out of 10 got the prefill"
        # Heavy addresses still get most of the minute, never all of it: past its first
        # five calls, an address never takes a call out of the last 50.
        assert 100 <= hostile_ok < 200
    else:
        # Without the reserve: the flood spends the minute and newcomers read "saturé".
        assert hostile_ok >= 190
        assert prefilled <= 3
        assert any("saturé" in page or "sollicité" in page for page in pages)
