"""Which address a request comes from: the key of per-IP login throttling and of each
client's share of the API budget.

Behind reverse proxies (TRUSTED_PROXIES > 0), X-Forwarded-For/Proto are trusted exactly that
many hops deep. Left at 0 behind a proxy, every applicant would seem to come from the proxy
and share one client's allowance, so the prefill would stall for everyone after a few
lookups: the first forwarded request seen then logs a warning saying what to set.

The header must reach the application: waitress deletes the proxy headers it was not told to
trust, so the production command passes `--no-clear-untrusted-proxy-headers` (README) and
this module alone decides how far to trust them. With TRUSTED_PROXIES set, a request that
arrives without X-Forwarded-For (a server that deleted it, or a client bypassing the proxy)
is reported once in the log too.
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


MISSING_FORWARDED_FOR_WARNING = (
    "Requête reçue sans en-tête X-Forwarded-For alors que TRUSTED_PROXIES vaut {hops} : le "
    "serveur a pu supprimer l'en-tête (waitress-serve : ajoutez "
    "--no-clear-untrusted-proxy-headers), ou le portail est joint sans passer par le proxy. "
    "Tous les demandeurs partagent alors l'adresse du proxy (limitation des recherches et des "
    "connexions par IP)."
)


# Paths a supervisor calls on the server itself, without the proxy.
_DIRECT_PATHS = ("/healthz",)


def init_app(app: Flask) -> None:
    """Trust the configured proxies, or watch for a proxy nobody declared."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    warned = False
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

        @app.before_request
        def warn_about_a_deleted_forwarded_for() -> None:
            nonlocal warned
            if (
                not warned
                and "X-Forwarded-For" not in request.headers
                and request.path not in _DIRECT_PATHS
            ):
                warned = True  # once per process: the log must stay readable
                logger.warning(MISSING_FORWARDED_FOR_WARNING.format(hops=hops))

        return

    @app.before_request
    def warn_about_an_undeclared_proxy() -> None:
        nonlocal warned
        if not warned and "X-Forwarded-For" in request.headers:
            warned = True  # once per process: the log must stay readable
            logger.warning(UNTRUSTED_PROXY_WARNING)
