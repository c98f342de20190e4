"""Base URLs of API Entreprise that the portal knows by name."""

PRODUCTION_URL = "https://entreprise.api.gouv.fr"
STAGING_URL = "https://staging.entreprise.api.gouv.fr"

# The built-in sandbox answers in process for this URL (mounted on the app's HTTP session).
# The .invalid TLD can never resolve (RFC 6761): were the adapter ever missing, no request
# (and no token) could leave the machine.
SANDBOX_URL = "https://bac-a-sable.api-entreprise.invalid"

# The State's open company search (Recherche d'entreprises): no token, open data only. In the
# demonstration, the built-in sandbox answers its /search route at SANDBOX_URL too.
SEARCH_URL = "https://recherche-entreprises.api.gouv.fr"

KNOWN_URLS = {
    PRODUCTION_URL: "Production (entreprise.api.gouv.fr)",
    STAGING_URL: "Recette / staging (données fictives, jeton de staging)",
    SANDBOX_URL: "Bac à sable intégré au portail (démonstration, hors ligne)",
}
