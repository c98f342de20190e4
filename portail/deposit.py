"""Blueprint /demande: the deposit form, the tiers fragment, filing, the receipt.

One partial (`_tiers.html`) renders inside the full page and alone for htmx. The SIRET input
lives outside that partial so focus and caret survive a swap, and the status line is an
`aria-live` region that htmx updates out of band, so screen readers hear what happened.
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

from forms.deposit import DepositForm, parse_amount
from portail import deposits, labels, sandbox, settings
from portail.db import get_db
from portail.security import csrf
from portail.siret import InvalidSiret, normalise, validate_siret
from portail.tiers import TIERS_FIELDS

bp = Blueprint("deposit", __name__)

APPLICANT_FIELDS = (
    "representant_nom",
    "representant_prenom",
    "representant_qualite",
    "email",
    "telephone",
    "intitule_projet",
    "description_projet",
    "montant_demande",
)
TEXT_FIELDS = tuple(dict.fromkeys(("siret", *TIERS_FIELDS, *APPLICANT_FIELDS)))
MAX_FIELD_LENGTH = 5000  # echoed values are bounded even before validation


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


class Status:
    """The status line under the SIRET input: a French sentence and its level."""

    def __init__(self, message: str = "", level: str = "info"):
        self.message = message
        self.level = level


def _lookup(values: dict[str, str], live: bool) -> tuple[Status, dict]:
    """Validate the SIRET and prefill the tiers; returns the status and extra template data.

    `values` is updated in place: prefilled fields replace typed ones only on success, so a
    failed or refused lookup never erases what the applicant typed.
    """
    from portail.lookup import lookup_public_tiers

    extra: dict = {"tiers": None, "prefilled": set()}
    conf = settings.load(get_db())
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
        get_db(),
        conf,
        siret,
        actor="anonyme",
        object_=f"Demande d'aide, pré-remplissage {lookup_id}",
        client=request.remote_addr,  # one client may not spend the shared budget alone
    )
    if outcome.tiers is None:
        return Status(outcome.message, outcome.level), extra

    # The SIRET stays as typed (the input is outside the swapped block); a redirect to
    # another SIRET is told in a notice instead.
    proposed = {k: v for k, v in outcome.tiers.form_values().items() if k != "siret"}
    prefilled = {name: value for name, value in proposed.items() if value}
    values.update(proposed)
    if not values.get("pays"):
        values["pays"] = "France"
    extra["tiers"] = outcome.tiers
    extra["prefilled"] = set(prefilled)
    extra["prefill_snapshot"] = deposits.seal_snapshot(
        current_app.secret_key, siret, outcome.snapshot or {}, prefilled
    )
    return Status(outcome.message, outcome.level), extra


def _render_page(values, status=None, errors=None, extra=None, code=200):
    conf = settings.load(get_db())
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


@bp.get("/demande/tiers")
def tiers():
    """Prefill the tiers from a SIRET: the fragment for htmx, the whole page otherwise."""
    values = _typed_values(request.args)
    fragment = _is_tiers_fragment_request()
    status, extra = _lookup(values, live=fragment)
    if not fragment:
        errors = {"siret": extra.pop("siret_error")} if "siret_error" in extra else {}
        return _render_page(values, status=status, errors=errors, extra=extra)
    extra.pop("siret_error", None)
    response = make_response(
        render_template("deposit/_tiers_response.html", values=values, status=status, **extra)
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/demande")
@csrf.exempt  # checked by DepositForm instead, so a stale token keeps every typed value
def submit():
    """File the deposit: 422 with every value kept when invalid, 303 to the receipt when filed."""
    values = _typed_values(request.form)
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
        personas=sandbox.PERSONAS,
        demo=settings.load(get_db()).demo,
    )


@bp.get("/donnees-personnelles")
def data_notice():
    """What API Entreprise data the portal uses, why, and for how long."""
    return render_template("deposit/data_notice.html")
