"""Reading payload values without ever letting the API's "[ND]" marker reach a form field."""

from __future__ import annotations

# Marker API Entreprise puts in place of protected values on the open data routes.
NOT_DIFFUSED = "[ND]"


def as_dict(value: object) -> dict:
    """value if it is a JSON object, else an empty one (a null or mistyped part of a payload)."""
    return value if isinstance(value, dict) else {}


class Reader:
    """Collects field values, keeping "[ND]" out of them and noting which fields were masked."""

    def __init__(self) -> None:
        self.masked: list[str] = []

    def pick(self, name: str, *candidates: object) -> str:
        """First usable string among candidates; empty and noted as masked if only [ND] found."""
        saw_masked = False
        for value in candidates:
            if not isinstance(value, str):
                continue
            text = value.strip()
            if text == NOT_DIFFUSED:
                saw_masked = True
            elif text:
                return text
        if saw_masked:
            self.mask(name)
        return ""

    def join(self, name: str, *parts: object, sep: str = " ") -> str:
        """Join the non-empty parts with sep; the whole field is masked if any part is [ND]."""
        texts = []
        for part in parts:
            if not isinstance(part, str):
                continue
            text = part.strip()
            if text == NOT_DIFFUSED:
                self.mask(name)
                return ""
            if text:
                texts.append(text)
        return sep.join(texts)

    def mask(self, name: str) -> None:
        """Record that a form field was left empty because the API withholds its value."""
        if name not in self.masked:
            self.masked.append(name)


__all__ = ["NOT_DIFFUSED", "Reader", "as_dict"]
