"""CSV exports for a French spreadsheet, streamed, one at a time per process.

A file opens as UTF-8 in a spreadsheet thanks to its BOM, with `;` between cells (the
French list separator). A cell that begins with = + - @ a tab or a carriage return gets a
leading apostrophe, so the spreadsheet shows it as text instead of running it (CSV
injection). Rows come from the connection's cursor and leave in pieces of about 64 kB:
memory stays constant whatever the export's size.

A full export of the journal reads a million rows: two at once would slow the applicants
served by the same process, so each app holds one export at a time (`Services.exports`);
another agent is told to try again shortly (429 with Retry-After).
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from flask import Response, render_template, stream_with_context

from portail.web.extensions import get_services

RETRY_AFTER_SECONDS = 30


_CHUNK = 64 * 1024


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(text: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def euros_cell(cents: int | None) -> str:
    """12345 -> '123,45': a number a French spreadsheet reads as such (no grouping)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    units, hundredths = divmod(abs(cents), 100)
    return f"{sign}{units},{hundredths:02d}"


def lines(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text of the rows (already formatted cells), in pieces of about 64 kB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")  # spreadsheets read the file as UTF-8 (accents intact)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > _CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def busy_response() -> Response:
    """429: another export is running in this process."""
    response = Response(render_template("admin/export_busy.html"), status=429)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def streamed(filename_stem: str, produce: Callable[[], Iterator[str]]) -> Response:
    """The export as a download, holding the app's export slot while it streams.

    `produce` is called once the slot is held. Without a free slot: busy_response().
    The slot is given back when the stream ends, fails or is closed by the server (a
    client gone mid-way), whichever comes first.
    """
    slot: threading.BoundedSemaphore = get_services().exports
    if not slot.acquire(blocking=False):
        return busy_response()
    once = threading.Lock()

    def release() -> None:
        if once.acquire(blocking=False):  # whichever path comes first gives the slot back
            slot.release()

    def body() -> Iterator[str]:
        try:
            yield from produce()
        finally:
            release()

    try:
        response = Response(stream_with_context(body()), mimetype="text/csv")
    except BaseException:
        release()
        raise
    response.call_on_close(release)  # a stream closed before its first piece
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename_stem}-{date.today().isoformat()}.csv"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
