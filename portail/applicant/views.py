"""Blueprint /demande: the deposit form, the tiers fragment, filing, the receipt.

One partial (`_tiers.html`) renders inside the full page and alone for htmx. The SIRET input
lives outside that partial so focus and caret survive a swap, and the status line is an
`aria-live` region that htmx updates out of band, so screen readers hear what happened.

Without JavaScript, "Pré-remplir" posts the whole form to /demande (`action=prefill`) and the
page comes back prefilled: a GET would put the e-mail and phone already typed in the URL,
the browser history and the server logs. GET /demande/tiers stays for htmx and bookmarks.
"""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from forms.deposit import DepositForm, PrefillForm, parse_amount
from portail.applicant.prefill import lookup_public_tiers
from portail.core import labels
from portail.core.formats import siret_fr
from portail.core.siret import InvalidSiret, normalise, validate_siret
from portail.core.tiers import TIERS_FIELDS
from portail.storage import deposits
from portail.web.extensions import get_db, get_gateway, get_services, get_settings
from portail.web.security import csrf

bp = Blueprint("deposit", __name__)


APPLICANT_FIELDS = (*labels.APPLICANT_SECTION, *labels.PROJECT_SECTION)


TEXT_FIELDS = tuple(dict.fromkeys(("siret", *TIERS_FIELDS, *APPLICANT_FIELDS)))


MAX_FIELD_LENGTH = 5000  # echoed values are bounded even before validation


NOT_FILED_YET = "Votre demande n'est pas encore déposée : vérifiez les informations ci-dessous."


PREFILL_ACTION = "prefill"  # value of the "Pré-remplir" button, named "action"


USE_SIRET = "use_siret"  # the "Utiliser le SIRET …" button: its value is the answered SIRET


def _typed_values(source) -> dict[str, str]:
    """Every text field as typed (from a form or a query string), bounded, never None."""
    if hasattr(source, "to_dict"):
        # A werkzeug MultiDict raises (and catches) an exception per missing key on .get():
        # one plain dict of first values is cheaper for a form of 27 fields.
        source = source.to_dict()
    values = {name: (source.get(name) or "")[:MAX_FIELD_LENGTH] for name in TEXT_FIELDS}
    values["consentement"] = "y" if source.get("consentement") else ""
    if not values["pays"] and "pays" not in source:
        values["pays"] = "France"
    return values


def _take_used_siret(values: dict[str, str], source) -> bool:
    """Put the SIRET of a clicked "Utiliser le SIRET …" button in the field; True if one was."""
    used = (source.get(USE_SIRET) or "")[:MAX_FIELD_LENGTH]
    try:
        siret = validate_siret(used)
    except InvalidSiret:
        return False  # not a SIRET the portal offered: the field keeps what was typed
    values["siret"] = siret_fr(siret)
    return True


def _only_siret_typed(values: dict[str, str]) -> bool:
    """True when the form holds a valid SIRET and nothing else the applicant typed."""
    if any(value.strip() for name, value in values.items() if name not in ("siret", "pays")):
        return False
    try:
        validate_siret(values["siret"])
    except InvalidSiret:
        return False  # an invalid SIRET is a filing error like any other: the usual 422
    return True


class Status:
    """The status line under the SIRET input: a French sentence and its level."""

    def __init__(self, message: str = "", level: str = "info"):
        self.message = message
        self.level = level


