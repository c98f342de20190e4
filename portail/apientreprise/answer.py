"""What an API Entreprise call gives back: the answer, and the rate-limit facts of its headers
(`RateLimit-*`, `Retry-After`), clamped so that a nonsensical value cannot stop the portal."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = 3600.0  # longest pause an answer may impose on every worker


@dataclass
class ApiAnswer:
    """A successful (2xx) JSON answer."""

    data: dict  # the whole JSON body ({"data", "links", "meta"})
    status: int
    request_id: str | None
    headers: dict = field(default_factory=dict)
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class RateLimitInfo:
    """What the `RateLimit-*` headers said (None where absent or unreadable)."""

    limit: int | None
    remaining: int | None
    reset_at: float | None  # epoch seconds: end of the API's current one-minute window


def _header(headers, name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _int_header(headers, name: str) -> int | None:
    value = _header(headers, name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


# API Entreprise counts calls per one-minute window; RateLimit-Reset ends the current one.
RATE_LIMIT_WINDOW = 60.0


def rate_limit_info(headers, now: float | None = None) -> RateLimitInfo | None:
    """Read `RateLimit-Limit/Remaining/Reset`; None when the answer carries none of them.

    The reset is documented as an epoch timestamp; a small value is read as seconds from
    now (the IETF draft's form), so either convention feeds the budget correctly. The API
    documents it as the end of the current one-minute window: a value further away than
    that (a date in 2286, milliseconds taken for seconds) is wrong, and is capped at a
    minute from now, so one bad header never stops the prefill for longer.
    """
    limit = _int_header(headers, "RateLimit-Limit")
    remaining = _int_header(headers, "RateLimit-Remaining")
    reset = _int_header(headers, "RateLimit-Reset")
    if limit is None and remaining is None and reset is None:
        return None
    now = time.time() if now is None else now
    reset_at = None
    if reset is not None:
        reset_at = float(reset) if reset > 1_000_000_000 else now + max(0, reset)
        reset_at = min(reset_at, now + RATE_LIMIT_WINDOW)
    return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at)


def retry_after_seconds(headers, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else from `RateLimit-Reset`.

    Clamped to [0, MAX_RETRY_AFTER]: a nonsensical answer (inf, a date in year 9999) from a
    proxy must not switch the prefill off for ever.
    """
    now = time.time() if now is None else now
    value = _header(headers, "Retry-After")
    if value is not None:
        try:
            return _clamp_wait(float(value))
        except ValueError:
            try:
                return _clamp_wait(parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, OverflowError):
                pass
    info = rate_limit_info(headers, now)
    if info is not None and info.reset_at is not None:
        return _clamp_wait(info.reset_at - now)
    return None


def _clamp_wait(seconds: float) -> float | None:
    if not math.isfinite(seconds):
        return MAX_RETRY_AFTER if seconds > 0 else None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))
