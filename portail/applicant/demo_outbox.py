"""The demonstration's outbox: without SMTP_HOST, acknowledgements stay in the outbox marked
"démonstration", and /demonstration lists the latest ones and shows one's text.

Only in demonstration mode (the built-in sandbox): in production this page answers 404, and
messages really sent never appear here whatever the mode. Even in the demonstration a visitor
may type a real address: each browser sees the messages of the deposits it filed itself (their
references are kept in its signed session), never another visitor's.
"""

from __future__ import annotations

import email
from email import policy

from flask import Blueprint, abort, make_response, render_template, session

from portail.core.acknowledgement import text_part
from portail.storage import outbox
from portail.web.extensions import get_db, get_settings

bp = Blueprint("demo_outbox", __name__)

LATEST = 10
SESSION_KEY = "demo_filed_refs"


def remember_filing(ref: str) -> None:
    """In the demonstration, note in the browser's session that it filed `ref`."""
    if get_settings().demo:
        session[SESSION_KEY] = [*_filed_here(), ref][-LATEST:]


def _filed_here() -> list[str]:
    refs = session.get(SESSION_KEY)
    return [ref for ref in refs if isinstance(ref, str)] if isinstance(refs, list) else []


def latest_messages() -> list[dict]:
    """This browser's latest demonstration messages, newest first; none outside the
    demonstration."""
    if not get_settings().demo:
        return []
    return outbox.latest(get_db(), outbox.DEMONSTRATION, _filed_here(), LATEST)


@bp.get("/demonstration/courriels/<int:message_id>")
def message(message_id: int):
    """One demonstration message, as its text version (escaped by the template)."""
    if not get_settings().demo:
        abort(404)
    row = outbox.get(get_db(), message_id)
    if (
        row is None
        or row["status"] != outbox.DEMONSTRATION
        or row["deposit_ref"] not in _filed_here()
    ):
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