def _lookup(
    values: dict[str, str],
    live: bool,
    fill_siret: bool = False,
    previous_snapshot: str | None = None,
) -> tuple[Status, dict]:
    """Validate the SIRET and prefill the tiers; returns the status and extra template data.

    `values` is updated in place: prefilled fields replace typed ones only on success, so a
    failed or refused lookup never erases what the applicant typed (nor the signed snapshot
    of an earlier prefill, which still describes those fields). `fill_siret` is for the
    whole page: when the directory answers for another SIRET, the field takes that SIRET.
    """
    extra: dict = {
        "tiers": None,
        "prefilled": set(),
        "prefill_snapshot": previous_snapshot or "",
        "siret_replaced": False,
    }
    conf = get_settings()
    if not conf.prefill_available:
        return Status(
            "L'assistance à la saisie par SIRET n'est pas disponible : "
            "complétez les champs vous-même."
        ), extra
    raw = values.get("siret", "")
    digits = normalise(raw)
    if live and digits.isascii() and digits.isdigit() and len(digits) < 14:
        # Still typing: a neutral count, not an error shouted at every keystroke.
        return Status(f"Saisie en cours : {len(digits)} chiffre(s) sur 14."), extra
    try:
        siret = validate_siret(raw)
    except InvalidSiret as exc:
        extra["siret_error"] = exc.message
        return Status(exc.message, "error"), extra

    lookup_id = secrets.token_hex(4).upper()
    outcome = lookup_public_tiers(
        get_gateway(),
        get_db(),
        conf,
        siret,
        actor="anonyme",
        object_=f"Demande d'aide, pré-remplissage {lookup_id}",
        client=request.remote_addr,  # one client may not spend the shared budget alone
    )
    if outcome.tiers is None:
        return Status(outcome.message, outcome.level), extra

    tiers = outcome.tiers
    # The SIRET is handled apart: the htmx fragment cannot touch the input (it is outside
    # the swapped block), so there a redirect is told in a notice with a button instead.
    proposed = {k: v for k, v in tiers.form_values().items() if k != "siret"}
    prefilled = {name: value for name, value in proposed.items() if value}
    values.update(proposed)
    if not values.get("pays"):
        values["pays"] = "France"
    answered = tiers.siret or siret
    if fill_siret and answered != siret:
        # A transferred establishment: filing the old SIRET next to its successor's data
        # would mislead the authority, and the whole page can fix the field itself.
        values["siret"] = siret_fr(answered)
        prefilled["siret"] = answered
        extra["siret_replaced"] = True
    extra["tiers"] = tiers
    extra["prefilled"] = set(prefilled)
    extra["prefill_snapshot"] = deposits.seal_snapshot(
        current_app.secret_key, siret, outcome.snapshot or {}, prefilled, answered_siret=answered
    )
    return Status(outcome.message, outcome.level), extra


def _render_page(values, status=None, errors=None, extra=None, code=200):
    """The whole deposit page, never cached: it echoes what the applicant typed."""
    conf = get_settings()
    response = make_response(
        render_template(
            "deposit/form.html",
            values=values,
            errors=errors or {},
            status=status or Status(),
            prefill_available=conf.prefill_available,
            **(extra or {"tiers": None, "prefilled": set()}),
        ),
        code,
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    response.headers["Cache-Control"] = "no-store"
    return response


def _is_tiers_fragment_request() -> bool:
    # Only an htmx request aimed at the tiers block gets the fragment; anything else
    # (no JS, a bookmark, htmx boosting) gets the whole page.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "tiers-block"
    )


@bp.get("/")
def index():
    """The portal's home is the deposit form."""
    return redirect(url_for("deposit.form"))


@bp.get("/demande")
def form():
    """The empty deposit form."""
    return _render_page(_typed_values({}))


def _used_siret_status(status: Status, values: dict[str, str]) -> Status:
    # The input changed under the applicant's eyes: the aria-live line says so first.
    return Status(
        f"Le SIRET {values['siret']} a été reporté dans le champ « Numéro SIRET ». "
        + status.message,
        status.level,
    )


def _prefilled_page(values: dict[str, str], source, used_siret: bool, code: int = 200):
    """The whole page after a lookup (no JavaScript): every typed value kept, tiers filled."""
    status, extra = _lookup(
        values, live=False, fill_siret=True, previous_snapshot=source.get("prefill_snapshot")
    )
    errors = {"siret": extra.pop("siret_error")} if "siret_error" in extra else {}
    if used_siret:
        status = _used_siret_status(status, values)
    if code == 422:
        status = Status(f"{NOT_FILED_YET} {status.message}", status.level)
    return _render_page(values, status=status, errors=errors, extra=extra, code=code)


def _is_cross_site() -> bool:
    # Browsers say where a request comes from. A lookup spends the authority's API budget:
    # another site must not make its visitors' browsers spend it (an <img> or a link to
    # /demande/tiers?siret=...). A bookmark or a typed address says "none".
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


