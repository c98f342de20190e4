"""Issue 10: the receipt link shows the personal fields only for RECEIPT_PERSONAL_HOURS after
filing (a day by default); after that, the reference, the date and the organisation only."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.applicant.htmx_helpers import complete_form, csrf_token

PERSONAL = (
    "Durand",
    "Élise",
    "Présidente",
    "elise.durand@example.org",
    "02 99 00 00 00",
    "Jardin pédagogique",
    "Un jardin ouvert aux écoles du quartier.",
    "1\u202f500,50",
    "RUE DES LILAS",
    "4 ter",
)


def file_one(client) -> tuple[str, str]:
    response = client.post("/demande", data=complete_form(csrf_token(client)))
    assert response.status_code == 303
    url = response.headers["Location"]
    return url, re.search(r"/demande/([^/]+)/recu", url)[1]


def age(db, ref: str, hours: float) -> None:
    filed = datetime.now(UTC) - timedelta(hours=hours)
    db.execute(
        "UPDATE deposits SET created_at = ? WHERE ref = ?",
        [filed.isoformat(timespec="seconds"), ref],
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_fresh_receipt_shows_everything_and_says_for_how_long(client):
    url, ref = file_one(client)
    page = text(client.get(url))
    assert ref in page
    for value in PERSONAL:
        assert value in page, value
    assert "pendant 24 heures" in page


def test_a_receipt_older_than_a_day_shows_reference_date_and_organisation_only(client, db):
    url, ref = file_one(client)
    age(db, ref, hours=24.5)
    response = client.get(url)
    assert response.status_code == 200
    page = text(response)
    assert ref in page
    assert "Déposée le" in page
    assert "Les Jardins Partagés" in page and "732 829 320 00074" in page
    assert "ne s'affiche plus sur cette page" in page
    for value in PERSONAL:
        assert value not in page, value
    assert response.headers["Cache-Control"] == "no-store"


def test_the_duration_is_configurable(app, client, db):
    url, ref = file_one(client)
    age(db, ref, hours=30)
    app.config["RECEIPT_PERSONAL_HOURS"] = 48
    assert "elise.durand@example.org" in text(client.get(url))
    app.config["RECEIPT_PERSONAL_HOURS"] = 2
    age(db, ref, hours=3)
    assert "elise.durand@example.org" not in text(client.get(url))


@pytest.mark.parametrize("wrong", ["beaucoup", -3, 1.5, None])
def test_a_wrong_setting_falls_back_to_a_day(app, client, db, wrong):
    app.config["RECEIPT_PERSONAL_HOURS"] = wrong
    url, ref = file_one(client)
    age(db, ref, hours=23)
    assert "elise.durand@example.org" in text(client.get(url))
    age(db, ref, hours=25)
    assert "elise.durand@example.org" not in text(client.get(url))
