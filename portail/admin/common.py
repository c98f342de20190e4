"""What the admin pages share: who is acting, the configured extra API URLs, labels."""

from __future__ import annotations

from flask import current_app

from portail.auth.guard import current_session

SETTING_LABELS = {
    "enabled": "Assistance à la saisie des tiers avec SIRET : API Entreprise",
    "recipient_siret": "SIRET de votre organisation",
    # Bandit (B105) reads "token" and "password" keys as secrets: these are French labels.
    "token": "Jeton d'accès",  # nosec B105
    "context": "Contexte d'appel",
    "api_url": "URL de l'API Entreprise",
}


EVENT_LABELS = {
    "login_succeeded": "Connexion réussie",
    "login_failed": "Échec de connexion",
    "login_throttled": "Tentative refusée (trop d'échecs)",
    "logout": "Déconnexion",
    "password_changed": "Mot de passe changé",  # nosec B105  # a label
    "admin_created": "Compte administrateur créé",
    "admin_deleted": "Compte administrateur supprimé",
    "deposit_viewed": "Consultation d'une demande",
    "attestation_downloaded": "Téléchargement d'une attestation",
    "deposits_exported": "Export des demandes",
    "journal_exported": "Export du journal des appels",
    "database_backup": "Sauvegarde de la base",
    "retention_purge": "Purge des données anciennes",
    "token_key_rotated": "Clé de chiffrement du jeton renouvelée",  # nosec B105  # a label
}


def extra_urls():
    """EXTRA_API_BASE_URLS as configured (the settings rules normalise it)."""
    return current_app.config.get("EXTRA_API_BASE_URLS") or []


def actor() -> str:
    """The logged-in admin's name, for the journals."""
    admin_session = current_session()
    return admin_session.username if admin_session else "inconnu"
