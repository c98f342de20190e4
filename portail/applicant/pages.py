"""The deposit pages as answers: the whole form, the htmx fragment of the tiers block, and
the pages of a refused post (stale or foreign CSRF token, filing limit reached).

Every page echoing what the applicant typed is `no-store`. A post another site made the
applicant's browser send gets nothing back but its SIRET: that site must not be able to
pre-fill someone's e-mail or amount beside a fresh CSRF token in one click.
"""

from __future__ import annotations

import math

from flask import make_response, render_template, request

from portail.applicant.form_values import LOOKUP_PARAMS, siret_only
from portail.applicant.lookup import Status
from portail.applicant.origin import is_foreign_request
from portail.applicant.prefill_marks import marks_from_snapshot, unmarked
from portail.applicant.search import SearchBox, typed_search
from portail.core.formats import count_of
from portail.web.extensions import get_settings

NOT_FILED_YET = "Votre demande n'est pas encore déposée : vérifiez les informations ci-dessous."


FOREIGN_POST = (
    "Ce formulaire vous a été envoyé depuis un autre site : il n'a pas été pris en compte. "
    "Par précaution, seul le numéro SIRET a été repris. Vérifiez-le, puis complétez "
    "vous-même les autres champs avant de déposer votre demande."
)


def _no_cache(response):
    response.headers["Vary"] = "HX-Request, HX-Target"
    response.headers["Cache-Control"] = "no-store"
    return response


def render_page(values, status=None, errors=None, extra=None, code=200, search=None):
    """The whole deposit page, never cached: it echoes what the applicant typed. `search` is
    the search by name's box; by default its name and place as posted (kept, not searched)."""
    conf = get_settings()
    if search is None:
        search = typed_search(request.form) if request.method == "POST" else SearchBox()
    response = make_response(
        render_template(
            "deposit/form.html",
            values=values,
            errors=errors or {},
            status=status or Status(),
            prefill_available=conf.prefill_available,
            lookup_params=LOOKUP_PARAMS,
            search=search,
            **(extra or unmarked()),
        ),
        code,
    )
    return _no_cache(response)


def render_fragment(values, status, extra, siret_oob=False, code=200):
    """The tiers block alone, for htmx, with the status line out of band."""
    conf = get_settings()
    response = make_response(
        render_template(
            "deposit/_tiers_response.html",
            values=values,
            status=status,
            siret_oob=siret_oob,  # only a click may replace the input, never a keystroke
            prefill_available=conf.prefill_available,
            lookup_params=LOOKUP_PARAMS,
            **extra,
        ),
        code,
    )
    return _no_cache(response)


def is_tiers_fragment_request() -> bool:
    """Only an htmx request aimed at the tiers block gets the fragment; anything else (no
    JS, a bookmark, htmx boosting) gets the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "tiers-block"
    )


def refused_token_page(values: dict[str, str], errors: dict[str, str], search=None):
    """The page of a post whose CSRF token failed: 422, nothing looked up nor filed.

    From the portal's own page (an expired session), every typed value, the snapshot (with
    its marks and warnings) and `errors` (the session message under "_form", the fields' own
    errors) are kept. From another site, only the SIRET and an explanation: nothing else the
    post held.
    """
    if is_foreign_request():
        # Nothing of the post but the SIRET: not the search's name either.
        return render_page(
            siret_only(request.form),
            errors={"_form": FOREIGN_POST},
            extra=unmarked(),
            code=422,
            search=SearchBox(),
        )
    return refused_form_page(values, errors, code=422, search=search)


def refused_form_page(values: dict[str, str], errors: dict[str, str], code: int = 422, search=None):
    """The portal's own form sent back unfiled: every typed value, the errors, and the
    prefill's marks and warnings read again from the posted snapshot (no API call)."""
    extra = marks_from_snapshot(values, request.form.get("prefill_snapshot"))
    return render_page(values, errors=errors, extra=extra, code=code, search=search)


def filing_limited_page(values: dict[str, str], retry_after: float):
    """429: this connection filed too many deposits lately; every typed value kept."""
    seconds = max(1, math.ceil(retry_after))
    minutes = math.ceil(seconds / 60)
    wait = (
        f"dans {count_of(seconds, 'seconde')}"
        if seconds < 60
        else f"dans {count_of(minutes, 'minute')}"
        if minutes < 120
        else f"dans {count_of(math.ceil(minutes / 60), 'heure')}"
    )
    errors = {
        "_form": "Plusieurs demandes ont déjà été déposées depuis votre connexion en peu de "
        "temps : par précaution, celle-ci n'a pas encore été déposée. Vos informations sont "
        f"conservées ci-dessous : vous pourrez l'envoyer à nouveau {wait}."
    }
    response = refused_form_page(values, errors, code=429)
    response.headers["Retry-After"] = str(seconds)
    return response
