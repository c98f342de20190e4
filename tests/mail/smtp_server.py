"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, refuses the
addresses starting with "refuse", and checks a login when given a password."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Keeper:
    """aiosmtpd handler: keeps every accepted message."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("refuse"):
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def self_signed_certificate(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost, its own authority: (cert PEM, key PEM).
    A client trusts it through SSL_CERT_FILE, as it would trust a relay's internal CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class LoopbackSmtp:
    """`with LoopbackSmtp(port) as server:` a server on 127.0.0.1:port until the block ends.
    With `password`, AUTH is required (over plain SMTP: loopback only) and checked. With
    `smtputf8`, the server announces SMTPUTF8 (accented addresses, RFC 6531). With
    `security` "starttls" (STARTTLS required before anything else) or "tls" (TLS from the
    first byte) and `certificate` (cert and key PEM paths), the server speaks TLS."""

    def __init__(
        self,
        port: int | None = None,
        user: str = "",
        password: str = "",
        smtputf8: bool = False,
        security: str = "none",
        certificate: tuple[str, str] | None = None,
    ):
        self.port = port or free_port()
        self.keeper = Keeper()
        self.logins: list[tuple[str, bool]] = []
        self._user, self._password = user, password
        options = {"enable_SMTPUTF8": smtputf8}
        if password:
            options.update(
                {
                    "authenticator": self._authenticate,
                    "auth_required": False,  # advertised and checked; True warns on plain SMTP
                    "auth_require_tls": False,
                    # smtplib falls back to LOGIN after a refused PLAIN, and aiosmtpd's LOGIN
                    # never answers smtplib's initial response: PLAIN only.
                    "auth_exclude_mechanism": ["LOGIN"],
                }
            )
        if security != "none":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            if security == "starttls":
                options.update({"tls_context": context, "require_starttls": True})
            else:
                options.update({"ssl_context": context, "server_hostname": "127.0.0.1"})
        self.controller = Controller(self.keeper, hostname="127.0.0.1", port=self.port, **options)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        good = login == self._user and auth_data.password.decode() == self._password
        self.logins.append((login, good))
        return AuthResult(success=good, handled=False)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.keeper.messages

    def __enter__(self) -> LoopbackSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def wait_for(condition, timeout: float = 10.0, step: float = 0.05):
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")
