""" "Je ne connais pas mon SIRET": the company search by name and postcode or commune.

The State's open company search (Recherche d'entreprises) is asked through the gateway like
any API call: its own rate bucket (per minute and per second), circuit, cache and journal row
(an open-data call). Inside the deposit form the search is part of the form: without
JavaScript "Rechercher" posts the whole form (`action=search`) and the page comes back with
every typed value and the results, whose buttons post the form again with the chosen SIRET
(`use_siret`, the prefill). With htmx the same buttons ask for the results fragment and the
tiers block. POST and GET /demande/recherche stay as a standalone results page (links).

Entities that are not publicly listed never appear in this search: every answer says so, and
manual entry always stays possible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import render_template, request

from portail.apientreprise.catalogue import ROUTE_SEARCH
from portail.apientreprise.errors import ApiEntrepriseError, ClientShareSpent
from portail.applicant.form_values import LOOKUP_PARAMS
from portail.applicant.lookup import Status
from portail.applicant.origin import is_foreign_request
from portail.core.company_search import (
    NAME_MAX_LENGTH,
    PLACE_MAX_LENGTH,
    Result,
    read_results,
    search_target,
)
from portail.core.netaddr import client_keys
from portail.web.extensions import get_db, get_gateway, get_settings

SEARCH_NAME = "nom"  # the search's inputs, in the deposit form and on the results page
SEARCH_PLACE = "lieu"

NOT_LISTED = (
    "Les organisations qui ne figurent pas dans la liste publique du répertoire Sirene "
    "n'apparaissent jamais dans cette recherche\u202f: si la vôtre n'y est pas, saisissez "
    "vos informations vous-même."
)
NOT_FOUND = (
    "Aucune entreprise trouvée pour cette recherche. Vérifiez le nom ou le lieu. "
    "Les organisations qui ne figurent pas dans la liste publique du répertoire Sirene "
    "n'apparaissent jamais dans cette recherche. Dans ce cas, saisissez vos informations "
    "vous-même."
)
TOO_SHORT = "Indiquez au moins 3 caractères du nom de votre organisation."
UNAVAILABLE = (
    "La recherche par nom ne répond pas pour le moment. Saisissez votre SIRET ou vos "
    "informations vous-même."
)
OFF = "La recherche par nom n'est pas disponible : saisissez vos informations vous-même."
SESSION_EXPIRED = (
    "Votre session a expiré et la recherche n'a pas été lancée : cliquez à nouveau sur "
    "« Rechercher »."
)
HTMX_SESSION_EXPIRED = (
    "La recherche n'a pas été lancée car votre session a expiré. Rien de ce que vous avez "
    "saisi n'est perdu : cliquez sur « Déposer ma demande » pour renouveler la "
    "session (rien n'est déposé tant qu'il manque une information), puis relancez la recherche."
)
FOREIGN = (
    "La recherche n'a pas été lancée car la page a été ouverte depuis un autre site. "
    "Vérifiez le nom puis cliquez sur « Rechercher »."
)


@dataclass(frozen=True)
class SearchBox:
    """What the search shows: the name and place as typed, the results and their message.
    `ran` opens the search's <details> on a page rendered after a search."""

    name: str = ""
    place: str = ""
    results: tuple[Result, ...] = ()
    message: str = ""
    level: str = "info"
    ran: bool = False


def typed_search(source) -> SearchBox:
    """The name and place as typed (a form or a query string), bounded; nothing searched."""
    return SearchBox(
        name=(source.get(SEARCH_NAME) or "")[:NAME_MAX_LENGTH],
        place=(source.get(SEARCH_PLACE) or "")[:PLACE_MAX_LENGTH],
    )


def too_many_searches(retry_after: float | None) -> str:
    """This applicant's own share is spent: say so, and when to search again."""
    seconds = max(1, math.ceil(retry_after or 1))
    wait = f"{seconds} seconde{'s' if seconds > 1 else ''}"
    if seconds >= 120:
        wait = f"{math.ceil(seconds / 60)} minutes"
    return (
        "Vous avez lancé beaucoup de recherches en peu de temps\u202f: réessayez dans "
        f"{wait}. Vous pouvez aussi saisir vos informations vous-même."
    )


def run_search(box: SearchBox) -> SearchBox:
    """The box with the results (or the reason there are none) for what was typed."""
    conf = get_settings()
    if not conf.prefill_available:
        return SearchBox(box.name, box.place, (), OFF, "info", True)
    target = search_target(box.name, box.place)
    if target is None:
        return SearchBox(box.name, box.place, (), TOO_SHORT, "error", True)
    if is_foreign_request():
        return SearchBox(box.name, box.place, (), FOREIGN, "info", True)
    try:
        answer = get_gateway().call(
            get_db(),
            conf,
            ROUTE_SEARCH,
            target,
            actor="anonyme",
            object_="Demande d'aide, recherche par nom",
            applicant=client_keys(request.remote_addr),
            check=read_results,
        )
    except ClientShareSpent as error:
        message = too_many_searches(error.retry_after)
        return SearchBox(box.name, box.place, (), message, "error", True)
    except ApiEntrepriseError:
        return SearchBox(box.name, box.place, (), UNAVAILABLE, "error", True)
    results = tuple(answer.checked)
    if not results:
        return SearchBox(box.name, box.place, (), NOT_FOUND, "warning", True)
    count = len(results)
    plural = "s" if count > 1 else ""
    message = f"{count} établissement{plural} trouvé{plural}. {NOT_LISTED}"
    return SearchBox(box.name, box.place, results, message, "ok", True)


def _context(box: SearchBox) -> dict:
    return {
        "search": box,
        "results": box.results,
        "message": box.message,
        "level": box.level,
        "lookup_params": LOOKUP_PARAMS,
    }


_NEVER_STORED = {"Cache-Control": "no-store", "Vary": "HX-Request"}


def search_page():
    """/demande/recherche: the standalone results page, or the htmx fragment inside the form.
    Never cached: it echoes what was typed. GET serves links and bookmarks."""
    source = request.form if request.method == "POST" else request.args
    box = typed_search(source)
    if SEARCH_NAME in source:
        box = run_search(box)
    # else the empty search form (a link to the page)
    if request.headers.get("HX-Request") == "true":
        return render_template("deposit/_search_results.html", **_context(box)), 200, _NEVER_STORED
    return render_template("deposit/search.html", **_context(box)), 200, _NEVER_STORED


def refused_search():
    """A search posted without a valid CSRF token looks nothing up. For htmx, 403 with the
    message retargeted at the SIRET's aria-live status line (static/deposit.js shows it);
    without JavaScript, the search page with the message."""
    if request.headers.get("HX-Request") == "true":
        # "Rechercher" again would resend the same stale token: say how to renew it.
        body = render_template("deposit/_status.html", status=Status(HTMX_SESSION_EXPIRED, "error"))
        headers = {
            "HX-Retarget": "#siret-status",
            "HX-Reswap": "innerHTML",
            "Cache-Control": "no-store",
        }
        return body, 403, headers
    box = typed_search(request.form)
    box = SearchBox(box.name, box.place, (), SESSION_EXPIRED, "error", True)
    return render_template("deposit/search.html", **_context(box)), 403, _NEVER_STORED
