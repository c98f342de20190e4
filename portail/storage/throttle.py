"""Login throttling that cannot be turned into a lock-out: counters per address, per account
from an address, and per account overall, with growing delays.

Anyone can type an admin's username. If failures made the *account* refuse every attempt,
four wrong passwords from any address would shut the real admin out, renewably forever. So
the counters (table `login_throttle`, shared by every process through SQLite) are:

- `ip:<address>` (IPv4, or IPv6 per /64), whatever the account: IP_FREE_FAILURES free
  failures, then growing delays. One address cannot try many accounts.
- `account:<name>|ip:<address>`, one account from one address: ACCOUNT_FREE_FAILURES free
  failures, then growing delays. For IPv6, also `account:<name>|net:<the /48>` with
  NETWORK_SHARE_FACTOR times as many. These pair counters are the only ones that refuse an
  attempt on an account, even with the right password: the addresses that failed wait, the
  admin logging in from an address that has not failed is let in.
- `account:<name>`, one account from every address. It refuses nothing: it only slows wrong
  attempts. Past ACCOUNT_FREE_FAILURES failures the account is under attack, and an address
  (a /48: its NETWORK_SHARE_FACTOR) has no free failure left on that account: its first wrong
  password makes it wait the account's own delay, which grows with the account's total
  failures (5 s doubling to 15 min). An attacker spreading over many addresses thus gets one
  guess per address and per account delay, whereas the admin's clean address stays open.

A refused attempt is answered at once (no password check, no sleeping request thread); the
login page says when to try again. The attempts that reach the password check are further
bounded per process by the login page's hashing slots (portail/auth/hashing.py). There is no
permanent lock-out. A success clears the address's counters and forgives the account the
failures made from that address (the admin's own typos); counters left without a failure
for a day are forgotten.

Behind a reverse proxy not declared in TRUSTED_PROXIES every request has the proxy's
address: the per-address counter then throttles everyone, which is why it allows more free
failures than the per-account ones.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from portail.core import netaddr
from portail.storage.database import immediate

ACCOUNT_FREE_FAILURES = 3


IP_FREE_FAILURES = 10


# An IPv6 /48 holds many /64s: it gets this many times a single address's allowance.
NETWORK_SHARE_FACTOR = netaddr.NETWORK_SHARE_FACTOR


BASE_DELAY = timedelta(seconds=5)


MAX_DELAY = timedelta(minutes=15)


FORGET_AFTER = timedelta(days=1)


USERNAME_KEY_LENGTH = 64


def now() -> datetime:
    """Current UTC time (tests replace this to move the clock)."""
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def account_key(username: str | None) -> str:
    """Throttle key for a typed username (known or not, so both behave the same)."""
    name = unicodedata.normalize("NFC", (username or "").strip()).casefold()
    return f"account:{name[:USERNAME_KEY_LENGTH]}"


@dataclass(frozen=True)
class PairKey:
    """One account seen from one address (or IPv6 network), with its allowances."""

    key: str
    free: int  # free failures while the account is not under attack
    attack_free: int  # free failures once it is


@dataclass(frozen=True)
class LoginKeys:
    """The counters one login attempt touches."""

    address: str
    account: str
    pairs: tuple[PairKey, ...]

    def refusing(self) -> list[str]:
        """The keys that may refuse an attempt (never the account's own)."""
        return [self.address, *(pair.key for pair in self.pairs)]


def login_keys(username: str | None, remote_addr: str | None) -> LoginKeys:
    """The throttle keys of a login attempt with this typed username from this address."""
    account = account_key(username)
    client = netaddr.client_keys(remote_addr)
    pairs = [PairKey(f"{account}|{client.client}", ACCOUNT_FREE_FAILURES, 0)]
    if client.network:
        pairs.append(
            PairKey(
                f"{account}|{client.network}",
                ACCOUNT_FREE_FAILURES * NETWORK_SHARE_FACTOR,
                NETWORK_SHARE_FACTOR,
            )
        )
    return LoginKeys(address=client.client, account=account, pairs=tuple(pairs))


def delay_after(failures: int, free: int) -> timedelta:
    """Wait imposed after `failures` consecutive failures: none, then 5 s, 10 s, 20 s..."""
    if failures <= free:
        return timedelta(0)
    exponent = min(failures - free - 1, 20)  # 2**20 * 5 s is far beyond the ceiling
    return min(BASE_DELAY * (2**exponent), MAX_DELAY)


def blocked_until(db: sqlite_utils.Database, keys: list[str]) -> datetime | None:
    """The latest future `blocked_until` among these keys, or None.

    For an account's own key this is how long its wrong attempts are slowed (the account is
    under attack until then); it refuses nobody by itself.
    """
    moment = now()
    latest = None
    placeholders = ",".join("?" for _ in keys)
    rows = db.query(
        # Bandit B608: only "?" placeholders are formatted in; the keys are bound.
        f"SELECT blocked_until FROM login_throttle WHERE key IN ({placeholders})",  # noqa: S608  # nosec B608
        keys,
    )
    for row in rows:
        until = datetime.fromisoformat(row["blocked_until"]) if row["blocked_until"] else None
        if until and until > moment and (latest is None or until > latest):
            latest = until
    return latest


def refused_until(db: sqlite_utils.Database, keys: LoginKeys) -> datetime | None:
    """The time before which this attempt is refused without checking the password, or None.

    Only the address's counters count: the account's own counter never refuses, so an
    address that has not failed can always try (and the admin get in) during an attack.
    """
    return blocked_until(db, keys.refusing())


def _failures(db: sqlite_utils.Database, key: str) -> int:
    rows = list(db.query("SELECT failures FROM login_throttle WHERE key = ?", [key]))
    return rows[0]["failures"] if rows else 0


def _store(db: sqlite_utils.Database, key: str, failures: int, moment, delay) -> datetime:
    # Round up to whole seconds: the stored time has one-second precision.
    until = moment + timedelta(seconds=math.ceil(delay.total_seconds()))
    db["login_throttle"].upsert(
        {
            "key": key,
            "failures": failures,
            "last_failure_at": _iso(moment),
            "blocked_until": _iso(until) if delay else None,
        },
        pk="key",
    )
    return until


def record_failure(db: sqlite_utils.Database, keys: LoginKeys) -> datetime | None:
    """Count a failure; return the time before which this address's next try is refused."""
    moment = now()
    refused = []
    with immediate(db):
        # Forget stale counters here so the table cannot grow with invented usernames.
        db.execute(
            "DELETE FROM login_throttle WHERE last_failure_at < ?", [_iso(moment - FORGET_AFTER)]
        )
        failures = _failures(db, keys.address) + 1
        delay = delay_after(failures, IP_FREE_FAILURES)
        until = _store(db, keys.address, failures, moment, delay)
        if delay:
            refused.append(until)

        account_failures = _failures(db, keys.account) + 1
        account_delay = delay_after(account_failures, ACCOUNT_FREE_FAILURES)
        _store(db, keys.account, account_failures, moment, account_delay)

        for pair in keys.pairs:
            failures = _failures(db, pair.key) + 1
            delay = delay_after(failures, pair.free)
            if account_delay and failures > pair.attack_free:
                # Under attack: this address has used its share; it waits the account's delay.
                delay = max(delay, account_delay)
            until = _store(db, pair.key, failures, moment, delay)
            if delay:
                refused.append(until)
    return max(refused, default=None)


def record_success(db: sqlite_utils.Database, keys: LoginKeys) -> None:
    """Clear this address's counters; the account keeps the failures of other addresses."""
    with immediate(db):
        # The failures this address made were the admin's own typos: forgiven. Those made
        # from elsewhere remain, so an attack in progress stays slowed.
        own = _failures(db, keys.pairs[0].key)
        db.execute(
            "UPDATE login_throttle SET failures = failures - ? WHERE key = ?", [own, keys.account]
        )
        db.execute("DELETE FROM login_throttle WHERE key = ? AND failures <= 0", [keys.account])
        for key in keys.refusing():
            db.execute("DELETE FROM login_throttle WHERE key = ?", [key])
