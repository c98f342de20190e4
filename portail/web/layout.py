"""What every page's layout needs to know: demonstration mode, the pinned htmx file."""

from __future__ import annotations

from flask import Flask

from portail.core.formats import date_fr, euros, paris_datetime, siret_fr
from portail.core.labels import FIELD_LABELS
from portail.web import form_fields
from portail.web.extensions import get_settings

HTMX_FILE = "htmx-2.0.11.min.js"


def init_app(app: Flask) -> None:
    """Register the template context shared by every page."""

    @app.context_processor
    def layout_context():
        def demo_mode() -> bool:
            # Called by base.html only: pages that never render it pay nothing.
            return get_settings().demo

        return {"demo_mode": demo_mode, "htmx_file": HTMX_FILE, "labels": FIELD_LABELS}

    app.add_template_global(form_fields.field, "field")
    app.add_template_filter(siret_fr)
    app.add_template_filter(date_fr)
    app.add_template_filter(euros)
    app.add_template_filter(paris_datetime)
