"""The built-in fictitious API Entreprise: same v4 routes, shapes, status codes and error bodies.

Behaviour is code, facts are data: the records, personas, attestation texts and error bodies are
JSON files under `data/` (see `data.py`), validated by the contract tests against the project's
own schema of the API answers (portail/apientreprise/schema/). Modules:

- `service`: the `Sandbox` object, one per app (token, scope and parameter checks, rate limit,
  error personas, slow answers);
- `records`: 200 bodies ("[ND]" masking on diffusibles routes, attestation dates from today);
- `routes`, `answers`, `limiter`, `demo`: routes and identifiers, answer shapes, per-token
  rate limit, the demonstration's authority and token;
- `server`: a WSGI application and `LoopbackSandbox`, a real HTTP server in a thread;
- `cli`: `python -m portail.apientreprise.sandbox --port 8001`.

In process, the app's Sandbox answers for `SANDBOX_URL` through the transport's in-process
adapter (no socket, no deadlock). Error bodies reuse the titles and details of the
official OpenAPI examples; 00210/00211 and the empty 429 come from recorded answers.
"""

from __future__ import annotations

from portail.apientreprise.sandbox.answers import SandboxAnswer
from portail.apientreprise.sandbox.cli import main
from portail.apientreprise.sandbox.data import PERSONAS, Persona
from portail.apientreprise.sandbox.demo import (
    BLACKLISTED_SUBJECT,
    DEMO_RECIPIENT_SIRET,
    DEMO_SCOPES,
    mint_demo_token,
)
from portail.apientreprise.sandbox.limiter import RATE_LIMIT
from portail.apientreprise.sandbox.records import association_payload, etablissement_payload
from portail.apientreprise.sandbox.server import LoopbackSandbox, make_wsgi_app
from portail.apientreprise.sandbox.service import SLOW_DELAY, Sandbox

__all__ = [
    "BLACKLISTED_SUBJECT",
    "DEMO_RECIPIENT_SIRET",
    "DEMO_SCOPES",
    "PERSONAS",
    "RATE_LIMIT",
    "SLOW_DELAY",
    "LoopbackSandbox",
    "Persona",
    "Sandbox",
    "SandboxAnswer",
    "association_payload",
    "etablissement_payload",
    "main",
    "make_wsgi_app",
    "mint_demo_token",
]
