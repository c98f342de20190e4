"""How values are shown to people: euros, SIRET grouping, French dates, Paris times."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from portail.core.paris_time import PARIS, aware, in_paris


def euros(cents: int | None) -> str:
    """12345678 -> '123 456,78 €' (French grouping with narrow no-break spaces)."""
    if cents is None:
        return ""
    amount = Decimal(cents) / 100
    text = f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€"


def siret_fr(value: str | None) -> str:
    """Group a SIRET the way INSEE prints it: 123 456 789 00012."""
    value = value or ""
    if len(value) == 14 and value.isdigit():
        return f"{value[:3]} {value[3:6]} {value[6:9]} {value[9:]}"
    return value


def date_fr(value: str | None) -> str:
    """YYYY-MM-DD (or an ISO timestamp) as DD/MM/YYYY; anything else unchanged."""
    value = value or ""
    if len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
    return value


def paris_date(moment: datetime | None) -> str:
    """A date as DD/MM/YYYY in Paris time."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y") if moment else ""


def paris_datetime(value: datetime | str | None) -> str:
    """A time as 'DD/MM/YYYY à HH:MM' in Paris time (accepts stored ISO strings)."""
    return in_paris(value, "%d/%m/%Y à %H:%M")


def count_of(count: int, singular: str, plural: str | None = None) -> str:
    """'0 heure', '1 heure', '3 heures', '1 500 chiffres': French puts 0 and 1 in the singular;
    thousands grouped with narrow no-break spaces."""
    word = singular if abs(count) < 2 else plural or f"{singular}s"
    return f"{count:,}".replace(",", "\u202f") + f" {word}"


MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def _day_month_year(year: int, month: int, day: int) -> str:
    return f"{'1er' if day == 1 else day} {MONTHS[month - 1]} {year}"


def date_long(value: str | None) -> str:
    """'2019-05-01' (or an ISO timestamp's date) -> '1er mai 2019'; anything else unchanged."""
    value = value or ""
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        return value
    return _day_month_year(day.year, day.month, day.day)


def paris_long(value: datetime | str | None) -> str:
    """A stored time in words, Paris time: '30 novembre 2026 à 14 h 05' (no-break spaces
    around the h, so the time never breaks across lines)."""
    if not value:
        return ""
    moment = aware(value)
    if moment is None:
        return str(value)
    local = moment.astimezone(PARIS)
    day = _day_month_year(local.year, local.month, local.day)
    return f"{day} à {local.hour}\u00a0h\u00a0{local.minute:02d}"


def days_words(days: int) -> str:
    """'1 jour', '12 jours'."""
    days = abs(days)
    return f"{days} jour{'s' if days > 1 else ''}"
