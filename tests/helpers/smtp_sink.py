"""A real SMTP server (aiosmtpd) on a loopback port that keeps every message it accepts.

`smtp_sink()` speaks plain SMTP. With `security="starttls"` (STARTTLS required before
anything else) or `security="tls"` (SMTP over TLS from the first byte) it presents a
certificate for `names` (127.0.0.1 and localhost) issued by `ca` (a `TestCA`: clients trust it
through its `ca_file`); with `login` it requires SMTP AUTH with that user and password
(with STARTTLS: only after the handshake, aiosmtpd's `auth_require_tls`).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    """The user names of every successful SMTP AUTH."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    host: str = "127.0.0.1"
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


class TestCA:
    """A certificate authority of the test's own, written to `directory`: `ca_file` (its
    certificate, for the client to trust) and server certificates it issues."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "cssec test CA") -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), False)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def server_context(self, names: tuple[str, ...] = ("127.0.0.1", "localhost")) -> ssl.SSLContext:
        """A TLS server context with a certificate for `names`, issued by this CA."""
        now = datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        alt: list[x509.GeneralName] = []
        for host in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        stem = f"server-{x509.random_serial_number():x}"
        cert_file, key_file = self.directory / f"{stem}.pem", self.directory / f"{stem}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


class _Controller(Controller):
    implicit_tls = False

    def factory(self) -> SMTP:
        smtp = SMTP(self.handler, **self.SMTP_kwargs)
        if self.implicit_tls:
            # TLS from the first byte: aiosmtpd counts only STARTTLS as TLS for AUTH.
            smtp._auth_require_tls = False
        return smtp


@contextmanager
def smtp_sink(
    *,
    security: str = "none",
    ca: TestCA | None = None,
    login: tuple[str, str] | None = None,
    names: tuple[str, ...] = ("127.0.0.1", "localhost"),
    port: int | None = None,
) -> Iterator[Mailbox]:
    """`port`: listen there (an SMTP server back up where it was), else on a free one."""
    box = Mailbox()
    box.port = port or free_port()
    kwargs: dict[str, Any] = {}
    if security != "none":
        assert ca is not None, "TLS needs a certificate: pass ca="
        context = ca.server_context(names)
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            kwargs.update(ssl_context=context)
    if login is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            given = (
                (data.login.decode(), data.password.decode())
                if isinstance(data, LoginPassword)
                else None
            )
            ok = given == login
            if ok:
                with box.lock:
                    box.logins.append(login[0])
            return AuthResult(success=ok)

        kwargs.update(authenticator=authenticate, auth_required=True)
    controller = _Controller(box, hostname=box.host, port=box.port, **kwargs)
    controller.implicit_tls = security == "tls"
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
