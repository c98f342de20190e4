"""Logins that cannot be turned into a weapon (issue 10): an attacked admin still gets in
from a clean address, guessing stays capped however many addresses the attacker uses, and a
login that finds every hashing slot taken is answered at once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from portail.auth import hashing
from portail.storage import throttle
from tests.admin_helpers import PASSWORD, USERNAME, AuthActions, make_app
from tests.admin_helpers import page_text as text

WRONG = "pas le bon mot de passe"


class Clock:
    """A controllable UTC clock for the throttle."""

    def __init__(self):
        self.moment = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    def __call__(self):
        return self.moment

    def advance(self, **delta):
        self.moment += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(throttle, "now", fake)
    return fake


@pytest.fixture
def auth(app, client):
    actions = AuthActions(app, client)
    actions.create_admin()
    return actions


def attempts(auth, addresses, password=WRONG) -> dict[int, int]:
    """One login per address; how many of each status came back."""
    counts: dict[int, int] = {}
    for ip in addresses:
        status = auth.login(password=password, ip=ip).status_code
        counts[status] = counts.get(status, 0) + 1
    return counts


# -- no lock-out -------------------------------------------------------------------------


def test_an_attacked_admin_still_gets_in_from_an_address_that_has_not_failed(auth, clock):
    attacker = "203.0.113.66"
    for _ in range(4):  # failures, then retries at every end of delay: renewable for ever
        attempts(auth, [attacker] * 4)
        clock.advance(minutes=15)
    assert auth.login(password=WRONG, ip=attacker).status_code == 401
    # The attacker's own address is refused, even with the right password, unchecked.
    assert auth.login(ip=attacker).status_code == 429
    # The admin, from an address that has not failed, gets in at once.
    assert auth.login(ip="198.51.100.7").status_code == 303


def test_a_wrong_password_from_a_clean_address_during_an_attack_waits_the_accounts_delay(
    auth, clock
):
    attempts(auth, ["203.0.113.66"] * (throttle.ACCOUNT_FREE_FAILURES + 3))
    # The account is under attack: no free failure for a new address.
    response = auth.login(password=WRONG, ip="198.51.100.7")
    assert response.status_code == 401
    assert "prochaine tentative sera possible" in text(response)
    refused = auth.login(ip="198.51.100.7")
    assert refused.status_code == 429
    assert "depuis votre adresse" in text(refused)
    assert int(refused.headers["Retry-After"]) >= 5
    # A third address is still let in.
    assert auth.login(ip="198.51.100.8").status_code == 303


# -- guessing stays capped ---------------------------------------------------------------


def test_guessing_spread_over_many_addresses_gets_one_guess_per_address_and_delay(auth, clock):
    addresses = [f"198.18.0.{n + 1}" for n in range(20)]
    checked = 0
    for _ in range(5):  # every address tries five times in a row
        checked += attempts(auth, addresses).get(401, 0)
    # Without the account-wide counter each address would have had 3 free guesses (60).
    assert checked <= throttle.ACCOUNT_FREE_FAILURES + len(addresses)

    # An hour of one try per address every three minutes: delays soon reach 15 minutes.
    for _ in range(20):
        clock.advance(minutes=3)
        checked += attempts(auth, addresses).get(401, 0)
    hourly = timedelta(hours=1) // throttle.MAX_DELAY  # 4
    assert checked <= throttle.ACCOUNT_FREE_FAILURES + len(addresses) * (1 + hourly + 1)


def test_the_64_blocks_of_one_ipv6_network_share_a_small_allowance(auth, clock):
    blocks = [f"2001:db8:7:{n:x}::1" for n in range(40)]  # 40 /64s in one /48
    counts = attempts(auth, blocks)
    assert counts.get(401, 0) <= throttle.ACCOUNT_FREE_FAILURES + 1
    assert counts[429] >= len(blocks) - throttle.ACCOUNT_FREE_FAILURES - 1
    # Another network is let in with the right password.
    assert auth.login(ip="2001:db8:99::1").status_code == 303


# -- hashing slots -----------------------------------------------------------------------


def test_a_login_without_a_free_hashing_slot_is_answered_at_once_without_hashing(
    tmp_path,
):
    app = make_app(tmp_path, LOGIN_HASH_SLOTS=1, PASSWORD_SCRYPT_N=2**17)
    auth = AuthActions(app, app.test_client())
    auth.create_admin()
    slots = app.extensions[hashing.EXTENSION]
    with slots.slot("ip:192.0.2.200") as taken:  # another client's check in progress
        assert taken
        started = time.monotonic()
        response = auth.login(ip="192.0.2.1")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(hashing.RETRY_AFTER_SECONDS)
    assert "Trop de connexions en cours, réessayez dans quelques secondes" in text(response)
    assert auth.session_cookie() is None
    assert elapsed < 0.3  # a production-cost check takes ~0.4 s: none was made
    # Nothing counted against the admin, and the slot is free again.
    assert auth.login(ip="192.0.2.1").status_code == 303


def test_one_address_holds_one_hashing_slot_at_most(tmp_path):
    app = make_app(tmp_path, LOGIN_HASH_SLOTS=2)
    auth = AuthActions(app, app.test_client())
    auth.create_admin()
    with app.extensions[hashing.EXTENSION].slot("ip:192.0.2.1"):
        assert auth.login(ip="192.0.2.1").status_code == 503
        assert auth.login(ip="192.0.2.2").status_code == 303


def test_address_limits_are_checked_before_a_hashing_slot(auth, app, clock):
    attempts(auth, ["203.0.113.9"] * (throttle.ACCOUNT_FREE_FAILURES + 1))
    slots = app.extensions[hashing.EXTENSION]
    with slots.slot("ip:192.0.2.200"), slots.slot("ip:192.0.2.201"):
        assert auth.login(ip="203.0.113.9").status_code == 429  # not 503: no slot asked


def test_slots_default_to_one_or_two_and_are_per_app(tmp_path):
    first = make_app(tmp_path / "a")
    second = make_app(tmp_path / "b")
    assert first.extensions[hashing.EXTENSION] is not second.extensions[hashing.EXTENSION]
    assert first.extensions[hashing.EXTENSION].slots in (1, 2)
    with pytest.raises(ValueError):
        hashing.HashingSlots(0)


def test_a_success_forgives_only_the_admins_own_failures(auth, clock, db):
    attempts(auth, ["203.0.113.66"] * 2)
    attempts(auth, ["198.51.100.7"])
    assert auth.login(ip="198.51.100.7").status_code == 303
    rows = {row["key"]: row["failures"] for row in db.query("SELECT * FROM login_throttle")}
    assert rows[throttle.account_key(USERNAME)] == 2  # the attacker's two remain
    assert f"{throttle.account_key(USERNAME)}|ip:198.51.100.7" not in rows
    assert PASSWORD not in str(rows)
