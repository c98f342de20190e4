"""What every page's layout needs to know: demonstration mode, the pinned htmx file."""

from __future__ import annotations

from flask import Flask

HTMX_FILE = "htmx-2.0.11.min.js"


def init_app(app: Flask) -> None:
    """Register the template context shared by every page."""

    @app.context_processor
    def layout_context():
        from portail import settings
        from portail.db import get_db

        def demo_mode() -> bool:
            # Called by base.html only: pages that never render it pay nothing.
            return settings.load(get_db()).demo

        return {"demo_mode": demo_mode, "htmx_file": HTMX_FILE}
