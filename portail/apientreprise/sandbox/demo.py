"""The demonstration's fictitious authority and token."""

from __future__ import annotations

from portail.core.tokens import mint_token

# The fictitious authority using the demo: commune SIRENs start with 21 + département, and
# département 99 does not exist, so this SIREN cannot be a real commune's.
DEMO_RECIPIENT_SIRET = "21999001700010"


# Current scope names: open data (prefill), protected établissement, protected association,
# and both attestations.
DEMO_SCOPES: tuple[str, ...] = (
    "open_data",
    "unites_legales_etablissements_insee",
    "associations_djepva",
    "attestation_fiscale_dgfip",
    "attestation_sociale_urssaf",
)


BLACKLISTED_SUBJECT = "blacklisted"  # a token whose `sub` is this is answered 00105


def mint_demo_token(**kwargs) -> str:
    """A fictitious JWT with DEMO_SCOPES that the sandbox accepts (keyword args: mint_token's)."""
    return mint_token(list(DEMO_SCOPES), **kwargs)
