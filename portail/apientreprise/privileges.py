"""The answer of `/privileges`: which scopes the token holds (the admin's connection test)."""

from __future__ import annotations

from portail.apientreprise.errors import BadAnswer


def privileges_from(body: dict) -> list[str]:
    """The scopes listed in a /privileges body; BadAnswer when the list is missing.

    Unlike the data routes, /privileges answers `{"privileges": [...]}` with no `data`
    envelope; the envelope is accepted too, should it ever gain one.
    """
    privileges = body.get("privileges") if isinstance(body, dict) else None
    if privileges is None and isinstance(body, dict) and isinstance(body.get("data"), dict):
        privileges = body["data"].get("privileges")
    if not isinstance(privileges, list):
        raise BadAnswer(note="champ privileges absent")
    return [str(item) for item in privileges]
