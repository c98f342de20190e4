"""Attestations: what an attestation answer says, and its PDF fetched at once.

The two attestation routes (document routes of the catalogue) answer JSON whose
`document_url` expires (`document_url_expires_in`, a day): the portal downloads the PDF right
after the answer and keeps it. The download:

- goes through the app's transport session (keep-alive pool, proxies, CA bundle), and never
  follows a redirect;
- carries no `Authorization` header and no token: the link is its own credential, and the
  host that serves it is a file store, not API Entreprise;
- goes only to https, or to plain http on a loopback host when the API URL itself is on
  loopback (the local sandbox server, tests); never with credentials in the URL;
- has a total deadline (the policy's document_timeout, 12 s) and a size cap (10 MiB);
- is accepted only as `Content-Type: application/pdf` starting with `%PDF-`.

The link is never logged nor stored (it opens the document to whoever holds it): logs name
its host only. No Flask here.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import requests
import urllib3

from portail.apientreprise.catalogue import ROUTE_ATTESTATION_FISCALE, ROUTE_ATTESTATION_VIGILANCE
from portail.apientreprise.errors import BadAnswer, Timeout
from portail.apientreprise.reading import connection_note, is_timeout, read_capped, text
from portail.apientreprise.transport import HttpTransport
from portail.core.api_urls import SANDBOX_URL
from portail.core.netaddr import is_loopback_host
from portail.core.tiers import BadPayload

logger = logging.getLogger(__name__)

KIND_FISCALE = "fiscale"
KIND_VIGILANCE = "vigilance"

# Attestation kind -> its route, in the order the agent reads them.
ROUTES_BY_KIND = {
    KIND_FISCALE: ROUTE_ATTESTATION_FISCALE,
    KIND_VIGILANCE: ROUTE_ATTESTATION_VIGILANCE,
}

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PDF_SIGNATURE = b"%PDF-"
PDF_TYPE = "application/pdf"

# What a download sends: nothing that authenticates, ever.
DOCUMENT_HEADERS = {"Accept": PDF_TYPE, "User-Agent": "mini-portail-des-aides"}

# A document link answering these has expired or was revoked: a new call gives a new link.
_EXPIRED_STATUSES = frozenset({401, 403, 404, 410})

_RETRY = "Récupérez de nouveau les attestations : l'API fournit un nouveau lien à chaque appel."
_REPORT = (
    "Réessayez ; si cela se reproduit, signalez-le au support d'API Entreprise en donnant "
    "la date et l'heure de l'essai."
)


@dataclass(frozen=True)
class AttestationFacts:
    """What an attestation answer says (dates as YYYY-MM-DD)."""

    kind: str
    document_url: str | None
    delivered_on: str | None  # fiscale: date de délivrance; vigilance: start of validity
    valid_until: str | None = None  # vigilance: date_fin_validite
    period_end: str | None = None  # fiscale: date_periode_analysee
    security_code: str | None = None  # vigilance: to check the document on urssaf.fr
    refusal: str | None = None  # vigilance refused: the provider's words


def _day(data: dict, key: str, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise BadPayload(f"{key} n'est pas une date") from None


def _url(data: dict) -> str:
    value = data.get("document_url")
    if not isinstance(value, str) or not value.strip():
        raise BadPayload("document_url absent")
    return value.strip()


def read_attestation(kind: str, body: dict) -> AttestationFacts:
    """The facts of an attestation answer; BadPayload when the body cannot be read (the
    gateway then counts a bad answer)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise BadPayload("champ data absent")
    if kind == KIND_FISCALE:
        return AttestationFacts(
            kind,
            _url(data),
            _day(data, "date_delivrance_attestation", required=True),
            period_end=_day(data, "date_periode_analysee", required=False),
        )
    status = data.get("entity_status")
    if not isinstance(status, dict) or not isinstance(status.get("code"), str):
        raise BadPayload("entity_status absent")
    if status["code"] != "ok":
        # "refus_de_delivrance": the company is not up to date with its contributions.
        words = text(status.get("description")) or text(status.get("libelle"))
        return AttestationFacts(kind, None, None, refusal=words or status["code"])
    return AttestationFacts(
        kind,
        _url(data),
        _day(data, "date_debut_validite", required=False),
        valid_until=_day(data, "date_fin_validite", required=False),
        security_code=text(data.get("code_securite"), 60),
    )


class DocumentError(Exception):
    """The document could not be fetched: `message` says what happened (French), `action`
    what the agent can do. Never holds the link."""

    def __init__(self, kind: str, message: str, action: str):
        super().__init__(f"{kind}: {message}")
        self.kind, self.message, self.action = kind, message, action


