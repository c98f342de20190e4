"""The demonstration's outbox: without SMTP_HOST, acknowledgements stay in the outbox marked
"démonstration", and /demonstration lists the latest ones and shows one's text.

Only in demonstration mode (the built-in sandbox): in production this page answers 404, and
messages really sent never appear here whatever the mode.
"""

from __future__ import annotations

import email
from email import policy

from flask import Blueprint, abort, make_response, render_template

from portail.core.acknowledgement import text_part
from portail.storage import outbox
from portail.web.extensions import get_db, get_settings

bp = Blueprint("demo_outbox", __name__)

LATEST = 10


def latest_messages() -> list[dict]:
    """The latest demonstration messages, newest first; none outside the demonstration."""
    if not get_settings().demo:
        return []
    return outbox.latest(get_db(), outbox.DEMONSTRATION, LATEST)


@bp.get("/demonstration/courriels/<int:message_id>")
def message(message_id: int):
    """One demonstration message, as its text version (escaped by the template)."""
    if not get_settings().demo:
        abort(404)
    row = outbox.get(get_db(), message_id)
    if row is None or row["status"] != outbox.DEMONSTRATION:
        abort(404)
    parsed = email.message_from_string(row["message"], policy=policy.default)
    response = make_response(
        render_template(
            "deposit/demo_message.html",
            row=row,
            sender=str(parsed.get("From", "")),
            text=text_part(parsed),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
