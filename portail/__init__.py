"""Mini-portail des aides: deposit of public aid requests with API Entreprise prefill."""
