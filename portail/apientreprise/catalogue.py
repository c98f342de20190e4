"""HTTP client for API Entreprise: routes, mandatory parameters, errors mapped to exceptions.

This module knows nothing of Flask, the database, the cache or the quota: it makes one call,
returns an `ApiAnswer` or raises one `ApiEntrepriseError` subclass per class of error. The
lookup service (`portail.lookup`) decides when a call may leave.

Rules kept here, because they hold for every caller:
- the token travels only in the `Authorization` header, and never reaches an exception
  text, a repr or a log line (every message is built from our own words plus the API's
  status, code, title and `X-Request-ID`, then scrubbed of the token for good measure);
- redirects are never followed (a 3xx is a bad answer: following it could send the token
  to another host);
- urllib3 never retries and never sleeps on `Retry-After`: the shared rate budget decides;
- the body is streamed with a size cap and a total deadline, so a trickling or huge answer
  cannot hold a request thread past the timeout.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


# Route templates: the journal records these, never the filled-in URL.
ROUTE_ETABLISSEMENT_DIFFUSIBLE = "/v4/insee/sirene/etablissements/diffusibles/{siret}"


ROUTE_ETABLISSEMENT = "/v4/insee/sirene/etablissements/{siret}"


ROUTE_ASSOCIATION_OPEN_DATA = "/v4/djepva/api-association/associations/open_data/{siren_or_rna}"


ROUTE_PRIVILEGES = "/privileges"


# The API refuses an `object` of 50 characters or more.
OBJECT_MAX_LENGTH = 49
