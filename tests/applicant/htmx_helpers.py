"""The live lookup as the page's htmx sends it: a POST to /demande/tiers with the CSRF token
in a header (hx-headers) and the lookup's own fields (hx-params)."""

from __future__ import annotations

import re

HX = {"HX-Request": "true", "HX-Target": "tiers-block", "HX-Trigger": "f-siret"}


def csrf_token(client, path: str = "/demande") -> str:
    """The token the page carries, in its hidden field and in the form's hx-headers."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def lookup_post(client, data: dict, headers: dict | None = None, token: str | None = None):
    """POST /demande/tiers like htmx: HX headers and X-CSRFToken (None: fetch a fresh one)."""
    token = csrf_token(client) if token is None else token
    sent = {**HX, **(headers or {}), "X-CSRFToken": token}
    return client.post("/demande/tiers", data=data, headers=sent)
