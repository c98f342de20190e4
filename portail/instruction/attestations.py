"""Attestations on the agent's request: "Récupérer les attestations" on a deposit.

POST /admin/demandes/<ref>/attestations (logged-in agents, CSRF) asks API Entreprise, through
the gateway and by the deposit's SIREN, for the attestation fiscale (DGFiP) and the
attestation de vigilance (Urssaf); each call is journaled with the agent (`actor`) and the
deposit (`object`), and spends the documents bucket of the shared budget. Each answer's
`document_url` expires: the PDF is downloaded at once (apientreprise.documents, never with
the token), written under DOCUMENTS_DIR and recorded with the provider's facts
(storage.attestations). A refusal by the provider is recorded as a fact about the company;
a failure with what to do. Never a 500, never the token in a message.

GET /admin/demandes/<ref>/attestations/<id> serves an obtained PDF to a logged-in agent
only (as an attachment, never cached), by the random id of its row, which must belong to the
deposit; every download is written to the admin event journal.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for

from portail.apientreprise import catalogue, documents
from portail.apientreprise.documents import KIND_FISCALE, KIND_VIGILANCE, ROUTES_BY_KIND
from portail.apientreprise.errors import (
    ApiEntrepriseError,
    NotFound,
    RecipientIsTarget,
    ServiceFailure,
    TryAgainLater,
)
from portail.apientreprise.gateway import Gateway
from portail.auth.guard import current_session, login_required, record_agent_event
from portail.core.formats import date_fr
from portail.core.settings_rules import Settings
from portail.core.siret import is_valid_siret, normalise
from portail.core.tokens import may_open
from portail.storage import attestations as store
from portail.storage.deposits import FiledDeposit
from portail.web.extensions import deposit_or_404, get_db, get_gateway, get_settings

logger = logging.getLogger(__name__)

bp = Blueprint("attestations", __name__)

LABELS = {KIND_FISCALE: "attestation fiscale", KIND_VIGILANCE: "attestation de vigilance"}
PROVIDERS = {KIND_FISCALE: "La DGFiP", KIND_VIGILANCE: "L'Urssaf"}
# What a company must be up to date with for the provider to deliver.
OBLIGATIONS = {KIND_FISCALE: "obligations fiscales", KIND_VIGILANCE: "cotisations sociales"}
# The data to ask for in the DataPass habilitation of the démarche, in the admin's words.
HABILITATIONS = {
    KIND_FISCALE: "« Attestation fiscale » (DGFiP)",
    KIND_VIGILANCE: "« Attestation de vigilance » (Urssaf)",
}

SETTINGS_ACTION = (
    "Un administrateur peut compléter le SIRET de l'organisation, le jeton d'accès et "
    "l'adresse de l'API dans Paramètres."
)
RETRY_LATER = (
    "Vous pourrez réessayer plus tard avec le bouton « Récupérer les attestations » ; "
    "le reste de la demande reste consultable."
)
_LEVELS = {store.OBTAINED: "ok", store.REFUSED: "warning", store.FAILED: "error"}


@dataclass
class _Result:
    """One kind's outcome, as it will be recorded."""

    status: str
    message: str
    error_kind: str | None = None
    facts: documents.AttestationFacts | None = None
    document: documents.Document | None = None


