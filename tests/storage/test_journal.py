"""The API call journal: what it records, what the dashboard and the token alert read, and
/admin/journal (login, filters, pagination, CSV export)."""

from __future__ import annotations

import csv
import html as html_module
import io
from datetime import date

import pytest

from portail.apientreprise.catalogue import (
    ROUTE_ASSOCIATION_OPEN_DATA,
    ROUTE_ETABLISSEMENT_DIFFUSIBLE,
)
from portail.storage import database as store
from portail.storage import journal, settings
from tests.admin_helpers import AuthActions, make_app
from tests.api_helpers import journal_row

SIRET = "12345678900011"


def test_a_row_holds_the_trace_fields(database):
    journal_row(database, actor="alice")
    [row] = database.query("SELECT * FROM api_journal")
    assert row["route"] == ROUTE_ETABLISSEMENT_DIFFUSIBLE
    assert row["target"] == SIRET and row["object"] == "Demande test" and row["actor"] == "alice"
    assert row["status"] == 200 and row["duration_ms"] == 12.3 and row["request_id"] == "req-1"
    assert row["source"] == "api" and row["at"].endswith("+00:00")


def test_last_success_and_last_failure_ignore_normal_answers_and_cache(database):
    assert journal.last_success(database) is None and journal.last_failure(database) is None
    journal_row(database, request_id="ok")
    journal_row(database, status=502, error_code="01999", kind="unavailable", request_id="ko")
    journal_row(database, status=404, error_code="01003", kind="not_found")
    journal_row(database, status=200, cache_hit=True)
    journal_row(database, status=None, kind="timeout", request_id=None)
    assert journal.last_success(database)["request_id"] == "ok"
    assert journal.last_failure(database)["kind"] == "timeout"


def test_token_refused_since_finds_the_latest_refusal_after_a_time(database):
    journal_row(
        database,
        status=401,
        error_code="00103",
        kind="token_refused",
        at="2026-01-01T10:00:00.000+00:00",
    )
    journal_row(
        database,
        status=403,
        error_code="00100",
        kind="scope_missing",
        at="2026-01-02T10:00:00.000+00:00",
    )
    assert journal.token_refused_since(database, "2026-01-01T12:00:00+00:00")["status"] == 403
    assert journal.token_refused_since(database, "2026-01-01T09:00:00+00:00")["status"] == 403
    assert journal.token_refused_since(database, "2026-01-03T00:00:00+00:00") is None
    # A local time with an offset is compared in UTC.
    assert journal.token_refused_since(database, "2026-01-02T11:30:00+02:00")["status"] == 403


def test_siret_filter_also_shows_the_association_call(database):
    journal_row(database)
    journal_row(database, route=ROUTE_ASSOCIATION_OPEN_DATA, target=SIRET[:9])
    journal_row(database, target="99999999900019")
    page = journal.search(database, journal.JournalFilter(siret=SIRET))
    assert page.total == 2
    siren = journal.search(database, journal.JournalFilter(siret=SIRET[:9]))
    assert siren.total == 2


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("404", 1),
        ("2xx", 1),
        ("cache", 1),
        ("transport", 1),
        ("erreur", 2),
        ("refuse", 1),
        ("", 5),
    ],
)
def test_status_filter(database, status, expected):
    journal_row(database)
    journal_row(database, status=404, kind="not_found")
    journal_row(database, cache_hit=True)
    journal_row(database, status=None, kind="timeout")
    journal_row(database, status=None, kind="budget_spent", refused=True)
    assert journal.search(database, journal.JournalFilter(status=status)).total == expected


def test_date_filter_uses_paris_days(database):
    journal_row(database, at="2026-03-01T23:30:00.000+00:00")  # 2 March, 00:30 in Paris
    journal_row(database, at="2026-03-01T12:00:00.000+00:00")
    march_2 = journal.JournalFilter(day_from=date(2026, 3, 2), day_to=date(2026, 3, 2))
    assert journal.search(database, march_2).total == 1


# -- the admin page -----------------------------------------------------------------------


@pytest.fixture
def admin(tmp_path):
    """A logged-in admin on a fresh portal, and its database."""
    app = make_app(tmp_path)
    client = app.test_client()
    auth = AuthActions(app, client)
    auth.create_admin()
    auth.login()
    db = store.connect(app.config["DATABASE"])
    yield client, db
    db.conn.close()


def test_journal_page_requires_login(tmp_path):
    client = make_app(tmp_path).test_client()
    response = client.get("/admin/journal")
    assert response.status_code == 303 and "/admin/connexion" in response.headers["Location"]
    assert client.get("/admin/journal?format=csv").status_code == 303


def test_journal_page_lists_rows_newest_first_with_cache_marked(admin):
    client, db = admin
    journal_row(db, request_id="first")
    journal_row(db, cache_hit=True, request_id="second", actor="alice")
    html = client.get("/admin/journal").get_data(as_text=True)
    assert html.index("second") < html.index("first")
    assert "Cache" in html and "123 456 789 00011" in html or SIRET in html
    assert "2 lignes" in html


def test_refused_lookups_are_marked_not_sent_and_are_neither_success_nor_failure(admin):
    client, db = admin
    journal_row(
        db,
        refused=True,
        status=None,
        duration_ms=None,
        request_id=None,
        kind="client_share_spent",
    )
    page = html_module.unescape(client.get("/admin/journal").get_data(as_text=True))
    assert "Non envoyé" in page
    assert "trop de recherches d'un même poste" in page
    assert "sans réponse" not in page
    assert journal.last_failure(db) is None and journal.last_success(db) is None


def test_journal_page_paginates_and_keeps_filters(admin):
    client, db = admin
    for number in range(120):
        journal_row(db, request_id=f"r{number}")
    journal_row(db, target="99999999900019", request_id="other")
    first = client.get(f"/admin/journal?siret={SIRET}").get_data(as_text=True)
    assert "page 1 sur 3" in first and "other" not in first
    assert f"siret={SIRET}" in first and "page=2" in first
    last = client.get(f"/admin/journal?siret={SIRET}&page=3").get_data(as_text=True)
    assert ">r0<" in last


def test_invalid_filters_are_explained(admin):
    client, _db = admin
    response = client.get("/admin/journal?siret=123&du=hier&statut=nope")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "SIRET (14 chiffres) ou un SIREN" in html and "AAAA-MM-JJ" in html


def test_csv_export_has_the_filtered_rows_and_no_formula(admin):
    client, db = admin
    journal_row(db, object_='=HYPERLINK("http://x")', request_id="exported")
    journal_row(db, target="99999999900019", request_id="filtered-out")
    response = client.get(f"/admin/journal?format=csv&siret={SIRET}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert lines[0][0] == "date_heure_paris"
    assert len(lines) == 2 and lines[1][10] == "exported"
    assert lines[1][4].startswith("'=")


def test_the_token_never_reaches_the_journal_page(admin):
    client, db = admin
    token = settings.load(db).token
    journal_row(db)
    assert token not in client.get("/admin/journal").get_data(as_text=True)
    assert token not in client.get("/admin/journal?format=csv").get_data(as_text=True)


def test_a_journal_export_is_traced_to_the_agent_with_its_selection(admin):
    client, db = admin
    journal_row(db)
    client.get(f"/admin/journal?format=csv&siret={SIRET}&du=2026-01-01").get_data()
    event = db.execute(
        "SELECT username, detail FROM admin_events WHERE event = 'journal_exported'"
    ).fetchall()
    assert event == [("alice", f"SIRET ou SIREN {SIRET}, du 2026-01-01")]