@dataclass(frozen=True)
class Document:
    """A fetched PDF."""

    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def url_refusal(url: str, api_url: str) -> str | None:
    """Why the portal will not open this document link, or None when it may.

    The link comes from API Entreprise's answer, but the portal opens it from inside the
    authority's network: it never follows one to the machine itself, a private or
    link-local address (cloud metadata), or the built-in sandbox, unless the API itself is
    there (the local sandbox server, a test double, the demonstration).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        has_credentials = bool(parts.username or parts.password)
        api_host = urlsplit(api_url).hostname
    except ValueError:
        return "lien illisible"
    if not host:
        return "lien sans nom d'hôte"
    if has_credentials:
        return "lien contenant des identifiants"
    if parts.scheme not in ("https", "http"):
        return f"lien en {parts.scheme or 'schéma inconnu'} au lieu de https"
    if is_loopback_host(api_host):
        # The API is on this machine (a local sandbox server, a test double): so are its
        # documents.
        return None if is_loopback_host(host) or parts.scheme == "https" else _NOT_HTTPS
    if parts.scheme != "https":
        return _NOT_HTTPS
    if host == urlsplit(SANDBOX_URL).hostname and api_url.rstrip("/") != SANDBOX_URL:
        return "lien vers le bac à sable intégré alors que l'API configurée est réelle"
    if _internal_host(host):
        return "lien vers une adresse interne (machine locale ou réseau privé)"
    return None


_NOT_HTTPS = "lien en http au lieu de https"


def _internal_host(host: str) -> bool:
    """The machine itself or a private, link-local or reserved address, written as such."""
    if is_loopback_host(host) or host.rstrip(".").endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: API Entreprise's document hosts are public names
    return not address.is_global


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def fetch_document(
    transport: HttpTransport,
    url: str,
    *,
    api_url: str,
    timeout: float,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Document:
    """Download the PDF at `url` (a link the API at `api_url` handed out), or raise
    DocumentError. `timeout` is the total deadline, from connecting to the last byte."""
    refusal = url_refusal(url, api_url)
    if refusal is not None:
        raise DocumentError(
            "url_refused",
            f"Le lien du document fourni par l'API n'a pas été ouvert ({refusal}).",
            _REPORT,
        )
    host = _host(url)
    started = time.monotonic()
    too_slow = DocumentError(
        "timeout",
        f"Le document n'a pas été reçu en entier en {timeout:g} secondes.",
        "Réessayez dans quelques minutes.",
    )
    try:
        response = transport.fetch(url, dict(DOCUMENT_HEADERS), timeout)
    except requests.exceptions.Timeout:
        raise too_slow from None
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:  # RequestException too
        if is_timeout(exc):
            raise too_slow from None
        raise DocumentError(
            "unreachable",
            f"Le serveur du document est injoignable ({connection_note(exc)}).",
            "Vérifiez l'accès réseau sortant du serveur (pare-feu, proxy), puis réessayez.",
        ) from None
    raw = response.raw
    try:
        content = _read(raw, started + timeout, timeout, max_bytes, too_slow)
    finally:
        # A body read to its end gave its connection back; a half-read one is closed.
        raw.close()
        raw.release_conn()
    logger.info(
        "Document téléchargé depuis %s : %d octets (%.0f ms)",
        host,
        len(content),
        (time.monotonic() - started) * 1000,
    )
    return Document(content, hashlib.sha256(content).hexdigest())


def _size_words(size: int) -> str:
    mib = 1024 * 1024
    return f"{size // mib} Mio" if size >= mib and size % mib == 0 else f"{size} octets"


def _read(raw, deadline: float, timeout: float, max_bytes: int, too_slow) -> bytes:
    status = raw.status
    if 300 <= status < 400:
        raise DocumentError(
            "redirect",
            f"Le serveur du document a répondu par une redirection (statut HTTP {status}), "
            "que le portail ne suit jamais.",
            _REPORT,
        )
    if status in _EXPIRED_STATUSES:
        raise DocumentError(
            "expired",
            f"Le lien du document a expiré ou n'est plus valable (statut HTTP {status}).",
            _RETRY,
        )
    if not 200 <= status < 300:
        raise DocumentError(
            "http_error",
            f"Le serveur du document a répondu par une erreur (statut HTTP {status}).",
            "Réessayez dans quelques minutes.",
        )
    content_type = (raw.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != PDF_TYPE:
        raise DocumentError(
            "not_pdf",
            f"Le fichier reçu n'est pas un PDF (type « {text(content_type, 60) or 'absent'} »).",
            _REPORT,
        )
    if time.monotonic() >= deadline:
        raise too_slow
    try:
        content = read_capped(raw, deadline, timeout, max_bytes, status, None, {})
    except Timeout:
        raise too_slow from None
    except BadAnswer as exc:
        if (exc.note or "").startswith("corps de"):
            raise DocumentError(
                "too_big",
                f"Le fichier reçu dépasse la taille maximale de {_size_words(max_bytes)}.",
                _REPORT,
            ) from None
        raise DocumentError(
            "unreadable", "Le fichier n'a pas pu être reçu correctement.", _REPORT
        ) from None
    if not content.startswith(PDF_SIGNATURE):
        raise DocumentError(
            "not_pdf",
            "Le fichier reçu n'est pas un PDF (il ne commence pas par la signature %PDF-).",
            _REPORT,
        )
    return content
