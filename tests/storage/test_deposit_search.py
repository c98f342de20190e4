"""Finding deposits (storage.deposit_search): each search key, Paris days, the certified
state, keyset pages that never skip nor repeat a row, capped counts, the m0300 backfill."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portail.storage import database, deposit_search, deposits, paging
from portail.storage.database import immediate
from portail.storage.deposit_search import DepositFilter, classify

SIRET = "73282932000074"


def file(db, name: str = "Association test", siret: str = SIRET, **values) -> str:
    base = {"siret": siret, "raison_sociale": name, "intitule_projet": "Projet", **values}
    return deposits.file_deposit(db, base, Decimal("1234.5"), None).ref


def refs(db, flt: DepositFilter) -> list[str]:
    return [row["ref"] for row in deposit_search.search(db, flt).rows]


def test_name_search_ignores_accents_and_case_and_matches_word_beginnings(database):
    music = file(database, "ÉCOLE DE MUSIQUE de Sète")
    choir = file(database, "Chœur d'Évreux")
    file(database, "Club sportif")
    assert refs(database, classify("ecole")) == [music]
    assert refs(database, classify("École Musique")) == [music]
    assert refs(database, classify("musique ÉCOLE")) == [music]  # any order
    assert refs(database, classify("sete")) == [music]
    assert refs(database, classify("choeur evreux")) == [choir]
    assert refs(database, classify("cole")) == []  # a word's beginning, not any substring
    assert refs(database, classify("ecole club")) == []  # every word must match


def test_the_filing_path_fills_the_search_column(database):
    ref = file(database, "  Foyer   RURAL-de l'Œuvre ")
    [row] = database.query("SELECT search_name FROM deposits WHERE ref = ?", [ref])
    assert row["search_name"] == " foyer rural de l oeuvre "


def test_search_by_siret_siren_and_reference_typed_loosely(database):
    mine = file(database, siret=SIRET)
    sibling = file(database, siret=SIRET[:9] + "00082")
    other = file(database, siret="99999999900019")
    assert classify("732 829 320 00074") == DepositFilter(siret=SIRET)
    assert refs(database, classify("732 829 320 00074")) == [mine]
    assert set(refs(database, classify("732829320"))) == {mine, sibling}
    assert refs(database, classify(mine.lower())) == [mine]
    assert refs(database, classify(mine.replace("-", " "))) == [mine]
    assert mine in refs(database, classify(mine[:14]))  # a reference's beginning
    assert other not in refs(database, classify(mine[:14]))
    assert classify("aide 2026 7kqm") == DepositFilter(ref="AIDE-2026-7KQM")


def test_date_filter_uses_paris_days(database):
    late = file(database, "Late")
    noon = file(database, "Noon")
    database.execute(
        "UPDATE deposits SET created_at = ? WHERE ref = ?", ["2026-03-01T23:30:00+00:00", late]
    )  # 2 March, 00:30 in Paris
    database.execute(
        "UPDATE deposits SET created_at = ? WHERE ref = ?", ["2026-03-01T12:00:00+00:00", noon]
    )
    march_2 = DepositFilter(day_from=date(2026, 3, 2), day_to=date(2026, 3, 2))
    assert refs(database, march_2) == [late]
    march_1 = DepositFilter(day_from=date(2026, 3, 1), day_to=date(2026, 3, 1))
    assert refs(database, march_1) == [noon]
    assert refs(database, DepositFilter(day_from=date(2026, 3, 2))) == [late]


def test_certified_state_filter_and_setter(database):
    unchecked = file(database, "A")
    match = file(database, "B")
    gaps = file(database, "C")
    closed = file(database, "D")
    assert deposit_search.set_certified_state(database, match, "match")
    assert deposit_search.set_certified_state(database, gaps, "differences")
    assert deposit_search.set_certified_state(database, closed, "closed")
    assert not deposit_search.set_certified_state(database, "AIDE-2026-XXXX-XXXX-XXXX", "match")
    with pytest.raises(ValueError, match="unknown certified state"):
        deposit_search.set_certified_state(database, match, "conforme")
    assert refs(database, DepositFilter(certified=deposit_search.UNCHECKED)) == [unchecked]
    assert refs(database, DepositFilter(certified="match")) == [match]
    assert refs(database, DepositFilter(certified="differences")) == [gaps]
    assert refs(database, DepositFilter(certified="closed")) == [closed]
    deposit_search.set_certified_state(database, closed, None)
    assert set(refs(database, DepositFilter(certified=deposit_search.UNCHECKED))) == {
        unchecked,
        closed,
    }
    assert [label for _state, label in deposit_search.CERTIFIED_STATES] == [
        "non vérifiée",
        "conforme",
        "écarts",
        "établissement fermé",
    ]


def test_keyset_pages_never_skip_nor_repeat_a_row_with_equal_times(database):
    for number in range(130):
        file(database, f"Association {number}")
    # Three deposits a second: ties on created_at are broken by id.
    database.execute(
        "UPDATE deposits SET created_at = '2026-01-01T10:00:0' || (id / 3 % 10) || '+00:00'"
    )
    expected = [
        row["ref"]
        for row in database.query("SELECT ref FROM deposits ORDER BY created_at DESC, id DESC")
    ]
    seen, cursor = [], paging.Cursor()
    while True:
        page = deposit_search.search(database, DepositFilter(), cursor)
        seen += [row["ref"] for row in page.rows]
        if not page.has_next:
            break
        cursor = paging.Cursor(after=page.last_id, page=page.page + 1)
    assert seen == expected and page.page == 3
    # And back again with the "previous" cursors.
    back = [row["ref"] for row in page.rows]
    while page.has_previous:
        page = deposit_search.search(
            database, DepositFilter(), paging.Cursor(before=page.first_id, page=page.page - 1)
        )
        back = [row["ref"] for row in page.rows] + back
    assert back == expected and page.page == 1


def test_count_is_exact_below_the_cap_and_capped_above(database):
    for number in range(3):
        file(database, f"Club {number}")
    page = deposit_search.search(database, classify("club"))
    assert (page.total, page.capped, page.pages) == (3, False, 1)
    rows = [
        (f"AIDE-2026-BULK-{n:04d}-XXXX", "2026-01-01T00:00:00+00:00", " club ", "{}")
        for n in range(10_001)
    ]
    with immediate(database):  # one transaction: one sync
        database.conn.executemany(
            "INSERT INTO deposits (ref, created_at, search_name, values_json) VALUES (?, ?, ?, ?)",
            rows,
        )
    page = deposit_search.search(database, classify("club"))
    assert page.capped and page.total == paging.COUNT_CAP and page.pages is None
    assert len(page.rows) == paging.PER_PAGE and page.has_next
    unfiltered = deposit_search.search(database, DepositFilter())
    assert unfiltered.total == 10_004 and not unfiltered.capped


def test_migration_backfills_the_names_of_existing_deposits(tmp_path):
    db = database.connect(tmp_path / "old.sqlite3")
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, module in database._migration_modules():  # noqa: SLF001
        if name < "m0300":
            module.up(db)
            db.execute("INSERT INTO _migrations VALUES (?, '')", [name])
    db.execute(
        "INSERT INTO deposits (ref, created_at, raison_sociale, values_json) "
        "VALUES ('AIDE-2024-AAAA-BBBB-CCCC', '2024-05-01T10:00:00+00:00', 'ÉCOLE DE MUSIQUE', '{}')"
    )
    applied = database.migrate(db)
    assert "m0300_deposit_search" in applied and "m0301_journal_filters" in applied
    assert refs(db, classify("ecole")) == ["AIDE-2024-AAAA-BBBB-CCCC"]
    # migrate() ran ANALYZE: the planner has statistics for the new indexes.
    assert db.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0
    db.conn.close()
