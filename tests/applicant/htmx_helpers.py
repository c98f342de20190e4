"""The deposit page as tests drive it: its CSRF token, a complete valid form, and the live
lookup as the page's htmx sends it (a POST to /demande/tiers with the CSRF token in a header,
hx-headers, and the lookup's own fields, hx-params)."""

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


# Every field of a deposit that files (no API needed).
COMPLETE_FORM = {
    "siret": "732 829 320 00074",
    "raison_sociale": "Les Jardins Partagés",
    "forme_juridique": "Association déclarée",
    "adresse_numero": "4 ter",
    "adresse_voie": "RUE DES LILAS",
    "code_postal": "35000",
    "commune": "RENNES",
    "pays": "France",
    "representant_nom": "Durand",
    "representant_prenom": "Élise",
    "representant_qualite": "Présidente",
    "email": "elise.durand@example.org",
    "telephone": "02 99 00 00 00",
    "intitule_projet": "Jardin pédagogique",
    "description_projet": "Un jardin ouvert aux écoles du quartier.",
    "montant_demande": "1 500,50 €",
    "consentement": "y",
}


def complete_form(token: str, **overrides) -> dict:
    """COMPLETE_FORM with its CSRF token, some values replaced."""
    return {"csrf_token": token, **COMPLETE_FORM, **overrides}
