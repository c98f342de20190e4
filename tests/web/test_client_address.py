"""Behind a reverse proxy, each applicant is known by its own address (TRUSTED_PROXIES), and
a proxy nobody declared is reported in the log instead of silently merging everyone."""

from __future__ import annotations

import logging

from portail.web import client_address
from tests.api_helpers import portal_on
from tests.apientreprise.test_client_share import HTMX, valid_siret

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def portal(tmp_path, double, hops):
    app = portal_on(
        tmp_path,
        double.url,
        RATE_BUDGET_PER_CLIENT_PER_MINUTE=1,
        LOOKUP_CACHE_SECONDS=0,
        TRUSTED_PROXIES=hops,
    )
    return app.test_client()


def lookup(client, number, forwarded_for):
    response = client.get(
        f"/demande/tiers?siret={valid_siret(number)}",
        headers={**HTMX, "X-Forwarded-For": forwarded_for},
        environ_base=PROXY,
    )
    return "DOUBLE DE TEST" in response.get_data(as_text=True)


def test_with_a_declared_proxy_each_applicant_has_its_own_share(tmp_path, double):
    client = portal(tmp_path, double, hops=1)
    assert lookup(client, 1, "203.0.113.10")
    assert lookup(client, 2, "203.0.113.11")  # another applicant behind the same proxy
    assert not lookup(client, 3, "203.0.113.10")  # the first one's share is spent


def test_an_undeclared_proxy_merges_applicants_and_is_reported_once(tmp_path, double, caplog):
    client = portal(tmp_path, double, hops=0)
    with caplog.at_level(logging.WARNING, logger="portail.web.client_address"):
        assert lookup(client, 1, "203.0.113.10")
        assert not lookup(client, 2, "203.0.113.11")  # seen as the proxy: one share for all
    warnings = [
        r for r in caplog.records if r.getMessage() == client_address.UNTRUSTED_PROXY_WARNING
    ]
    assert len(warnings) == 1