def documents_dir() -> Path:
    """Where the PDFs are kept: DOCUMENTS_DIR, else <instance>/documents."""
    configured = current_app.config.get("DOCUMENTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "documents"


def object_for(ref: str) -> str:
    """The `object` of the calls: the deposit, under the API's 50 characters."""
    return f"Attestations {ref}"[: catalogue.OBJECT_MAX_LENGTH]


def missing_scope(settings: Settings, kind: str) -> str | None:
    """A French explanation when the token's scopes cannot open this attestation, else
    None. An unreadable token is left for the API to judge."""
    route = catalogue.route(ROUTES_BY_KIND[kind])
    if may_open(settings.token, route.scopes):
        return None
    return (
        f"Le jeton d'accès enregistré n'ouvre pas l'{LABELS[kind]} : il lui manque l'un des "
        f"droits {', '.join(sorted(route.scopes))}. Aucun appel n'a été envoyé. Un "
        "administrateur peut demander sur DataPass (datapass.api.gouv.fr), pour la démarche, "
        f"l'habilitation aux données {HABILITATIONS[kind]}, puis coller le nouveau jeton "
        "dans Paramètres."
    )


def _scrub(words: str, token: str) -> str:
    return words.replace(token, "***") if token and words else words


def _preconditions(settings: Settings, siret: str) -> _Result | None:
    """Why no call can be made at all (the same for both kinds), or None."""
    if not (settings.token and settings.recipient_siret and settings.api_url):
        return _Result(
            store.FAILED,
            "Le portail n'a pas de jeton d'accès ou de SIRET d'organisation enregistré : "
            f"aucune attestation ne peut être demandée. {SETTINGS_ACTION}",
            "settings",
        )
    if not is_valid_siret(siret):
        return _Result(
            store.FAILED,
            "Le SIRET déposé n'est pas un numéro valide : aucune attestation ne peut être "
            "demandée. Demandez le bon numéro au demandeur.",
            "invalid_siret",
        )
    if settings.recipient_siret[:9] == siret[:9]:
        error = RecipientIsTarget(note="détecté par le portail, aucun appel envoyé")
        return _Result(store.FAILED, error.admin_detail, error.kind)
    return None


def _refused_by_provider(kind: str, error: ApiEntrepriseError) -> str | None:
    """The fact about the company in a 404 (unknown, or not up to date) or in a 422 that
    the provider itself gave (its own error code, not one of the API's 00xxx), else None."""
    answer = f"réponse {error.status}" + (f", code {error.code}" if error.code else "")
    if isinstance(error, NotFound):
        return (
            f"{PROVIDERS[kind]} n'a pas délivré l'{LABELS[kind]} : l'entreprise lui est "
            f"inconnue ou n'est pas à jour de ses {OBLIGATIONS[kind]} ({answer}). Vous "
            "pouvez demander l'attestation au demandeur."
        )
    if error.status == 422 and error.code and not error.code.startswith("00"):
        words = error.detail or error.title
        return f"{PROVIDERS[kind]} a refusé de délivrer l'{LABELS[kind]} : {words} ({answer})."
    return None


def _fetch_one(gateway, db, settings, filed, kind, siren, username) -> _Result:
    scope_text = missing_scope(settings, kind)
    if scope_text:
        return _Result(store.FAILED, scope_text, "scope_missing")
    try:
        answer = gateway.call(
            db,
            settings,
            ROUTES_BY_KIND[kind],
            siren,
            actor=f"admin {username}",
            object_=object_for(filed.ref),
            check=lambda body: documents.read_attestation(kind, body),
            wait=False,  # an agent pressing a button gets an answer at once
        )
    except ApiEntrepriseError as error:
        fact = _refused_by_provider(kind, error)
        if fact is not None:
            return _Result(store.REFUSED, _scrub(fact, settings.token), error.kind)
        detail = _scrub(error.admin_detail, settings.token)
        if isinstance(error, (TryAgainLater, ServiceFailure)):
            detail += f" {RETRY_LATER}"
        return _Result(
            store.FAILED,
            f"L'{LABELS[kind]} n'a pas pu être obtenue ({error.default_title.lower()}) : {detail}",
            error.kind,
        )
    facts: documents.AttestationFacts = answer.checked
    if facts.refusal is not None:
        fact = (
            f"{PROVIDERS[kind]} a refusé de délivrer l'{LABELS[kind]} : "
            f"{_their_words(facts.refusal)}"
        )
        return _Result(store.REFUSED, _scrub(fact, settings.token), "refus_de_delivrance", facts)
    try:
        document = documents.fetch_document(
            gateway.transport,
            facts.document_url,
            api_url=settings.api_url,
            timeout=gateway.policy.document_timeout,
        )
    except documents.DocumentError as error:
        return _Result(
            store.FAILED,
            f"L'{LABELS[kind]} a été délivrée mais son document n'a pas pu être téléchargé : "
            f"{error.message} {error.action}",
            f"document_{error.kind}",
            facts,
        )
    return _Result(store.OBTAINED, _obtained_words(kind, facts), None, facts, document)


def _obtained_words(kind: str, facts: documents.AttestationFacts) -> str:
    words = f"{LABELS[kind].capitalize()} obtenue"
    if kind == KIND_FISCALE:
        if facts.delivered_on:
            words += f", délivrée le {date_fr(facts.delivered_on)}"
        if facts.period_end:
            words += f", situation au {date_fr(facts.period_end)}"
    else:
        if facts.delivered_on:
            words += f", valable du {date_fr(facts.delivered_on)}"
        if facts.valid_until:
            words += (
                f" au {date_fr(facts.valid_until)}"
                if facts.delivered_on
                else (f", valable jusqu'au {date_fr(facts.valid_until)}")
            )
    return words + "."


def _their_words(words: str) -> str:
    """The provider's sentence after a colon: its first letter in lower case."""
    if len(words) > 1 and words[0].isupper() and words[1].islower():
        return words[0].lower() + words[1:]
    return words


def _store(db, directory: Path, filed, kind, siren, username, result: _Result):
    facts, document = result.facts, result.document
    values = {
        "message": result.message,
        "error_kind": result.error_kind,
    }
    if facts is not None:
        values.update(
            delivered_on=facts.delivered_on,
            valid_until=facts.valid_until,
            period_end=facts.period_end,
            security_code=facts.security_code,
        )
    file_name = None
    if document is not None:
        file_name = store.write_document(directory, document.content)
        values.update(file_name=file_name, size=document.size, sha256=document.sha256)
    try:
        return store.record(
            db,
            deposit_ref=filed.ref,
            kind=kind,
            siren=siren,
            actor=username,
            status=result.status,
            **values,
        )
    except BaseException:
        if file_name:
            store.remove_document(directory, file_name)
        raise


def fetch_attestations(
    gateway: Gateway,
    db: sqlite_utils.Database,
    settings: Settings,
    filed: FiledDeposit,
    username: str,
    directory: Path,
) -> list[tuple[str, str]]:
    """Fetch, download and record both attestations of a deposit; returns one
    (level, message) per kind for the agent. Never raises."""
    siret = normalise(filed.values.get("siret", ""))
    siren = siret[:9]
    blocked = _preconditions(settings, siret)
    said = []
    for kind in ROUTES_BY_KIND:
        try:
            result = blocked or _fetch_one(gateway, db, settings, filed, kind, siren, username)
            _store(db, directory, filed, kind, siren, username, result)
        except (sqlite3.Error, OSError):
            logger.exception("Attestation non enregistrée (%s, %s)", filed.ref, kind)
            result = _Result(
                store.FAILED,
                f"L'{LABELS[kind]} n'a pas pu être enregistrée par le portail (base de données "
                "ou dossier des documents indisponible). Réessayez ; si cela persiste, "
                "prévenez l'exploitant.",
            )
        except Exception:
            logger.exception("Attestation en échec inattendu (%s, %s)", filed.ref, kind)
            result = _Result(
                store.FAILED,
                f"L'{LABELS[kind]} n'a pas pu être obtenue à cause d'une erreur inattendue du "
                "portail. Réessayez ; si cela persiste, prévenez l'exploitant.",
            )
        if (_LEVELS[result.status], result.message) not in said:  # a shared reason: once
            said.append((_LEVELS[result.status], result.message))
    return said


@bp.post("/<ref>/attestations")
@login_required
def fetch(ref: str):
    """Fetch both attestations of one deposit, then back to its page (#attestations)."""
    db = get_db()
    filed = deposit_or_404(ref)
    admin_session = current_session()
    said = fetch_attestations(
        get_gateway(), db, get_settings(), filed, admin_session.username, documents_dir()
    )
    for level, message in said:
        flash(message, level)
    return redirect(url_for("admin.deposits.detail", ref=filed.ref, _anchor="attestations"), 303)


def download_name(row: store.Attestation) -> str:
    """attestation-vigilance-<siren>-<date>.pdf (date of delivery, else of the fetch)."""
    day = row.delivered_on or row.fetched_at[:10]
    return f"attestation-{row.kind}-{row.siren}-{day}.pdf"


@bp.get("/<ref>/attestations/<attestation_id>")
@login_required
def download(ref: str, attestation_id: str):
    """One obtained PDF, as an attachment, for a logged-in agent; journaled."""
    db = get_db()
    row = store.get(db, ref[:64], attestation_id[:64])
    if row is None or not row.downloadable:
        abort(404)
    try:
        content = store.read_document(documents_dir(), row)
    except store.DocumentUnavailable as missing:
        logger.warning("Attestation %s de %s illisible (%s)", row.kind, row.deposit_ref, missing)
        return render_template(
            "error.html",
            title="Document indisponible",
            message="Le fichier de cette attestation est introuvable ou a été modifié sur le "
            "serveur. Récupérez de nouveau les attestations depuis la page de la demande.",
        ), 404
    record_agent_event(db, "attestation_downloaded", f"{row.deposit_ref} {row.kind}")
    response = Response(content, mimetype=documents.PDF_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name(row)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
