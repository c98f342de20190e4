"""HTTP security headers, CSRF protection, and French error pages (never a stack trace)."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import SecurityError

csrf = CSRFProtect()


# Strict CSP: no inline script or style, no eval (htmx runs with allowEval=false).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


# The portal uses none of these browser features: no page, nor anything injected in one,
# may ask for them.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "accelerometer=(), gyroscope=(), magnetometer=()"
)
# Two years, subdomains included: sent only over HTTPS (RFC 6797 ignores it over http).
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


UNTRUSTED_HOST_PAGE = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Requête invalide'
    "</title></head><body><main><h1>Requête invalide</h1><p>Ce portail ne répond pas à "
    "cette adresse. Vérifiez l'adresse de la page.</p></main></body></html>"
)


def _set_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def init_app(app: Flask) -> None:
    """Install CSRF protection, headers and error pages."""
    csrf.init_app(app)
    app.after_request(_set_headers)

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_template(
            "error.html",
            title="Formulaire expiré",
            message="Votre formulaire a expiré ou n'a pas pu être vérifié. "
            "Rechargez la page et envoyez-le à nouveau.",
        ), 400

    @app.errorhandler(SecurityError)
    def untrusted_host(_error):
        # A Host header outside TRUSTED_HOSTS: no URL can be built for it (the layout's
        # links would fail), and it must never be reflected, so a page of its own.
        return UNTRUSTED_HOST_PAGE, 400, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(404)
    def not_found(_error):
        return render_template(
            "error.html",
            title="Page introuvable",
            message="Cette page n'existe pas ou n'est plus disponible.",
        ), 404

    @app.errorhandler(405)
    def method_not_allowed(_error):
        return render_template(
            "error.html",
            title="Action impossible",
            message="Cette action n'est pas possible sur cette page.",
        ), 405

    @app.errorhandler(413)
    def too_large(_error):
        return render_template(
            "error.html",
            title="Envoi trop volumineux",
            message="Les données envoyées dépassent la taille autorisée.",
        ), 413

    @app.errorhandler(500)
    def server_error(_error):
        return render_template(
            "error.html",
            title="Erreur du service",
            message="Une erreur inattendue s'est produite. Votre saisie n'a pas été "
            "enregistrée ; réessayez dans quelques instants.",
        ), 500
