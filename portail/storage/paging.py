"""Pages of a long list, newest first, that cost the same on page 1 and on page 20,000.

Lists (the API journal, the deposits) are ordered by (a time column DESC, id DESC). A page
is found from a cursor, the id of the row it follows (`after`) or precedes (`before`): the
query starts right at that row through the index instead of skipping rows (keyset paging).
A page number without a cursor (`?page=3`, links from before keyset paging) still works up
to `MAX_OFFSET_PAGE`, where skipping stays cheap.

Counts are capped: counting a million matching rows costs more than showing them, and
"plus de 10 000" is all an agent needs. An unfiltered list counts from its ids instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlite_utils

from portail.storage.database import fetch_all, fetch_one

COUNT_CAP = 10_000


PER_PAGE = 50


MAX_OFFSET_PAGE = COUNT_CAP // PER_PAGE


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (older than) or before (newer than) the row with this id;
    neither for a numbered page."""

    after: int | None = None
    before: int | None = None
    page: int = 1


@dataclass(frozen=True)
class Page:
    """One page of rows, newest first, and what the navigation needs."""

    rows: list[dict]
    page: int
    per_page: int
    total: int  # exact when not `capped`, else COUNT_CAP
    capped: bool  # more than COUNT_CAP rows match
    has_previous: bool
    has_next: bool

    @property
    def pages(self) -> int | None:
        """Number of pages, None when the count is capped."""
        return None if self.capped else max(1, -(-self.total // self.per_page))

    @property
    def first_id(self) -> int | None:
        """The cursor of the page before this one."""
        return self.rows[0]["id"] if self.rows else None

    @property
    def last_id(self) -> int | None:
        """The cursor of the page after this one."""
        return self.rows[-1]["id"] if self.rows else None


def count_capped(
    db: sqlite_utils.Database, table: str, where: str, params: list
) -> tuple[int, bool]:
    """(count, capped): the number of matching rows, stopping at COUNT_CAP + 1.

    Unfiltered, the count comes from the ids (rows are never deleted but by a purge of the
    oldest, which keeps the ids of the rest contiguous): two index lookups.
    """
    if not where:
        # Two subqueries: SQLite reads one index end for a lone min() or max() only.
        # Bandit B608: `table`, `where` and `order` are the callers' fixed SQL (see fetch_page).
        sql = f"SELECT (SELECT max(id) FROM {table}) - (SELECT min(id) FROM {table}) + 1 AS n"  # noqa: S608  # nosec B608
        row = fetch_one(db, sql)
        return (row["n"] or 0), False
    sql = f"SELECT count(*) AS n FROM (SELECT 1 FROM {table}{where} LIMIT ?)"  # noqa: S608  # nosec B608
    total = fetch_one(db, sql, [*params, COUNT_CAP + 1])["n"]
    return (COUNT_CAP, True) if total > COUNT_CAP else (total, False)


def fetch_page(  # noqa: PLR0913 - one query, told in keywords
    db: sqlite_utils.Database,
    *,
    select: str,
    table: str,
    order: str,
    where: str,
    params: list,
    cursor: Cursor,
    per_page: int = PER_PAGE,
) -> Page:
    """The page `cursor` designates among the rows `where` selects, ordered by
    (`order` DESC, id DESC). `select` and `where` are fixed SQL fragments; values travel
    in `params`. A cursor row that no longer exists gives the first page."""
    anchor_id = cursor.after or cursor.before
    anchor = None
    if anchor_id is not None:
        anchor_sql = f"SELECT {order} AS o, id FROM {table} WHERE id = ?"  # noqa: S608  # nosec B608
        anchor = fetch_one(db, anchor_sql, [anchor_id])
    glue = " AND " if where else " WHERE "
    newest_first = f" ORDER BY {order} DESC, id DESC LIMIT ?"
    if anchor is not None and cursor.after is not None:
        sql = f"{select}{where}{glue}{order} <= ? AND ({order} < ? OR id < ?){newest_first}"
        rows = fetch_all(db, sql, [*params, anchor["o"], anchor["o"], anchor["id"], per_page + 1])
        has_previous, has_next = True, len(rows) > per_page
        page = max(2, cursor.page)
    elif anchor is not None:
        sql = (
            f"{select}{where}{glue}{order} >= ? AND ({order} > ? OR id > ?) "
            f"ORDER BY {order} ASC, id ASC LIMIT ?"
        )
        rows = fetch_all(db, sql, [*params, anchor["o"], anchor["o"], anchor["id"], per_page + 1])
        has_previous, has_next = len(rows) > per_page, True
        rows = rows[:per_page][::-1]
        page = max(2, cursor.page) if has_previous else 1
    else:
        page = 1 if anchor_id is not None else max(1, cursor.page)
        if page == 1:
            rows = fetch_all(db, select + where + newest_first, [*params, per_page + 1])
            if len(rows) <= per_page:  # everything is on screen: no count needed
                return Page(rows, 1, per_page, len(rows), False, False, False)
        else:
            total, capped = count_capped(db, table, where, params)
            # Skipping rows costs as many rows as skipped: numbered pages stop at
            # MAX_OFFSET_PAGE (the keyset links go anywhere).
            page = min(page, MAX_OFFSET_PAGE, max(1, -(-total // per_page)))
            sql = select + where + newest_first + " OFFSET ?"
            rows = fetch_all(db, sql, [*params, per_page + 1, (page - 1) * per_page])
            rows_shown = rows[:per_page]
            return Page(rows_shown, page, per_page, total, capped, page > 1, len(rows) > per_page)
        has_previous, has_next = False, True
    total, capped = count_capped(db, table, where, params)
    if not capped:
        page = min(page, max(1, -(-total // per_page)))
    return Page(rows[:per_page], page, per_page, total, capped, has_previous, has_next)


def iter_all(
    db: sqlite_utils.Database, *, select: str, order: str, where: str, params: list
) -> Iterator[tuple]:
    """Every row `where` selects, newest first (`order` DESC, id DESC), as tuples read
    straight from the connection's cursor in batches: constant memory (the CSV exports)."""
    rows = db.conn.execute(f"{select}{where} ORDER BY {order} DESC, id DESC", params)
    while batch := rows.fetchmany(500):
        yield from batch
