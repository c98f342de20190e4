"""Whether a request was sent by another site, as far as the browser says.

Browsers tell where a request comes from: `Sec-Fetch-Site` (every current browser), else
`Origin` (sent with every POST), else `Referer`. A request saying none of them (an old
browser, a script, the test client) counts as the portal's own: the checks built on this
one only ever take less from a foreign request, they never let anything more through.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

# "none": the address was typed or bookmarked; "same-origin": a page of the portal.
_OWN_FETCH_SITES = ("same-origin", "none")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_foreign_request() -> bool:
    """True when the browser says another site (or a sibling subdomain) sent the request."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site not in _OWN_FETCH_SITES
    own = _origin_of(request.host_url)
    origin = request.headers.get("Origin")
    if origin:
        # "null": a sandboxed frame, a data: URL, a privacy-sensitive redirect.
        return origin.lower() != own
    referer = request.headers.get("Referer")
    if referer:
        return _origin_of(referer) != own
    return False
