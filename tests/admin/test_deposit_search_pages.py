"""/admin/demandes for agents: the search form, filters kept in links, French messages,
the CSV export of the selection (journaled, one at a time), and no data without login."""

from __future__ import annotations

import csv
import functools
import io
import re
from decimal import Decimal

import pytest

from portail.admin.common import EVENT_LABELS
from portail.storage import deposit_search, deposits
from tests.admin_helpers import make_app, page_text
from tests.api_helpers import journal_row

text = functools.partial(page_text, collapse_spaces=True)

SIRET = "73282932000074"


def file(db, name: str, siret: str = SIRET, amount: str = "1234.5", **values) -> str:
    base = {"siret": siret, "raison_sociale": name, "intitule_projet": "Projet", **values}
    return deposits.file_deposit(db, base, Decimal(amount), None).ref


def listed_refs(response) -> list[str]:
    return re.findall(r'href="/admin/demandes/(AIDE-[^"]+)"', response.get_data(as_text=True))


def csv_rows(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_the_form_is_a_labelled_get_form_with_a_live_count(auth, client, db):
    file(db, "ÉCOLE DE MUSIQUE")
    page = client.get("/admin/demandes").get_data(as_text=True)
    assert '<form method="get" action="/admin/demandes"' in page
    assert "<legend>Rechercher des demandes</legend>" in page
    for field in ("q", "du", "au", "verification"):
        assert f'<label for="f-{field}">' in page and f'id="f-{field}" name="{field}"' in page
    assert '<p role="status" aria-live="polite">1 demande au total.</p>' in page
    assert "Exporter (CSV)" in page


def test_search_by_name_siret_siren_and_reference(auth, client, db):
    music = file(db, "ÉCOLE DE MUSIQUE", siret="73282932000074")
    club = file(db, "Club sportif", siret="73282932000082")
    other = file(db, "Amicale", siret="99999999900019")
    assert listed_refs(client.get("/admin/demandes?q=ecole")) == [music]
    assert listed_refs(client.get("/admin/demandes?q=732+829+320+00082")) == [club]
    assert set(listed_refs(client.get("/admin/demandes?q=732829320"))) == {music, club}
    assert listed_refs(client.get(f"/admin/demandes?q={other.lower()}")) == [other]
    found = text(client.get("/admin/demandes?q=ecole"))
    assert "1 demande correspondant à la recherche." in found
    assert 'value="ecole"' in found  # the typed text stays in the box
    none = text(client.get("/admin/demandes?q=zzzz"))
    assert "Aucune demande ne correspond à cette recherche." in none


def test_filters_by_day_and_certified_state(auth, client, db):
    old = file(db, "Ancienne")
    new = file(db, "Nouvelle")
    db.execute(
        "UPDATE deposits SET created_at = '2025-12-31T23:30:00+00:00' WHERE ref = ?", [old]
    )  # 1 January 2026, 00:30 in Paris
    deposit_search.set_certified_state(db, new, "differences")
    assert listed_refs(client.get("/admin/demandes?du=2026-01-01&au=2026-01-01")) == [old]
    assert listed_refs(client.get("/admin/demandes?au=2025-12-31")) == []
    assert listed_refs(client.get("/admin/demandes?verification=differences")) == [new]
    assert listed_refs(client.get("/admin/demandes?verification=non-verifiee")) == [old]
    page = text(client.get("/admin/demandes?verification=differences"))
    assert "<td>écarts</td>" in page and '<option value="differences" selected>' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=" + "a" * 101, "Saisissez au plus 100 caractères."),
        ("q=%21%21%21", "Saisissez une référence, un SIRET, un SIREN ou des mots du nom"),
        ("q=AIDE-2026", "au moins son début jusqu'au premier caractère après l'année"),
        ("du=hier", "Saisissez une date au format AAAA-MM-JJ."),
        ("du=2026-02-01&au=2026-01-01", "La date de fin doit suivre la date de début."),
        ("du=9999-01-01", "Saisissez une date entre l'an 2000 et l'an 2100."),
        ("verification=peut-etre", "Choisissez un état de vérification dans la liste."),
    ],
)
def test_bad_input_gets_a_french_message_never_a_500(auth, client, db, query, message):
    file(db, "Association")
    response = client.get(f"/admin/demandes?{query}")
    assert response.status_code == 422
    assert message in text(response)
    csv_response = client.get(f"/admin/demandes?format=csv&{query}")
    assert csv_response.status_code == 422 and csv_response.mimetype == "text/html"


