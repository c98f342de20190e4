""" "Je ne connais pas mon SIRET": the company search by name and postcode or commune.

The State's open company search (Recherche d'entreprises) is asked through the gateway like
any API call: its own rate bucket, circuit, cache and journal row (an open-data call). The
page works without JavaScript (POST /demande/recherche answers a results page whose links
prefill the form); with htmx, the same route answers the results fragment inside the form,
where each result's button puts its SIRET in the field and looks it up.

Entities that are not publicly listed never appear in this search: every answer says so, and
manual entry always stays possible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import render_template, request

from portail.apientreprise.catalogue import ROUTE_SEARCH
from portail.apientreprise.errors import ApiEntrepriseError
from portail.applicant.form_values import LOOKUP_PARAMS
from portail.applicant.lookup import Status
from portail.applicant.origin import is_foreign_request
from portail.core.formats import siret_fr
from portail.core.netaddr import client_keys
from portail.core.tiers import BadPayload
from portail.web.extensions import get_db, get_gateway, get_settings

NAME_MAX_LENGTH = 100
PLACE_MAX_LENGTH = 60
MAX_RESULTS = 10
_POSTCODE = re.compile(r"[0-9]{5}")

NOT_LISTED = (
    "Les organisations qui ne figurent pas dans la liste publique du répertoire Sirene "
    "n'apparaissent jamais dans cette recherche."
)
NOT_FOUND = (
    "Aucune entreprise trouvée pour cette recherche. Vérifiez le nom ou le lieu. "
    f"{NOT_LISTED} Dans ce cas, saisissez vos informations vous-même."
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
FOREIGN = (
    "La recherche n'a pas été lancée car la page a été ouverte depuis un autre site. "
    "Vérifiez le nom puis cliquez sur « Rechercher »."
)


@dataclass(frozen=True)
class Result:
    """One establishment found: what the applicant needs to recognise it."""

    siret: str
    name: str
    address: str
    activity: str
    open: bool
    head_office: bool

    @property
    def siret_display(self) -> str:
        return siret_fr(self.siret)


def search_target(name: str, place: str) -> str | None:
    """The query string sent (and journaled): `q` is the name, plus the commune when the
    place is not a postcode (the search reads addresses too); None when too short."""
    name = " ".join(name.split())[:NAME_MAX_LENGTH]
    place = " ".join(place.split())[:PLACE_MAX_LENGTH]
    if len(name) < 3:
        return None
    params = {"q": name}
    if _POSTCODE.fullmatch(place):
        params["code_postal"] = place
    elif place:
        params["q"] = f"{name} {place}"
    params["per_page"] = str(MAX_RESULTS)
    return urlencode(params)


def _establishment(unit: dict, record: dict) -> Result:
    name = str(unit.get("nom_complet") or "")
    trade_name = record.get("nom_commercial")
    if trade_name and trade_name.upper() not in name.upper():
        name = f"{name} ({trade_name})"
    return Result(
        siret=str(record["siret"]),
        name=name,
        address=str(record.get("adresse") or ""),
        activity=str(record.get("activite_principale") or unit.get("activite_principale") or ""),
        open=record.get("etat_administratif") == "A" and unit.get("etat_administratif") != "C",
        head_office=bool(record.get("est_siege")),
    )


def read_results(body: dict) -> list[Result]:
    """The establishments of an answer (those that matched, else the head office)."""
    units = body.get("results")
    if not isinstance(units, list):
        raise BadPayload("results")
    found: list[Result] = []
    for unit in units:
        if not isinstance(unit, dict):
            raise BadPayload("results")
        records = unit.get("matching_etablissements") or [unit.get("siege")]
        for record in records:
            if isinstance(record, dict) and str(record.get("siret") or "").isdigit():
                found.append(_establishment(unit, record))
    return found[:MAX_RESULTS]


def _search(name: str, place: str) -> tuple[list[Result], str, str]:
    """(results, message, level) for what the applicant typed."""
    conf = get_settings()
    if not conf.prefill_available:
        return [], OFF, "info"
    target = search_target(name, place)
    if target is None:
        return [], TOO_SHORT, "error"
    if is_foreign_request():
        return [], FOREIGN, "info"
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
    except ApiEntrepriseError:
        return [], UNAVAILABLE, "error"
    results = answer.checked
    if not results:
        return [], NOT_FOUND, "warning"
    count = len(results)
    plural = "s" if count > 1 else ""
    return results, f"{count} établissement{plural} trouvé{plural}. {NOT_LISTED}", "ok"


def search_page():
    """/demande/recherche: the results page, or the htmx fragment inside the form. The forms
    post (CSRF checked), so nothing typed lands in a URL; GET serves links and bookmarks."""
    source = request.form if request.method == "POST" else request.args
    name = (source.get("nom") or "")[:NAME_MAX_LENGTH]
    place = (source.get("lieu") or "")[:PLACE_MAX_LENGTH]
    if "nom" in source:
        results, message, level = _search(name, place)
    else:  # the empty search form (a link, the form's "Je ne connais pas mon SIRET")
        results, message, level = [], "", "info"
    context = {
        "name": name,
        "place": place,
        "results": results,
        "message": message,
        "level": level,
        "lookup_params": LOOKUP_PARAMS,
    }
    if request.headers.get("HX-Request") == "true":
        response = render_template("deposit/_search_results.html", **context)
        return response, 200, {"Cache-Control": "no-store", "Vary": "HX-Request"}
    return render_template("deposit/search.html", **context), 200, {"Vary": "HX-Request"}


def refused_search():
    """A search posted without a valid CSRF token looks nothing up. For htmx, 403 with the
    message retargeted at the SIRET's aria-live status line (static/deposit.js shows it);
    without JavaScript, the search page with the message."""
    if request.headers.get("HX-Request") == "true":
        body = render_template("deposit/_status.html", status=Status(SESSION_EXPIRED, "error"))
        headers = {
            "HX-Retarget": "#siret-status",
            "HX-Reswap": "innerHTML",
            "Cache-Control": "no-store",
        }
        return body, 403, headers
    name = (request.form.get("nom") or "")[:NAME_MAX_LENGTH]
    place = (request.form.get("lieu") or "")[:PLACE_MAX_LENGTH]
    page = render_template(
        "deposit/search.html",
        name=name,
        place=place,
        results=[],
        message=SESSION_EXPIRED,
        level="error",
    )
    return page, 403
