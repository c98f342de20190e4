"""Read API Entreprise access tokens (JWT) without verifying them, and mint fictitious ones.

We never hold API Entreprise's signing key: claims are read only to tell the admin when the
token expires and what its scopes allow. The API itself remains the judge of validity.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


class NotAJwt(ValueError):
    """The value is not a JSON Web Token (three base64url parts with a JSON payload)."""


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class TokenInfo:
    """What the admin may know of a token: never its value, only its tail and claims."""

    last4: str
    expires_at: datetime | None
    scopes: tuple[str, ...] = field(default_factory=tuple)
    subject: str | None = None

    def days_left(self, now: datetime | None = None) -> int | None:
        """Whole days until expiry (negative once expired), None without an exp claim."""
        if self.expires_at is None:
            return None
        now = now or datetime.now(UTC)
        return int((self.expires_at - now).total_seconds() // 86400)


def decode_claims(token: str) -> dict:
    """Return the JWT payload as a dict, or raise NotAJwt. The signature is not checked."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise NotAJwt("not three dot-separated parts")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAJwt("parts are not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise NotAJwt("header or payload is not a JSON object")
    return claims


def token_info(token: str) -> TokenInfo:
    """Describe a token for display; raises NotAJwt when it is not a JWT."""
    claims = decode_claims(token)
    exp = claims.get("exp")
    expires_at = None
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, ValueError, OSError):
            raise NotAJwt("exp claim out of range") from None
        if expires_at.year > 9000:  # dates near year 9999 overflow in any later arithmetic
            raise NotAJwt("exp claim out of range")
    scopes = claims.get("scopes") or []
    if not isinstance(scopes, list):
        scopes = []
    return TokenInfo(
        last4=token.strip()[-4:],
        expires_at=expires_at,
        scopes=tuple(str(s) for s in scopes),
        subject=str(claims["sub"]) if claims.get("sub") is not None else None,
    )


def may_open(token: str, scopes) -> bool:
    """Whether the token's scopes include one of `scopes` (a route's). An unreadable token
    is left for the API to judge: True."""
    try:
        return bool(set(token_info(token).scopes) & set(scopes))
    except NotAJwt:
        return True


def mint_token(
    scopes: list[str],
    expires_in: float | None = 18 * 30 * 86400,
    *,
    exp: int | None = None,
    subject: str = "portail-demonstration",
) -> str:
    """Mint a fictitious HS256 JWT shaped like API Entreprise's (for the sandbox and tests)."""
    now = int(time.time())
    claims = {
        "uid": secrets.token_hex(8),
        "jti": secrets.token_hex(16),
        "scopes": list(scopes),
        "sub": subject,
        "iat": now,
    }
    if exp is not None:
        claims["exp"] = exp
    elif expires_in is not None:
        claims["exp"] = now + int(expires_in)
    header = _b64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secrets.token_bytes(32), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url_encode(signature)}"