def test_pages_keep_the_filters_and_walk_every_row_once(auth, client, db):
    expected = [file(db, f"Club numéro {number}") for number in range(120)]
    file(db, "Amicale")
    db.execute("UPDATE deposits SET created_at = '2026-01-01T10:00:00+00:00'")  # all tied
    seen, url = [], "/admin/demandes?q=club"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += listed_refs(client.get(url))
        following = re.search(r'href="([^"]+)" rel="next"', page)
        url = following.group(1).replace("&amp;", "&") if following else None
        if url:
            assert "q=club" in url and "apres=" in url
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)) == 120
    assert "120 demandes correspondant à la recherche, page 3 sur 3." in text(
        client.get(url or "/admin/demandes?q=club&page=3")
    )


def test_csv_export_is_the_selection_on_screen_for_a_french_spreadsheet(auth, client, db):
    file(db, '=HYPERLINK("http://x")', amount="1234.5")
    file(db, "+33 Club", amount="0.07")
    file(db, "Amicale", amount="1000000")
    on_screen = listed_refs(client.get("/admin/demandes?q=club"))
    response = client.get("/admin/demandes?q=club&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="demandes-' in response.headers["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[0] == "Référence" and header[5] == "Montant demandé (€)"
    assert [row[0] for row in rows] == on_screen
    assert rows[0][3] == "'+33 Club" and rows[0][5] == "0,07"
    everything = csv_rows(client.get("/admin/demandes?format=csv"))[1:]
    assert len(everything) == 3
    by_amount = {row[5]: row for row in everything}
    assert set(by_amount) == {"1234,50", "0,07", "1000000,00"}
    assert by_amount["1234,50"][3] == '\'=HYPERLINK("http://x")'
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", everything[0][1])  # Paris time
    assert everything[0][7] == "non vérifiée"


def test_each_export_is_journaled_with_the_agent_and_the_selection(auth, client, db):
    file(db, "Club")
    client.get("/admin/demandes?q=club&du=2026-01-01&verification=match&format=csv").get_data()
    [event] = db.query("SELECT * FROM admin_events WHERE event = 'deposits_exported'")
    assert event["username"] == "alice" and event["admin_id"] is not None and event["ip"]
    assert event["detail"] == "nom «\u202fclub\u202f», du 2026-01-01, vérification\u202f: conforme"
    assert EVENT_LABELS["deposits_exported"] == "Export des demandes"
    assert "Export des demandes" in text(client.get("/admin/"))


@pytest.mark.parametrize("url", ["/admin/demandes?format=csv", "/admin/journal?format=csv"])
def test_a_second_concurrent_export_is_refused_with_429(auth, client, db, url):
    file(db, "Association")
    journal_row(db)
    # The first export holds the slot while its stream is open (here: suspended after
    # its first piece, as when the network is slower than the database).
    first = client.get(url, buffered=False)
    pieces = first.iter_encoded()
    assert next(pieces).startswith("\ufeff".encode())
    second = client.get(url)
    assert second.status_code == 429 and second.headers["Retry-After"] == "30"
    assert "Un autre export CSV est en cours" in text(second)
    assert client.get("/admin/demandes").status_code == 200  # pages are not held up
    first.close()
    assert client.get(url).status_code == 200  # the slot is free again


def test_an_export_closed_before_its_first_piece_frees_the_slot(auth, client, db):
    client.get("/admin/demandes?format=csv", buffered=False).close()
    assert client.get("/admin/demandes?format=csv").status_code == 200


def test_anonymous_users_get_the_login_page_never_data(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    for url in (
        "/admin/demandes?q=club",
        "/admin/demandes?format=csv",
        "/admin/journal?format=csv",
    ):
        response = client.get(url)
        assert response.status_code == 303
        assert "/admin/connexion" in response.headers["Location"]
        assert b"AIDE-" not in response.data and response.mimetype != "text/csv"
