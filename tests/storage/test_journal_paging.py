"""The journal at the size it will reach: every filter served by an index in the list's
order (no sort of the matches), keyset pages, capped counts, the export's Paris times."""

from __future__ import annotations

import random
from datetime import date

import pytest

from portail.storage import journal, paging
from portail.storage.database import immediate
from portail.storage.journal import JournalFilter
from tests.api_helpers import journal_row

SIRET = "12345678900011"


def bulk_rows(db, count: int, seed: int = 1) -> None:
    """A realistic mix of journal rows over three years, inserted in bulk."""
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        draw = rng.random()
        source, status = "api", 200
        if draw < 0.1:
            source, status = "cache", None
        elif draw < 0.12:
            source, status = "refused", None
        elif draw < 0.16:
            status = 404
        elif draw < 0.17:
            status = None
        day = number * 1000 // count
        at = f"{2023 + day // 365}-{day % 365 // 31 + 1:02d}-{day % 28 + 1:02d}T10:00:00.000+00:00"
        rows.append((at, "/route", f"{rng.randrange(10**13, 10**14)}", status, source))
    with immediate(db):  # one transaction: one sync
        db.conn.executemany(
            "INSERT INTO api_journal (at, route, target, status, source) VALUES (?, ?, ?, ?, ?)",
            rows,
        )


FILTERS = [
    JournalFilter(),
    JournalFilter(status="2xx"),
    JournalFilter(status="erreur"),
    JournalFilter(status="cache"),
    JournalFilter(status="transport"),
    JournalFilter(status="refuse"),
    JournalFilter(status="404"),
    JournalFilter(day_from=date(2024, 1, 1), day_to=date(2024, 12, 31)),
    JournalFilter(status="2xx", day_from=date(2024, 1, 1), day_to=date(2024, 1, 31)),
    JournalFilter(siret=SIRET, day_from=date(2024, 1, 1)),
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda flt: repr(flt)[14:60])
def test_every_filter_reads_an_index_in_the_list_order(database, flt):
    bulk_rows(database, 5000)
    database.execute("ANALYZE")
    where, params = journal._where(flt)  # noqa: SLF001
    sql = f"{journal._SELECT}{where} ORDER BY at DESC, id DESC LIMIT 51"  # noqa: SLF001
    plan = " ".join(row[3] for row in database.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    if flt.siret:  # the rows of one SIRET are few: sorting them is cheap
        assert "api_journal_target" in plan
    else:
        assert "TEMP B-TREE" not in plan and "USING INDEX" in plan, plan


def test_filters_still_select_the_right_rows_with_the_new_indexes(database):
    journal_row(database, at="2024-01-01T10:00:00.000+00:00")
    journal_row(database, status=404, kind="not_found", at="2024-01-02T10:00:00.000+00:00")
    journal_row(database, status=None, kind="timeout", at="2024-01-03T10:00:00.000+00:00")
    journal_row(database, status=503, kind="unavailable", at="2024-01-04T10:00:00.000+00:00")
    journal_row(database, cache_hit=True, at="2024-01-05T10:00:00.000+00:00")
    journal_row(database, joined=True, at="2024-01-06T10:00:00.000+00:00")
    journal_row(database, status=None, refused=True, at="2024-01-07T10:00:00.000+00:00")

    def days(status):
        page = journal.search(database, JournalFilter(status=status))
        return [row["at"][8:10] for row in page.rows]

    assert days("2xx") == ["01"]
    assert days("erreur") == ["04", "03", "02"]
    assert days("transport") == ["03"]
    assert days("cache") == ["06", "05"]
    assert days("refuse") == ["07"]
    assert days("503") == ["04"]
    assert days("") == ["07", "06", "05", "04", "03", "02", "01"]


def test_rows_are_ordered_by_time_even_when_written_late(database):
    journal_row(database, request_id="new", at="2026-03-02T10:00:00.000+00:00")
    journal_row(database, request_id="old", at="2026-03-01T10:00:00.000+00:00")  # written late
    journal_row(database, request_id="tie", at="2026-03-02T10:00:00.000+00:00")
    rows = journal.search(database, JournalFilter()).rows
    assert [row["request_id"] for row in rows] == ["tie", "new", "old"]


def test_keyset_pages_never_skip_nor_repeat_a_row(database):
    for number in range(125):
        # Five rows per millisecond: ties broken by id.
        journal_row(
            database, request_id=f"r{number}", at=f"2026-03-01T10:00:00.{number // 5:03d}+00:00"
        )
    expected = [f"r{number}" for number in range(124, -1, -1)]
    flt = JournalFilter(status="2xx")
    seen, cursor = [], paging.Cursor()
    while True:
        page = journal.search(database, flt, cursor)
        seen += [row["request_id"] for row in page.rows]
        if not page.has_next:
            break
        cursor = paging.Cursor(after=page.last_id, page=page.page + 1)
    assert seen == expected and page.page == 3
    back = journal.search(database, flt, paging.Cursor(before=page.first_id, page=2))
    assert [row["request_id"] for row in back.rows] == expected[50:100]
    assert back.has_previous and back.has_next and back.page == 2


def test_a_cursor_row_that_does_not_exist_gives_the_first_page(database):
    journal_row(database, request_id="only")
    page = journal.search(database, JournalFilter(), paging.Cursor(after=999, page=7))
    assert [row["request_id"] for row in page.rows] == ["only"] and page.page == 1


def test_counts_are_capped_when_filtered_and_exact_unfiltered(database):
    bulk_rows(database, paging.COUNT_CAP + 500)
    filtered = journal.search(database, JournalFilter(day_from=date(2020, 1, 1)))
    assert filtered.capped and filtered.total == paging.COUNT_CAP and filtered.pages is None
    unfiltered = journal.search(database, JournalFilter())
    assert not unfiltered.capped and unfiltered.total == paging.COUNT_CAP + 500
    # A numbered page deeper than the skipping limit is brought back to it.
    deep = journal.search(database, JournalFilter(), paging.Cursor(page=10**6))
    assert deep.page == paging.MAX_OFFSET_PAGE and len(deep.rows) == paging.PER_PAGE


@pytest.mark.parametrize(
    "iso",
    [
        "2026-03-29T00:59:59.123+00:00",  # the hour before summer time
        "2026-03-29T01:00:00.000+00:00",  # summer time starts
        "2026-10-25T00:30:00.000+00:00",
        "2026-10-25T01:30:00.000+00:00",  # back to winter time
        "2026-12-31T23:59:59.999+00:00",  # next year in Paris
        "2026-06-01T12:00:00+02:00",  # not the stored form: the long way
        "",
        None,
    ],
)
def test_fast_paris_time_agrees_with_the_long_way(iso):
    assert journal.paris_time_fast(iso) == journal.paris_time(iso)
