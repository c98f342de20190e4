"""API Entreprise, without Flask: the catalogue of routes and errors, the HTTP client, and the
gateway every call goes through (cache, join, circuit, budget, journal); `sandbox/` is the
built-in fictitious API."""
