"""One message handed to the SMTP server: STARTTLS, implicit TLS or plain (a relay on
loopback), a timeout, credentials from the configuration (the password from the
environment). Every failure becomes a `SendFailure` whose reason never holds the password.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr

from portail.core.acknowledgement import InvalidRecipient, envelope_address, needs_smtputf8
from portail.core.netaddr import is_loopback_host

SECURITIES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_TIMEOUT = 15.0
# The name of the variable holding the password, not a password.
PASSWORD_ENV = "PORTAIL_SMTP_PASSWORD"  # noqa: S105  # nosec B105


class SmtpConfigError(ValueError):
    """A mail setting refused at start, with a French message."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand messages over. The password is never shown by repr()."""

    host: str
    port: int
    security: str = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT


class SendFailure(Exception):
    """A message not handed over: `permanent` when retrying cannot help (5xx on the
    address or the message), else worth another try later."""

    def __init__(self, reason: str, permanent: bool):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def from_config(config: Mapping, environ: Mapping[str, str]) -> SmtpConfig | None:
    """The SMTP settings, or None without SMTP_HOST (demonstration outbox / no sending).

    The password comes from PORTAIL_SMTP_PASSWORD as typed (never read as JSON), or from
    SMTP_PASSWORD given to the app directly (tests)."""
    host = str(config.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    security = str(config.get("SMTP_SECURITY") or "starttls").strip().lower()
    if security not in SECURITIES:
        raise SmtpConfigError("SMTP_SECURITY doit valoir « starttls », « tls » ou « none ».")
    try:
        port = int(config.get("SMTP_PORT") or DEFAULT_PORTS[security])
        timeout = float(config.get("SMTP_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        raise SmtpConfigError(
            "SMTP_PORT et SMTP_TIMEOUT_SECONDS doivent être des nombres."
        ) from None
    password = environ.get(PASSWORD_ENV)
    if password is None:
        password = str(config.get("SMTP_PASSWORD") or "")
    if security == "none" and not is_loopback_host(host):
        # Without TLS the login, the password and the applicants' data cross the network
        # in clear: plain SMTP is for a relay on this machine only.
        raise SmtpConfigError(
            "SMTP_SECURITY « none » n'est permis que vers un relais local (127.0.0.1, ::1 "
            "ou localhost) : choisissez « starttls » ou « tls »."
        )
    return SmtpConfig(
        host=host,
        port=port,
        security=security,
        user=str(config.get("SMTP_USER") or ""),
        password=password,
        timeout=timeout,
    )


def _scrubbed(text: str, config: SmtpConfig) -> str:
    if config.password:
        text = text.replace(config.password, "***")
    return " ".join(text.split())


def _answer(code: int, message: bytes | str) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    return f"{code} {message}"


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if config.security == "tls":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    if config.security == "starttls":
        smtp.starttls(context=context)
    return smtp


def _deliver(config: SmtpConfig, recipient: str, message: str) -> None:
    envelope_from = parseaddr(_header(message, "From"))[1]
    with _connect(config) as smtp:
        if config.user:
            smtp.login(config.user, config.password)
        options: list[str] = []
        if needs_smtputf8(recipient):
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("smtputf8"):
                raise SendFailure(
                    "Adresse accentuée que le serveur de courriel n'accepte pas (pas de "
                    "SMTPUTF8) : écrivez au demandeur depuis votre messagerie.",
                    permanent=True,
                )
            options.append("SMTPUTF8")
        # Bytes go out as they are: SMTP wants CRLF line ends (smtplib fixes them on str only).
        wire = message.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        smtp.sendmail(envelope_from, [recipient], wire, mail_options=options)


def _header(message: str, name: str) -> str:
    for line in message.split("\n"):
        if not line.strip():
            break
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def send(config: SmtpConfig, recipient: str, message: str) -> None:
    """Hand one message over to the server, or raise SendFailure."""
    try:
        _deliver(config, envelope_address(recipient), message)
    except InvalidRecipient as exc:
        raise SendFailure(str(exc), permanent=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        answers = list(exc.recipients.values())
        reason = "; ".join(_answer(code, text) for code, text in answers)
        permanent = bool(answers) and all(500 <= code < 600 for code, _text in answers)
        raise SendFailure(f"Adresse refusée : {_scrubbed(reason, config)}", permanent) from None
    except smtplib.SMTPAuthenticationError as exc:
        # The portal's credentials, not the message: worth retrying once they are fixed.
        reason = _scrubbed(_answer(exc.smtp_code, exc.smtp_error), config)
        raise SendFailure(f"Identification refusée par le serveur : {reason}", False) from None
    except smtplib.SMTPResponseException as exc:
        reason = _scrubbed(_answer(exc.smtp_code, exc.smtp_error), config)
        permanent = 500 <= exc.smtp_code < 600
        raise SendFailure(f"Refusé par le serveur : {reason}", permanent) from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = _scrubbed(f"{type(exc).__name__}: {exc}", config)
        raise SendFailure(f"Serveur injoignable : {reason}", False) from None
