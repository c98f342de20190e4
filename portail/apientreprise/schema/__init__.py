"""The project's own compact schema of the API Entreprise answers the portal relies on.

`answers.schema.json` (JSON Schema 2020-12) gives the field names, types, enumerations and
required fields of each answer, taken from the official OpenAPI description; it lives in the
repository so that the sandbox's data and answers are always checked against it, with or
without the official file. Two annotations there make a route's variant:

- `x-nd`: on a diffusibles route, a partially diffusible entity's value may be "[ND]";
- `x-protected-only`: the open data association route leaves the property out.

No third-party import here: validation belongs to the callers (the contract tests).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parent / "answers.schema.json"

NOT_DISCLOSED = "[ND]"


@dataclass(frozen=True)
class RouteContract:
    """What a route answers: the schema of its 200 body, and the statuses the spec lists."""

    answer: str  # a name in $defs
    statuses: frozenset[str]
    diffusible: bool = False  # "[ND]" may replace x-nd values
    open_data: bool = False  # x-protected-only properties are absent


_COMMON = frozenset({"200", "401", "403", "404", "409", "422", "429", "502", "504"})

# Per route template of the official description (statuses: its documented responses).
ROUTES: dict[str, RouteContract] = {
    "/v4/insee/sirene/etablissements/diffusibles/{siret}": RouteContract(
        "etablissement_answer", _COMMON, diffusible=True
    ),
    "/v4/insee/sirene/etablissements/{siret}": RouteContract(
        "etablissement_answer", _COMMON | {"451"}
    ),
    "/v4/djepva/api-association/associations/open_data/{siren_or_rna}": RouteContract(
        "association_answer", _COMMON, open_data=True
    ),
    "/v4/djepva/api-association/associations/{siren_or_rna}": RouteContract(
        "association_answer", _COMMON
    ),
    "/v4/dgfip/unites_legales/{siren}/attestation_fiscale": RouteContract(
        "attestation_fiscale_answer", _COMMON
    ),
    "/v4/urssaf/unites_legales/{siren}/attestation_vigilance": RouteContract(
        "attestation_vigilance_answer", _COMMON
    ),
    "/privileges": RouteContract(
        "privileges_answer", frozenset({"200", "401", "403", "409", "422", "429"})
    ),
}


@cache
def _document() -> dict:
    with SCHEMA_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def document() -> dict:
    """The whole schema document (a fresh copy)."""
    return copy.deepcopy(_document())


def _variant(node: object, *, diffusible: bool, open_data: bool) -> object:
    if isinstance(node, list):
        return [_variant(item, diffusible=diffusible, open_data=open_data) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _variant(value, diffusible=diffusible, open_data=open_data)
        for key, value in node.items()
    }
    properties = out.get("properties")
    if isinstance(properties, dict):
        if open_data:
            dropped = {name for name, prop in properties.items() if prop.get("x-protected-only")}
            out["properties"] = {k: v for k, v in properties.items() if k not in dropped}
            out["required"] = [name for name in out.get("required", []) if name not in dropped]
        if diffusible:
            out["properties"] = {
                name: {"anyOf": [prop, {"const": NOT_DISCLOSED}]} if prop.get("x-nd") else prop
                for name, prop in out["properties"].items()
            }
    return out


def schema(name: str, *, diffusible: bool = False, open_data: bool = False) -> dict:
    """A standalone JSON Schema for `$defs/<name>`, in the given route variant."""
    base = _document()
    defs = _variant(base["$defs"], diffusible=diffusible, open_data=open_data)
    return {"$schema": base["$schema"], "$ref": f"#/$defs/{name}", "$defs": defs}


def route_schema(template: str, status: str = "200") -> dict:
    """The schema of a route's answer: its 200 body, or the error body for any other status."""
    contract = ROUTES[template]
    if status != "200":
        return schema("error_answer")
    return schema(contract.answer, diffusible=contract.diffusible, open_data=contract.open_data)
