"""Admin password policy and hashing (scrypt, parameters stored with each hash).

argon2 is not installed, so passwords use `hashlib.scrypt` with N=2**17, r=8, p=1 (OWASP's
current scrypt recommendation). Each stored hash carries its own parameters and salt:
`scrypt$ln=17,r=8,p=1$<salt>$<key>`, so raising the cost later only needs a rehash at the next
successful login (`needs_rehash`), never a reset of every account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import unicodedata
from dataclasses import dataclass

DEFAULT_N = 2**17


DEFAULT_R = 8


DEFAULT_P = 1


SALT_BYTES = 16


KEY_BYTES = 32


MIN_LENGTH = 12


# Long passphrases are welcome; the cap only stops pointless megabyte-sized inputs.
MAX_LENGTH = 1024


# One hash at N=2**17 takes 128 MiB for ~0.4 s: a burst of logins must not exhaust memory.
_HASH_SLOTS = threading.BoundedSemaphore(2)


class WeakPassword(ValueError):
    """A password refused by the policy, with a French message for the admin."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ScryptParams:
    """Cost parameters of one hash."""

    n: int = DEFAULT_N
    r: int = DEFAULT_R
    p: int = DEFAULT_P


def normalise(password: str) -> str:
    """NFC-normalise so an accented passphrase typed on another system still matches."""
    return unicodedata.normalize("NFC", password)


def check_policy(password: str, username: str | None = None) -> None:
    """Raise WeakPassword unless the password is acceptable. Pasting and spaces are fine."""
    password = normalise(password or "")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères "
            f"(vous en avez saisi {len(password)}). Une phrase de passe de plusieurs mots "
            "est plus simple à retenir et plus sûre."
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Le mot de passe ne doit pas dépasser {MAX_LENGTH} caractères.")
    if username and password.casefold() == username.casefold():
        raise WeakPassword("Le mot de passe ne doit pas être identique à l'identifiant.")


def _maxmem(params: ScryptParams) -> int:
    # OpenSSL needs 128*r*(N+2) + 128*r*p bytes; its 32 MiB default refuses N=2**17.
    return 128 * params.r * (params.n + 2) + 128 * params.r * params.p + 1024 * 1024


def _derive(password: str, salt: bytes, params: ScryptParams) -> bytes:
    with _HASH_SLOTS:
        return hashlib.scrypt(
            normalise(password).encode("utf-8"),
            salt=salt,
            n=params.n,
            r=params.r,
            p=params.p,
            maxmem=_maxmem(params),
            dklen=KEY_BYTES,
        )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def params_for(n: int | None) -> ScryptParams:
    """Current parameters, with N from configuration (tests lower it) or the default."""
    n = int(n or DEFAULT_N)
    if n < 2 or n & (n - 1):
        raise ValueError("scrypt N must be a power of two")
    return ScryptParams(n=n)


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    """Hash a password with a fresh random salt; the result embeds salt and parameters."""
    params = params or ScryptParams()
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, params)
    log_n = params.n.bit_length() - 1
    return f"scrypt$ln={log_n},r={params.r},p={params.p}${_b64(salt)}${_b64(key)}"


def parse(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    """Split a stored hash into parameters, salt and key; ValueError if malformed."""
    scheme, param_text, salt, key = stored.split("$")
    if scheme != "scrypt":
        raise ValueError("unknown password scheme")
    values = dict(item.split("=", 1) for item in param_text.split(","))
    params = ScryptParams(n=2 ** int(values["ln"]), r=int(values["r"]), p=int(values["p"]))
    return params, _unb64(salt), _unb64(key)


def verify_password(password: str, stored: str) -> bool:
    """True when the password matches the stored hash (constant-time comparison)."""
    try:
        params, salt, key = parse(stored)
    except (ValueError, KeyError):
        return False
    if len(normalise(password or "")) > MAX_LENGTH:
        return False
    return hmac.compare_digest(_derive(password, salt, params), key)


def needs_rehash(stored: str, params: ScryptParams) -> bool:
    """True when the stored hash was made with other parameters than the current ones."""
    try:
        current, _salt, _key = parse(stored)
    except (ValueError, KeyError):
        return True
    return current != params


_dummy_hashes: dict[ScryptParams, str] = {}


def burn_time(password: str, params: ScryptParams) -> None:
    """Spend the time of one verification, so an unknown account answers like a known one."""
    if params not in _dummy_hashes:
        _dummy_hashes[params] = hash_password(secrets.token_urlsafe(16), params)
    verify_password(password, _dummy_hashes[params])
