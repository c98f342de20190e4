"""Blueprint /demande: the deposit form, the tiers lookup, filing, the receipt.

One partial (`_tiers.html`) renders inside the full page and alone for htmx. The SIRET input
lives outside that partial so focus and caret survive a swap, and the status line is an
`aria-live` region that htmx updates out of band, so screen readers hear what happened.

Nothing typed travels in a URL. The live lookup is an htmx POST to /demande/tiers carrying
the CSRF token in a header and only the fields its fragment needs (`LOOKUP_PARAMS`); without
JavaScript, "Pré-remplir" posts the whole form to /demande (`action=prefill`). GET
/demande/tiers?siret= stays for links and bookmarks, and reads the SIRET alone.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from forms.deposit import DepositForm, PrefillForm, parse_amount
from portail.applicant import demo_outbox
from portail.applicant import receipt as receipt_view
from portail.applicant import search as search_view
from portail.applicant.form_values import (
    USE_SIRET,
    only_siret_typed,
    siret_only,
    take_used_siret,
    typed_values,
)
from portail.applicant.limits import filing_limits
from portail.applicant.lookup import Status, lookup, used_siret_status
from portail.applicant.origin import is_foreign_request
from portail.applicant.pages import (
    NOT_FILED_YET,
    filing_limited_page,
    is_tiers_fragment_request,
    refused_form_page,
    refused_token_page,
    render_fragment,
    render_page,
)
from portail.applicant.prefill_marks import marks_from_snapshot
from portail.core.netaddr import client_keys
from portail.storage import deposits
from portail.storage import filing_limits as limits_store
from portail.storage.database import immediate
from portail.web import mail
from portail.web.extensions import get_db, get_services, get_settings
from portail.web.security import csrf

bp = Blueprint("deposit", __name__)


bp.add_url_rule("/demande/<ref>/recu", view_func=receipt_view.receipt)
bp.add_url_rule(
    "/demande/recherche", "search", view_func=search_view.search_page, methods=["GET", "POST"]
)


PREFILL_ACTION = "prefill"  # value of the "Pré-remplir" button, named "action"
SEARCH_ACTION = "search"  # value of the search by name's "Rechercher" button


SESSION_EXPIRED = (
    "Votre session a expiré. Vos informations sont conservées ci-dessous : "
    "envoyez à nouveau le formulaire."
)


SEARCH_SESSION_EXPIRED = (
    "Votre session a expiré et la recherche n'a pas été lancée. Vos informations sont "
    "conservées ci-dessous : cliquez à nouveau sur « Rechercher »."
)


PREFILL_SESSION_EXPIRED = (
    "Votre session a expiré et le pré-remplissage n'a pas été lancé. Vos informations sont "
    "conservées ci-dessous : cliquez à nouveau sur « Pré-remplir »."
)


CHOSEN_SESSION_EXPIRED = (
    "Votre session a expiré et l'établissement choisi n'a pas encore été pré-rempli. Son "
    "SIRET est dans le champ et vos informations sont conservées ci-dessous : cliquez sur "
    "« Pré-remplir »."
)


LOOKUP_SESSION_EXPIRED = (
    "La recherche n'a pas été lancée car votre session a expiré. Rien de ce que vous avez "
    "saisi n'est perdu : complétez les champs vous-même, ou cliquez sur « Déposer ma "
    "demande » pour renouveler la session avant de relancer la recherche."
)


@bp.get("/")
def index():
    """The portal's home is the deposit form."""
    return redirect(url_for("deposit.form"))


@bp.get("/demande")
def form():
    """The empty deposit form."""
    return render_page(typed_values({}))


def _prefilled_page(values: dict[str, str], source, used_siret: bool, code: int = 200):
    """The whole page after a lookup (no JavaScript): every typed value kept, tiers filled."""
    status, extra = lookup(
        values, live=False, fill_siret=True, previous_snapshot=source.get("prefill_snapshot")
    )
    errors = {"siret": extra.pop("siret_error")} if "siret_error" in extra else {}
    if used_siret:
        status = used_siret_status(status, values)
    if code == 422:
        status = Status(f"{NOT_FILED_YET} {status.message}", status.level)
    return render_page(values, status=status, errors=errors, extra=extra, code=code)


