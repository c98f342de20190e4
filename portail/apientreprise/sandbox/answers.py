"""What the sandbox sends back: status, headers (JSON, request id), body, simulated delay."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from portail.apientreprise.sandbox.data import ERRORS

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass
class SandboxAnswer:
    """What the sandbox answers: status, headers, raw body, and how long the API would take."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0


def answer(
    status: int,
    body: dict | bytes,
    extra_headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> SandboxAnswer:
    """An answer with a JSON body (or raw bytes) and a fresh X-Request-ID."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": JSON_CONTENT_TYPE, "X-Request-ID": str(uuid.uuid4())}
    headers.update(extra_headers or {})
    return SandboxAnswer(status, headers, raw, delay)


def errors(status: int, *names: str, headers: dict[str, str] | None = None) -> SandboxAnswer:
    """An error answer whose body lists the named error objects of errors.json."""
    return answer(status, {"errors": [ERRORS[name] for name in names]}, headers)
