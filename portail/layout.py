"""What every page's layout needs to know: demonstration mode, the pinned htmx file."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from portail import form_fields
from portail.admin_settings import paris_datetime
from portail.labels import FIELD_LABELS

HTMX_FILE = "htmx-2.0.11.min.js"


def init_app(app: Flask) -> None:
    """Register the template context shared by every page."""

    @app.context_processor
    def layout_context():
        from portail.db import get_settings

        def demo_mode() -> bool:
            # Called by base.html only: pages that never render it pay nothing.
            return get_settings().demo

        return {"demo_mode": demo_mode, "htmx_file": HTMX_FILE, "labels": FIELD_LABELS}

    app.add_template_global(form_fields.field, "field")
    app.add_template_filter(siret_fr)
    app.add_template_filter(date_fr)
    app.add_template_filter(euros)
    app.add_template_filter(paris_datetime)


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