@bp.get("/demande/tiers")
def tiers():
    """Prefill the tiers from a SIRET: the fragment for htmx, the whole page otherwise."""
    if _is_cross_site():
        # Only the SIRET is taken from the foreign link: it may not fill in an e-mail or an
        # amount the applicant never typed.
        values = _typed_values({"siret": request.args.get("siret", "")})
        status = Status(
            "La recherche n'a pas été lancée car la page a été ouverte depuis un autre site. "
            "Vérifiez le SIRET puis cliquez sur « Pré-remplir »."
        )
        return _render_page(values, status=status)
    values = _typed_values(request.args)
    used_siret = _take_used_siret(values, request.args)
    if not _is_tiers_fragment_request():
        return _prefilled_page(values, request.args, used_siret)
    status, extra = _lookup(
        values, live=True, previous_snapshot=request.args.get("prefill_snapshot")
    )
    extra.pop("siret_error", None)
    if used_siret:
        status = _used_siret_status(status, values)
    conf = get_settings()
    response = make_response(
        render_template(
            "deposit/_tiers_response.html",
            values=values,
            status=status,
            siret_oob=used_siret,  # only a click may replace the input, never a keystroke
            prefill_available=conf.prefill_available,
            **extra,
        )
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    response.headers["Cache-Control"] = "no-store"
    return response


def _prefill_from_post(code: int = 200):
    """The no-JS "Pré-remplir" (or "Utiliser le SIRET …"): the page prefilled, nothing filed.

    `code` is 422 when the post was a filing attempt (Enter after the SIRET): the contract
    answers an unfiled deposit with 422, whatever the page offers in its place.
    """
    values = _typed_values(request.form)
    if not PrefillForm(formdata=request.form).validate():
        # Only the CSRF token can fail: no lookup, every value and the snapshot kept.
        extra = {
            "tiers": None,
            "prefilled": set(),
            "prefill_snapshot": request.form.get("prefill_snapshot"),
        }
        errors = {
            "_form": "Votre session a expiré et le pré-remplissage n'a pas été lancé. "
            "Vos informations sont conservées ci-dessous : cliquez à nouveau sur "
            "« Pré-remplir »."
        }
        return _render_page(values, errors=errors, extra=extra, code=422)
    used_siret = _take_used_siret(values, request.form)
    return _prefilled_page(values, request.form, used_siret, code=code)


@bp.post("/demande")
@csrf.exempt  # checked by DepositForm and PrefillForm, so a stale token keeps typed values
def submit():
    """File the deposit: 422 with every value kept when invalid, 303 to the receipt when filed.

    The "Pré-remplir" and "Utiliser le SIRET …" buttons post here too (without JavaScript):
    they get the page back prefilled (200) and file nothing. Enter pressed in a form holding
    only a valid SIRET gets the prefilled page too, as a 422: it was a filing attempt.
    """
    if request.form.get("action") == PREFILL_ACTION or request.form.get(USE_SIRET):
        return _prefill_from_post()
    values = _typed_values(request.form)
    if _only_siret_typed(values) and get_settings().prefill_available:
        # Enter pressed right after typing a valid SIRET (the default button files): what
        # the applicant wants is the prefill, not a list of fifteen empty fields.
        return _prefill_from_post(code=422)
    form = DepositForm(formdata=request.form)
    if not form.validate():
        errors = {name: messages[0] for name, messages in form.errors.items() if messages}
        if "csrf_token" in errors:
            errors.pop("csrf_token")
            errors["_form"] = (
                "Votre session a expiré. Vos informations sont conservées ci-dessous : "
                "envoyez à nouveau le formulaire."
            )
        extra = {
            "tiers": None,
            "prefilled": set(),
            "prefill_snapshot": request.form.get("prefill_snapshot"),
        }
        return _render_page(values, errors=errors, extra=extra, code=422)

    values["siret"] = form.siret.data  # normalised to 14 digits
    snapshot = deposits.open_snapshot(
        current_app.secret_key, request.form.get("prefill_snapshot"), values["siret"]
    )
    filed = deposits.file_deposit(
        get_db(), values, parse_amount(values["montant_demande"]), snapshot
    )
    return redirect(url_for("deposit.receipt", ref=filed.ref), code=303)


@bp.get("/demande/<ref>/recu")
def receipt(ref: str):
    """The printable receipt; its URL holds a 60-bit random reference, shown to nobody else."""
    if len(ref) > 40:
        abort(404)
    filed = deposits.get_deposit(get_db(), ref)
    if filed is None:
        abort(404)
    response = make_response(
        render_template(
            "deposit/receipt.html",
            deposit=filed,
            sections={
                "tiers": labels.TIERS_SECTION,
                "applicant": labels.APPLICANT_SECTION,
                "project": labels.PROJECT_SECTION,
            },
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/demonstration")
def demonstration():
    """The demonstration SIRETs of the built-in sandbox and what each one shows."""
    return render_template(
        "deposit/demonstration.html",
        personas=get_services().personas,
        demo=get_settings().demo,
    )


@bp.get("/donnees-personnelles")
def data_notice():
    """What API Entreprise data the portal uses, why, and for how long."""
    return render_template("deposit/data_notice.html")
