"""The sandbox's fictitious data, read once from the JSON files beside this module.

- `personas.json`: the demonstration SIRETs, what each shows, and what the sandbox answers for
  it (`answer`: found, redirected, slow, unknown, or the error it triggers);
- `unites_legales.json` and `etablissements.json`: INSEE records with full (protected) values;
  an établissement names its unité légale by SIREN, joined here; plus the redirected SIRETs;
- `associations.json`: DJEPVA association records (protected shape);
- `attestations.json`: attestation texts, and dates as offsets from today;
- `errors.json`: every error object the sandbox answers, by name.

Every organisation is invented (SIRENs in ranges unlikely to be allocated, except La Poste's,
which its own SIRET rule needs). The contract tests validate every file against the project's
schema (portail/apientreprise/schema/) and check that fields which must agree do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def read(name: str) -> dict:
    """One data file, parsed."""
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


@dataclass(frozen=True)
class Persona:
    """A SIRET to type in the demo, what it is, and what the portal then shows (French)."""

    siret: str
    label: str
    shows: str
    kind: str  # "ok" | "error"
    # What the sandbox answers: "found", "redirected", "slow", "unknown" (404), or the error
    # it triggers on every route of its SIREN ("451", "401", "403", "429", "429_empty", ...).
    answer: str = "found"


PERSONAS: tuple[Persona, ...] = tuple(Persona(**item) for item in read("personas.json")["personas"])

# Answers that are errors whatever the route, by SIREN, so that every route agrees.
ERROR_ANSWERS = frozenset({"451", "401", "403", "429", "429_empty", "502", "504"})

ERROR_PERSONAS: dict[str, str] = {
    p.siret[:9]: p.answer for p in PERSONAS if p.answer in ERROR_ANSWERS
}

SLOW_SIRENS = frozenset(p.siret[:9] for p in PERSONAS if p.answer == "slow")


def _join_etablissements() -> tuple[dict[str, dict], dict[str, str], int]:
    unites_legales = {ul["siren"]: ul for ul in read("unites_legales.json")["unites_legales"]}
    raw = read("etablissements.json")
    records = {}
    for record in raw["etablissements"]:
        # Same key order as the API: the SIREN reference is replaced in place.
        joined = {
            key: unites_legales[value] if key == "unite_legale" else value
            for key, value in record.items()
        }
        records[record["siret"]] = joined
    return records, dict(raw["redirects"]), raw["date_derniere_mise_a_jour"]


ETABLISSEMENTS, REDIRECTS, ETABLISSEMENTS_UPDATED = _join_etablissements()

KNOWN_SIRENS = frozenset(siret[:9] for siret in ETABLISSEMENTS)

CEASED_SIRENS = frozenset(
    siret[:9]
    for siret, record in ETABLISSEMENTS.items()
    if record["unite_legale"]["etat_administratif"] == "C"
)


def _index_associations() -> tuple[dict[str, dict], dict[str, str]]:
    raw = read("associations.json")
    index: dict[str, dict] = {}
    for record in raw["associations"]:
        index[record["siren"]] = record
        index[record["rna"]] = record
    updated = {
        "sirene": raw["date_derniere_mise_a_jour_sirene"],
        "rna": raw["date_derniere_mise_a_jour_rna"],
    }
    return index, updated


# By SIREN and by RNA number.
ASSOCIATIONS, ASSOCIATIONS_UPDATED = _index_associations()

ATTESTATIONS: dict = read("attestations.json")

ERRORS: dict[str, dict] = read("errors.json")["errors"]
