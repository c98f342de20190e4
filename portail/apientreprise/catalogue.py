"""The catalogue of API Entreprise routes the portal calls: one place for each route's facts.

For every route: its path template (what the journal records, never the filled-in URL), the
data provider behind it (one circuit breaker each), the scopes of the token that open it (any
one suffices), whether its data is open (any applicant may see it) or protected (an agent's
authenticated request only, never the public cache), whether it answers JSON or a document
(the two have separate quotas upstream), and its label in the admin's journal.
"""

from __future__ import annotations

from dataclasses import dataclass

# Data providers: each has its own circuit breaker.
PROVIDER_INSEE = "insee"
PROVIDER_DJEPVA = "djepva"
PROVIDER_DGFIP = "dgfip"
PROVIDER_URSSAF = "urssaf"
PROVIDER_API = "api_entreprise"  # the API itself (/privileges)
PROVIDER_SEARCH = "recherche_entreprises"  # the State's open company search
# Each provider that has a circuit of its own, as admins read it.
PROVIDER_LABELS = {
    PROVIDER_INSEE: "INSEE (répertoire Sirene : pré-remplissage et vérification)",
    PROVIDER_DJEPVA: "DJEPVA (répertoire des associations)",
    PROVIDER_DGFIP: "DGFiP (attestation fiscale)",
    PROVIDER_URSSAF: "Urssaf (attestation de vigilance)",
    PROVIDER_SEARCH: "Recherche d'entreprises (recherche par nom)",
}

# Base-URL families: API Entreprise (the saved API URL, the token) or the open company
# search (its own configured URL, no token, no recipient/context/object parameters).
FAMILY_API_ENTREPRISE = "api_entreprise"
FAMILY_SEARCH = "recherche_entreprises"

# Budget buckets: API Entreprise counts JSON routes and document routes separately
# (250 and 50 calls per minute per token).
BUCKET_JSON = "json"
BUCKET_DOCUMENTS = "documents"
# The company search counts calls per client address (about 7 a second): its own bucket.
BUCKET_SEARCH = "search"

# The API refuses an `object` of 50 characters or more.
OBJECT_MAX_LENGTH = 49


@dataclass(frozen=True)
class Route:
    """What the portal knows of one API Entreprise route."""

    path: str
    provider: str
    label: str
    scopes: frozenset[str] = frozenset()
    protected: bool = False
    document: bool = False
    # The route takes the mandatory recipient/context/object parameters (all but /privileges).
    traced: bool = True
    family: str = FAMILY_API_ENTREPRISE

    @property
    def search(self) -> bool:
        """A route of the open company search (another host, no token)."""
        return self.family == FAMILY_SEARCH

    @property
    def bucket(self) -> str:
        """Which share of the upstream quota a call to this route spends."""
        if self.search:
            return BUCKET_SEARCH
        return BUCKET_DOCUMENTS if self.document else BUCKET_JSON

    @property
    def shared(self) -> bool:
        """Open JSON data, the same for every caller: cached and joined when identical."""
        return (self.traced or self.search) and not self.protected and not self.document


# Route templates, as the journal records them.
ROUTE_ETABLISSEMENT_DIFFUSIBLE = "/v4/insee/sirene/etablissements/diffusibles/{siret}"
ROUTE_ETABLISSEMENT = "/v4/insee/sirene/etablissements/{siret}"
ROUTE_ASSOCIATION_OPEN_DATA = "/v4/djepva/api-association/associations/open_data/{siren_or_rna}"
ROUTE_ASSOCIATION = "/v4/djepva/api-association/associations/{siren_or_rna}"
ROUTE_ATTESTATION_FISCALE = "/v4/dgfip/unites_legales/{siren}/attestation_fiscale"
ROUTE_ATTESTATION_VIGILANCE = "/v4/urssaf/unites_legales/{siren}/attestation_vigilance"
ROUTE_PRIVILEGES = "/privileges"
# The open company search; its target is the canonical query string (q, code_postal).
ROUTE_SEARCH = "/search"
# Routes that never carry the token: their answers say nothing of API Entreprise's state
# (a name search that succeeds does not mean a refused token works again).
TOKENLESS_ROUTES = (ROUTE_SEARCH,)

ROUTES: dict[str, Route] = {
    route.path: route
    for route in (
        Route(
            ROUTE_ETABLISSEMENT_DIFFUSIBLE,
            PROVIDER_INSEE,
            "Établissement, données publiques",
            frozenset({"open_data", "etablissements", "entreprises"}),
        ),
        Route(
            ROUTE_ETABLISSEMENT,
            PROVIDER_INSEE,
            "Établissement, données protégées",
            frozenset({"unites_legales_etablissements_insee", "etablissements", "entreprises"}),
            protected=True,
        ),
        Route(
            ROUTE_ASSOCIATION_OPEN_DATA,
            PROVIDER_DJEPVA,
            "Association, données publiques",
            frozenset({"open_data", "associations"}),
        ),
        Route(
            ROUTE_ASSOCIATION,
            PROVIDER_DJEPVA,
            "Association, données protégées",
            frozenset({"associations_djepva", "associations_donnees_protegees"}),
            protected=True,
        ),
        Route(
            ROUTE_ATTESTATION_FISCALE,
            PROVIDER_DGFIP,
            "Attestation fiscale",
            frozenset({"attestation_fiscale_dgfip", "attestations_fiscales"}),
            protected=True,
            document=True,
        ),
        Route(
            ROUTE_ATTESTATION_VIGILANCE,
            PROVIDER_URSSAF,
            "Attestation de vigilance",
            frozenset({"attestation_sociale_urssaf", "attestations_sociales"}),
            protected=True,
            document=True,
        ),
        Route(ROUTE_PRIVILEGES, PROVIDER_API, "Test de connexion", traced=False),
        Route(
            ROUTE_SEARCH,
            PROVIDER_SEARCH,
            "Recherche d'entreprises par nom, données publiques",
            traced=False,
            family=FAMILY_SEARCH,
        ),
    )
}

ROUTE_LABELS = {path: route.label for path, route in ROUTES.items()}


def route(path: str) -> Route:
    """The catalogue entry of a route template; KeyError for a route the portal never calls."""
    return ROUTES[path]