@bp.get("/demande/tiers")
def tiers():
    """A lookup link or bookmark: the SIRET alone is read, whatever else the URL holds.

    htmx gets the fragment, anything else the whole page. A link from another site looks
    nothing up: a lookup spends the authority's API budget, and another site must not make
    its visitors' browsers spend it (an <img> or a link to /demande/tiers?siret=...).
    """
    values = siret_only(request.args)
    if is_foreign_request():
        status = Status(
            "La recherche n'a pas été lancée car la page a été ouverte depuis un autre site. "
            "Vérifiez le SIRET puis cliquez sur « Pré-remplir »."
        )
        return render_page(values, status=status)
    if not is_tiers_fragment_request():
        return _prefilled_page(values, {}, used_siret=False)
    status, extra = lookup(values, live=True)
    extra.pop("siret_error", None)
    return render_fragment(values, status, extra)


@bp.post("/demande/tiers")
def tiers_lookup():
    """The live lookup: htmx posts the SIRET, the tiers block and its snapshot with the
    CSRF token in a header (CSRFProtect checks it), and gets the fragment back."""
    values = typed_values(request.form)
    used_siret = take_used_siret(values, request.form)
    if not is_tiers_fragment_request():
        return _prefilled_page(values, request.form, used_siret)
    status, extra = lookup(
        values, live=True, previous_snapshot=request.form.get("prefill_snapshot")
    )
    extra.pop("siret_error", None)
    if used_siret:
        status = used_siret_status(status, values)
    return render_fragment(values, status, extra, siret_oob=used_siret)


@bp.errorhandler(CSRFError)
def refused_lookup(_error):
    """A lookup posted without a valid CSRF token (only /demande/tiers is checked by
    CSRFProtect here: /demande checks its forms itself) looks nothing up.

    For htmx, 403 with the status line, retargeted at it (static/deposit.js lets htmx show
    it): the page keeps everything typed. Posted without htmx, the refused form's page.
    The search by name has its own refusal (nothing looked up either).
    """
    if request.endpoint == "deposit.search":
        return search_view.refused_search()
    if is_tiers_fragment_request():
        response = make_response(
            render_template("deposit/_status.html", status=Status(LOOKUP_SESSION_EXPIRED, "error")),
            403,
        )
        response.headers["HX-Retarget"] = "#siret-status"
        response.headers["HX-Reswap"] = "innerHTML"
        response.headers["Cache-Control"] = "no-store"
        return response
    return refused_token_page(typed_values(request.form), {"_form": PREFILL_SESSION_EXPIRED})


def _prefill_from_post(code: int = 200):
    """The no-JS "Pré-remplir" (or "Utiliser le SIRET …"): the page prefilled, nothing filed.

    `code` is 422 when the post was a filing attempt (Enter after the SIRET): the contract
    answers an unfiled deposit with 422, whatever the page offers in its place.
    """
    values = typed_values(request.form)
    # The chosen établissement goes into the field first: an expired session must not
    # give the applicant back the SIRET they just replaced.
    used_siret = take_used_siret(values, request.form)
    if not PrefillForm(formdata=request.form).validate():
        # Only the CSRF token can fail: no lookup, the values (or the SIRET alone, when
        # another site sent the post) and the snapshot kept.
        expired = CHOSEN_SESSION_EXPIRED if used_siret else PREFILL_SESSION_EXPIRED
        return refused_token_page(values, {"_form": expired})
    return _prefilled_page(values, request.form, used_siret, code=code)


