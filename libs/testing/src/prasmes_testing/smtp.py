"""A real SMTP server for tests (aiosmtpd), on 127.0.0.1 and a free port, in a thread of its own.

    with MailServer() as server:                       # or the `mail_server` fixture
        server.refuse["gone@example.lv"] = 550         # answer RCPT TO with 550 (or 451, ...)
        ...send...
        [mail] = server.wait_for(1)                    # email.message.EmailMessage (policy default)

    MailServer(starttls=True, users={"prasmes": "secret"})   # STARTTLS required, AUTH required (after TLS)
    MailServer(implicit_tls=True)                             # TLS from the first byte (port 465 style)

With TLS the server presents a certificate for ``127.0.0.1``/``localhost`` signed by a CA made at construction
(:attr:`MailServer.ca_pem`: write it to a file for a client's CA bundle, or use :meth:`MailServer.client_context`).
:meth:`stop` closes the port (a client then gets "connection refused") and :meth:`start` opens it again, on the
same port, with the same certificate and the same received messages.
"""

from __future__ import annotations

import asyncio
import datetime
import email.policy
import ipaddress
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from prasmes_testing.servers import free_port

__all__ = ["MailServer", "Received"]

_TEXTS = {
    550: "5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table",
    551: "5.1.6 <{address}>: User not local",
    552: "5.2.2 <{address}>: Mailbox full",
    553: "5.1.3 <{address}>: Recipient address rejected: bad address syntax",
    450: "4.2.0 <{address}>: Recipient address rejected: Greylisted, try again later",
    451: "4.3.0 <{address}>: Temporary lookup failure",
    452: "4.2.2 <{address}>: Mailbox full, try again later",
}


@dataclass(frozen=True)
class Received:
    """One accepted mail with its envelope and how it came."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    tls: bool
    """The mail came over TLS (STARTTLS or implicit)."""
    login: str | None
    """The AUTH user, when the client logged in."""


class MailServer:
    """An SMTP server that keeps what it receives (:attr:`messages`) and refuses what it is told to (:attr:`refuse`,
    :attr:`refuse_data`)."""

    def __init__(
        self,
        *,
        starttls: bool = False,
        implicit_tls: bool = False,
        users: Mapping[str, str] | None = None,
        smtputf8: bool = False,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        if starttls and implicit_tls:
            raise ValueError("starttls and implicit_tls exclude each other")
        self.host = host
        self.port = port or free_port()
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.users: dict[str, str] = dict(users or {})
        """AUTH user -> password. Non-empty: AUTH is required before MAIL (after TLS when TLS is on)."""
        self.smtputf8 = smtputf8
        self.refuse: dict[str, int] = {}
        """Recipient address (any case) -> the SMTP code to answer its RCPT TO with, e.g. 550 or 451."""
        self.refuse_data: int | None = None
        """An SMTP code (e.g. 554, 452) to answer every message's DATA with instead of accepting it."""
        self._received: list[Received] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None
        self.ca_pem: str = ""
        """The PEM of the CA that signed the server's certificate (empty without TLS)."""
        self._server_context: ssl.SSLContext | None = None
        if starttls or implicit_tls:
            self.ca_pem, self._server_context = _make_tls(host)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._controller is not None:
            return
        tls = self._server_context
        smtp_options: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.starttls:
            smtp_options |= {"tls_context": tls, "require_starttls": True}
        if self.users:
            smtp_options |= {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": tls is not None,
            }
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=tls if self.implicit_tls else None,
            server_hostname="mail.test",  # the name in the greeting
            ready_timeout=10,
            **smtp_options,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the port; what was received stays. :meth:`start` opens the same port again."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------------ what came

    @property
    def received(self) -> list[Received]:
        """Every accepted mail, in arrival order (a copy)."""
        with self._arrived:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, in arrival order (a copy)."""
        return [received.message for received in self.received]

    def clear(self) -> None:
        with self._arrived:
            self._received.clear()

    def wait_for(self, n: int, timeout: float = 20) -> list[EmailMessage]:
        """Block until at least ``n`` messages arrived; return them all. Fails with an AssertionError after
        ``timeout`` seconds. (In an async test the client's coroutine has already finished by the time it calls this,
        or use :meth:`wait_for_async`, which does not block the event loop.)"""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._received) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self._received)} of {n} mails arrived in {timeout} s")
                self._arrived.wait(left)
            return [received.message for received in self._received]

    async def wait_for_async(self, n: int, timeout: float = 20) -> list[EmailMessage]:
        return await asyncio.to_thread(self.wait_for, n, timeout)

    def client_context(self) -> ssl.SSLContext:
        """An SSL context for a client that trusts this server's certificate (and nothing else)."""
        if not self.ca_pem:
            raise RuntimeError("this MailServer has no TLS")
        return ssl.create_default_context(cadata=self.ca_pem)

    # ------------------------------------------------------------------ the server thread's side

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            if self.users.get(login) == auth_data.password.decode():
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def _refusal(self, address: str) -> int | None:
        wanted = address.lower()
        for refused, code in list(self.refuse.items()):
            if refused.lower() == wanted:
                return code
        return None

    def _keep(self, received: Received) -> None:
        with self._arrived:
            self._received.append(received)
            self._arrived.notify_all()


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        code = self._server._refusal(address)
        if code is not None:
            text = _TEXTS.get(code, f"{code // 100}.0.0 <{{address}}>: Recipient address rejected (test)")
            return f"{code} {text.format(address=address)}"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        code = self._server.refuse_data
        if code is not None:
            return f"{code} {code // 100}.6.0 Message refused (test)"
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        # Parsed with "\n" line ends (the wire's CRLF would stay in each decoded text part).
        message = BytesParser(policy=email.policy.default).parsebytes(content.replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)
        self._server._keep(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                tls=session.ssl is not None or _over_tls(server),
                login=session.auth_data if session.authenticated else None,
            )
        )
        return "250 2.0.0 OK: queued"


def _over_tls(server: SMTP) -> bool:
    # STARTTLS sets session.ssl; implicit TLS (the controller's ssl_context) shows only on the transport.
    transport = server.transport
    return transport is not None and transport.get_extra_info("sslcontext") is not None


def _make_tls(host: str) -> tuple[str, ssl.SSLContext]:
    """A CA and a server certificate it signed (for ``host``, 127.0.0.1 and localhost); the CA's PEM and the
    server's SSL context."""
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Prasmes test mail CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        if host != "127.0.0.1":
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # load_cert_chain reads files only: written to a private folder, loaded, removed.
    with tempfile.TemporaryDirectory(prefix="prasmes-mail-tls-") as folder:
        cert_file, key_file = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        with open(cert_file, "wb") as out:
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        context.load_cert_chain(cert_file, key_file)
    return ca_cert.public_bytes(serialization.Encoding.PEM).decode(), context


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
