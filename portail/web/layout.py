"""What every page's layout needs to know: demonstration mode, the pinned htmx file, the
authority's name; the static files' versioned URLs; the footer's legal pages; the filters
its pages share (SIRET, dates, amounts, long code tokens made breakable)."""

from __future__ import annotations

import re

from flask import Flask, current_app, render_template
from markupsafe import Markup

from portail.core.acknowledgement import DEFAULT_AUTHORITY
from portail.core.formats import count_of, date_fr, euros, paris_datetime, siret_fr
from portail.core.labels import FIELD_LABELS
from portail.web import form_fields, static_files
from portail.web.extensions import get_settings

HTMX_FILE = "htmx-2.0.11.min.js"

# The legal notice's facts, each an AUTHORITY_* key the operator fills (README); a key left
# empty shows a generic sentence instead.
LEGAL_KEYS = (
    "AUTHORITY_ADDRESS",
    "AUTHORITY_PUBLICATION_DIRECTOR",
    "AUTHORITY_CONTACT",
    "AUTHORITY_HOST",
)


# After each "/", "&" or "+" that follows a character: a path breaks between its segments,
# a query string between its parameters and words, never right after a leading "/".
_BREAK_AFTER = re.compile(r"(?<=.[/&+])")


def breakable(token: object) -> Markup:
    """A long code token (a route path, a query string), escaped, with a line-break
    opportunity (<wbr>, copied as nothing) after each "/", "&" and "+": a narrow table cell
    breaks it there rather than in the middle of a word."""
    return Markup("<wbr>").join(_BREAK_AFTER.split("" if token is None else str(token)))


def authority_name() -> str:
    """The authority receiving the applications (AUTHORITY_NAME), never empty."""
    return (current_app.config.get("AUTHORITY_NAME") or "").strip() or DEFAULT_AUTHORITY


def _authority_facts() -> dict[str, str]:
    return {key.lower(): str(current_app.config.get(key) or "").strip() for key in LEGAL_KEYS}


def accessibility():
    """/accessibilite: the accessibility statement (partially compliant)."""
    return render_template("legal/accessibility.html", **_authority_facts())


def legal_notice():
    """/mentions-legales: the publisher (the authority) and the host."""
    return render_template("legal/legal_notice.html", **_authority_facts())


def init_app(app: Flask) -> None:
    """Register the template context shared by every page, the static files, the legal pages."""

    @app.context_processor
    def layout_context():
        def demo_mode() -> bool:
            # Called by base.html only: pages that never render it pay nothing.
            return get_settings().demo

        return {
            "demo_mode": demo_mode,
            "htmx_file": HTMX_FILE,
            "labels": FIELD_LABELS,
            "authority_name": authority_name(),
        }

    static_files.init_app(app)
    app.add_url_rule("/accessibilite", "accessibility", accessibility)
    app.add_url_rule("/mentions-legales", "legal_notice", legal_notice)
    app.add_template_global(form_fields.field, "field")
    app.add_template_filter(siret_fr)
    app.add_template_filter(breakable)
    app.add_template_filter(date_fr)
    app.add_template_filter(euros)
    app.add_template_filter(count_of)
    app.add_template_filter(paris_datetime)
