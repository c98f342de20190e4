"""Through the applicant's route `/demande/tiers`: every API fault gives its French status
line, never a 500, and the timeout configured in app.config applies."""

from __future__ import annotations

import time

import pytest

from tests.api_helpers import portal_on, valid_siret
from tests.fault_double import Reply, error_body, refused_url

HTMX = {"HX-Request": "true", "HX-Target": "tiers-block"}


@pytest.fixture
def portal(tmp_path, double):
    """A portal whose settings point at the double, with a short API timeout."""
    return portal_on(tmp_path, double.url, API_TIMEOUT_SECONDS=0.5).test_client()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(), "Informations publiques trouvées pour «\u202fDOUBLE DE TEST\u202f»"),
        (Reply(404, error_body("01003", "Entité non trouvée")), "Aucune donnée publique"),
        (Reply(451, b""), "ne peuvent pas être affichées"),
        (Reply(401, error_body("00103", "Jeton expiré")), "momentanément indisponible"),
        (Reply(403, error_body("00100", "Privilèges")), "momentanément indisponible"),
        (Reply(429, b"", headers={"Retry-After": "20"}), "saturé"),
        (Reply(502, b""), "temporairement indisponible"),
        (Reply(504, error_body("01002", "Hors délai")), "temporairement indisponible"),
        (Reply(hang=True), "temporairement indisponible"),
        (Reply(trickle=0.05), "temporairement indisponible"),
        (Reply(body="{"), "temporairement indisponible"),
        (Reply(body=b"x", content_length=10**9), "temporairement indisponible"),
        (Reply(body="<html>", content_type="text/html"), "temporairement indisponible"),
    ],
)
def test_route_answers_every_fault_with_its_message(portal, double, reply, words):
    double.queue(reply)
    started = time.monotonic()
    response = portal.get(f"/demande/tiers?siret={valid_siret(1)}", headers=HTMX)
    assert time.monotonic() - started < 1.5
    assert response.status_code == 200
    assert words in response.get_data(as_text=True)


def test_route_survives_a_refused_connection(tmp_path):
    app = portal_on(tmp_path, refused_url())
    response = app.test_client().get(f"/demande/tiers?siret={valid_siret(2)}", headers=HTMX)
    assert response.status_code == 200
    assert "temporairement indisponible" in response.get_data(as_text=True)


def test_route_without_javascript_gets_the_whole_page(portal, double):
    response = portal.get(f"/demande/tiers?siret={valid_siret(3)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html and "DOUBLE DE TEST" in html
