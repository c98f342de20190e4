"""Which address a request comes from: the key of per-IP login throttling and of each
client's share of the API budget.

Behind reverse proxies (TRUSTED_PROXIES > 0), X-Forwarded-For/Proto are trusted exactly that
many hops deep. Left at 0 behind a proxy, every applicant would seem to come from the proxy
and share one client's allowance, so the prefill would stall for everyone after a few
lookups: the first forwarded request seen then logs a warning saying what to set.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

logger = logging.getLogger(__name__)


UNTRUSTED_PROXY_WARNING = (
    "Requête reçue avec un en-tête X-Forwarded-For alors que TRUSTED_PROXIES vaut 0 : si le "
    "portail est derrière un proxy inverse, réglez TRUSTED_PROXIES sur le nombre de proxys, "
    "sinon tous les demandeurs partagent la même adresse (limitation des recherches et des "
    "connexions par IP)."
)


def init_app(app: Flask) -> None:
    """Trust the configured proxies, or watch for a proxy nobody declared."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
        return
    warned = False

    @app.before_request
    def warn_about_an_undeclared_proxy() -> None:
        nonlocal warned
        if not warned and "X-Forwarded-For" in request.headers:
            warned = True  # once per process: the log must stay readable
            logger.warning(UNTRUSTED_PROXY_WARNING)
