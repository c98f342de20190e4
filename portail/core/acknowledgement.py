"""The acknowledgement e-mail sent to the applicant after filing: plain text and HTML, in
French, with the reference, the date, the organisation, the project and the amount.

No link: a forwarded or intercepted message must not open anything more than it says.
Pure: builds an `email.message.EmailMessage`, sends nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import idna

from portail.core.formats import euros, paris_datetime, siret_fr
from portail.core.paris_time import PARIS, aware

SUBJECT_PREFIX = "Accusé de réception de votre demande"
DEFAULT_SENDER = "Mini-portail des aides <ne-pas-repondre@portail-des-aides.invalid>"
_FALLBACK_DOMAIN = "portail-des-aides.invalid"
# The authority receiving the applications when AUTHORITY_NAME is not set (README).
DEFAULT_AUTHORITY = "Votre collectivité"


@dataclass(frozen=True)
class Acknowledgement:
    """What the message states about one filed deposit."""

    ref: str
    filed_at: str  # stored UTC ISO time
    organisation: str
    siret: str
    project: str
    amount_cents: int
    recipient: str
    authority: str = DEFAULT_AUTHORITY  # who receives the application (AUTHORITY_NAME)


class InvalidRecipient(ValueError):
    """The applicant's address cannot head a message (empty, or holding a line break)."""


def envelope_address(address: str) -> str:
    """The address as SMTP carries it: an accented domain in its ASCII form (IDNA,
    `café.fr` -> `xn--caf-dma.fr`), which every server routes. An accented local part
    (`élise@…`) stays as typed: only a server offering SMTPUTF8 can take it (smtp.send).
    InvalidRecipient when the address has no domain or the domain is not a valid name."""
    address = (address or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(char in address for char in "\r\n,;<>"):
        raise InvalidRecipient("Adresse électronique du demandeur absente ou invalide.")
    try:
        ascii_domain = domain if domain.isascii() else idna.encode(domain, uts46=True).decode()
    except idna.IDNAError:
        raise InvalidRecipient("Nom de domaine de l'adresse électronique invalide.") from None
    return f"{local}@{ascii_domain}"


def needs_smtputf8(address: str) -> bool:
    """True when the envelope address still holds non-ASCII characters (its local part)."""
    return not address.isascii()


def subject(ref: str) -> str:
    """'Accusé de réception de votre demande AIDE-2026-…'."""
    return f"{SUBJECT_PREFIX} {ref}"


def facts(ack: Acknowledgement) -> list[tuple[str, str]]:
    """The lines the message states, label and value, in both versions."""
    organisation = ack.organisation or "(non renseignée)"
    if ack.siret:
        organisation = f"{organisation} (SIRET {siret_fr(ack.siret)})"
    return [
        ("Référence", ack.ref),
        ("Déposée le", f"{paris_datetime(ack.filed_at)} (heure de Paris)"),
        ("Organisation", organisation),
        ("Projet", ack.project or "(non renseigné)"),
        ("Montant demandé", euros(ack.amount_cents)),
        ("Adressée à", authority(ack)),
    ]


def authority(ack: Acknowledgement) -> str:
    """The authority's name, never empty."""
    return ack.authority.strip() or DEFAULT_AUTHORITY


def signature(ack: Acknowledgement) -> str:
    """'Le service des aides – <authority>'."""
    return f"Le service des aides – {authority(ack)}"


INTRO = (
    "Nous avons bien reçu votre demande d'aide. Conservez ce message : sa référence vous "
    "sera demandée pour tout échange au sujet de votre demande."
)
OUTRO = (
    "Votre demande va être examinée par les services de la collectivité, qui vous "
    "contacteront si nécessaire. Ce message est envoyé automatiquement : merci de ne pas "
    "y répondre."
)


def text_body(ack: Acknowledgement) -> str:
    """The plain-text version."""
    lines = "\n".join(f"{label} : {value}" for label, value in facts(ack))
    return f"Bonjour,\n\n{INTRO}\n\n{lines}\n\n{OUTRO}\n\nCordialement,\n{signature(ack)}\n"


def html_body(ack: Acknowledgement) -> str:
    """The HTML version: every value escaped, no link, no image."""
    rows = "\n".join(
        f'<tr><th scope="row" style="text-align:left;padding-right:1em">{html.escape(label)}'
        f"</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts(ack)
    )
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject(ack.ref))}</title></head><body>\n"
        f"<p>Bonjour,</p>\n<p>{html.escape(INTRO)}</p>\n"
        f"<table><caption>Votre demande</caption>\n{rows}\n</table>\n"
        f"<p>{html.escape(OUTRO)}</p>\n<p>Cordialement,<br>{html.escape(signature(ack))}</p>\n"
        "</body></html>\n"
    )


def build(ack: Acknowledgement, sender: str | None = None) -> EmailMessage:
    """The whole message: From the authority's sender, To the applicant, text then HTML."""
    recipient = envelope_address(ack.recipient)
    # Headers stay 7-bit (RFC 2047) for every server, except when the address itself is
    # accented: RFC 6532 headers, sent only to a server that announces SMTPUTF8.
    message = EmailMessage(policy=policy.SMTPUTF8) if needs_smtputf8(recipient) else EmailMessage()
    message["Subject"] = subject(ack.ref)
    message["From"] = ascii_sender(sender or DEFAULT_SENDER)
    message["To"] = recipient
    # RFC 5322 requires Date (filters penalise a message without it): the filing's moment.
    filed = aware(ack.filed_at)
    if filed is not None:
        message["Date"] = format_datetime(filed.astimezone(PARIS))
    message["Message-ID"] = make_msgid(domain=_sender_domain(sender or DEFAULT_SENDER))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_body(ack))
    message.add_alternative(html_body(ack), subtype="html")
    return message


def ascii_sender(sender: str) -> str:
    """MAIL_SENDER with its domain in ASCII form (`aides@évry.fr` -> `aides@xn--vry-bma.fr`):
    From and the envelope's MAIL FROM must carry a routable name on every server."""
    name, address = parseaddr(sender)
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return sender
    try:
        domain = idna.encode(domain, uts46=True).decode()
    except idna.IDNAError:
        return sender
    return str(Address(display_name=name, addr_spec=f"{local}@{domain}"))


def _sender_domain(sender: str) -> str:
    """The sender's domain (ASCII form), which names the Message-ID as mail servers expect."""
    domain = parseaddr(sender)[1].rpartition("@")[2]
    try:
        return idna.encode(domain, uts46=True).decode() if domain else _FALLBACK_DOMAIN
    except idna.IDNAError:
        return _FALLBACK_DOMAIN


def text_part(message: EmailMessage) -> str:
    """The plain-text version of a built message (the demonstration's outbox shows it)."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
