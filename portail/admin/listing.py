"""What the long admin lists share (deposits, journal): the page asked for in the query
string and the count in words."""

from __future__ import annotations

from portail.storage import paging


def cursor_from(args) -> paging.Cursor:
    """The page asked for: `apres`/`avant` (the id of the row the page follows or
    precedes) and `page` (its number, shown; alone, a numbered page). Junk gives page 1."""

    def number(name: str) -> int | None:
        raw = args.get(name, "")
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 16 else None

    return paging.Cursor(after=number("apres"), before=number("avant"), page=number("page") or 1)


def grouped(number: int) -> str:
    """12345 -> '12 345' (French grouping, narrow no-break space)."""
    return f"{number:,}".replace(",", "\u202f")


def count_text(page: paging.Page, singular: str, plural: str) -> str:
    """'1 demande', '120 demandes', 'plus de 10 000 demandes' (the count is capped)."""
    if page.capped:
        return f"plus de {grouped(page.total)} {plural}"
    return f"{grouped(page.total)} {singular if page.total <= 1 else plural}"
