"""Through the applicant's route `/demande/tiers`: every API fault gives its French status
line, never a 500, and the timeout configured in app.config applies."""

from __future__ import annotations

import time

import pytest
from stdnum import luhn

from app import create_app
from portail import settings, store
from portail.tokens import mint_token
from tests.fault_double import FaultDouble, Reply, error_body

HTMX = {"HX-Request": "true", "HX-Target": "tiers-block"}


def valid_siret(number: int) -> str:
    """A SIRET that passes the form's checks (Luhn on SIREN and SIRET)."""
    siren = f"{77_000_000 + number:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)


@pytest.fixture
def double():
    """The loopback API double."""
    with FaultDouble() as server:
        yield server


@pytest.fixture
def portal(tmp_path, double):
    """A portal whose settings point at the double, with a short API timeout."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "portail.sqlite3"),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DEMO_ADMIN": False,
            "EXTRA_API_BASE_URLS": [double.url],
            "API_TIMEOUT_SECONDS": 0.5,
        }
    )
    db = store.connect(app.config["DATABASE"])
    settings.save(
        db,
        {
            "enabled": True,
            "api_url": double.url,
            "recipient_siret": "21999001700010",
            "token": mint_token(["open_data"]),
            "context": "Aides publiques",
        },
        actor="test",
    )
    db.conn.close()
    return app.test_client()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply(), "Informations publiques trouvées pour « DOUBLE DE TEST »"),
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
    from tests.fault_double import refused_url

    url = refused_url()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "portail.sqlite3"),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DEMO_ADMIN": False,
            "EXTRA_API_BASE_URLS": [url],
        }
    )
    db = store.connect(app.config["DATABASE"])
    settings.save(db, {"api_url": url}, actor="test")
    db.conn.close()
    response = app.test_client().get(f"/demande/tiers?siret={valid_siret(2)}", headers=HTMX)
    assert response.status_code == 200
    assert "temporairement indisponible" in response.get_data(as_text=True)


def test_route_without_javascript_gets_the_whole_page(portal, double):
    response = portal.get(f"/demande/tiers?siret={valid_siret(3)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html and "DOUBLE DE TEST" in html