def _search_from_post(code: int = 200):
    """The no-JS "Rechercher": the page with every typed value and the search's results,
    whose buttons post the form again with the chosen SIRET. Nothing filed.

    `code` is 422 when the post was a filing attempt (Enter in the search's name).
    """
    values = typed_values(request.form)
    typed = search_view.typed_search(request.form)
    if not PrefillForm(formdata=request.form).validate():
        # The search's box stays open, its name and place as typed, for "Rechercher" again.
        open_box = dataclasses.replace(typed, ran=True)
        return refused_token_page(values, {"_form": SEARCH_SESSION_EXPIRED}, search=open_box)
    box = search_view.run_search(typed)
    status = Status(NOT_FILED_YET, "info") if code == 422 else None
    if not get_settings().prefill_available:
        # The page hides the search when the assistance is off: say it in the status line.
        status = Status(box.message or search_view.OFF, "info")
    extra = marks_from_snapshot(values, request.form.get("prefill_snapshot"))
    return render_page(values, status=status, extra=extra, code=code, search=box)


def _searching_instead(values: dict[str, str]) -> bool:
    """A refused filing from a form with a name in the search and no SIRET: most likely Enter
    pressed in the search's name (without JavaScript, Enter files): search instead."""
    name = request.form.get(search_view.SEARCH_NAME) or ""
    return bool(name.strip()) and not values["siret"].strip() and get_settings().prefill_available


def _file(form: DepositForm, values: dict[str, str]):
    """Store the deposit within this address's filing limits: the receipt's redirect, or
    the 429 page with every typed value kept."""
    values["siret"] = form.siret.data  # normalised to 14 digits
    snapshot = deposits.open_snapshot(
        current_app.secret_key, request.form.get("prefill_snapshot"), values["siret"]
    )
    db = get_db()
    # One transaction: the filing counts against the limit only if the deposit is stored.
    with immediate(db):
        wait = limits_store.admit(db, client_keys(request.remote_addr), filing_limits())
        if wait is not None:
            filed = None
        else:
            filed = deposits.file_deposit(
                db, values, parse_amount(values["montant_demande"]), snapshot
            )
    if filed is None:
        return filing_limited_page(typed_values(request.form), wait)
    mail.acknowledge(filed)  # stored now, sent in the background: never waited for
    demo_outbox.remember_filing(filed.ref)
    return redirect(url_for("deposit.receipt", ref=filed.ref), code=303)


@bp.post("/demande")
@csrf.exempt  # checked by DepositForm and PrefillForm, so a stale token keeps typed values
def submit():
    """File the deposit: 422 with every value kept when invalid, 303 to the receipt when filed.

    The "Pré-remplir", "Utiliser le SIRET …", "Rechercher" and "Choisir cet établissement"
    buttons post here too (without JavaScript): they get the page back prefilled or with the
    search's results (200) and file nothing. Enter pressed in a form holding
    only a valid SIRET gets the prefilled page too, as a 422: it was a filing attempt. A post
    whose CSRF token fails because another site sent it gets back its SIRET alone.
    """
    if request.form.get("action") == PREFILL_ACTION or request.form.get(USE_SIRET):
        return _prefill_from_post()
    if request.form.get("action") == SEARCH_ACTION:
        return _search_from_post()
    values = typed_values(request.form)
    if only_siret_typed(values) and get_settings().prefill_available:
        # Enter pressed right after typing a valid SIRET (the default button files): what
        # the applicant wants is the prefill, not a list of fifteen empty fields.
        return _prefill_from_post(code=422)
    form = DepositForm(formdata=request.form)
    if not form.validate():
        errors = {name: messages[0] for name, messages in form.errors.items() if messages}
        if "csrf_token" in errors:
            errors.pop("csrf_token")
            errors["_form"] = SESSION_EXPIRED
            return refused_token_page(values, errors)
        if _searching_instead(values):
            return _search_from_post(code=422)
        return refused_form_page(values, errors)
    return _file(form, values)


@bp.get("/demonstration")
def demonstration():
    """The demonstration SIRETs of the built-in sandbox and what each one shows, and this
    browser's demonstration messages: never cached, they hold the addresses it typed."""
    response = make_response(
        render_template(
            "deposit/demonstration.html",
            personas=get_services().personas,
            demo=get_settings().demo,
            outbox=demo_outbox.latest_messages(),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/donnees-personnelles")
def data_notice():
    """What API Entreprise data the portal uses, why, and for how long."""
    return render_template("deposit/data_notice.html")
