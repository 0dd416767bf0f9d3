"""E-mail over SMTP: a notice's mail composed as a MIME message and handed to the platform's SMTP server.

One connection per mail (connect, optional STARTTLS, optional AUTH, MAIL/RCPT/DATA, QUIT). A failure is one of two
kinds, and the caller (the sending queue) decides from the kind alone:

- :class:`TemporaryFailure`: try again later, with backoff, until the caller's bound. The server is down or does not
  answer in time, drops the connection, answers 4xx; TLS cannot be set up (the server offers no STARTTLS while the
  configuration requires it, its certificate is not trusted); and every 5xx *before the recipient is named*: at the
  greeting, EHLO, AUTH (535 wrong credentials, 530/534/538 ...) or MAIL FROM (the server refuses our sender). Those
  are the platform's configuration or the server's policy, not the mail: an operator can fix the settings while the
  mails wait, instead of every mail of that time being given up. A configuration that stays wrong still ends, at the
  caller's bound, with the reason (code and server text) of the last attempt.
- :class:`PermanentFailure`: give up at once. The server refused the recipient (5xx at RCPT: 550 no such user, 553
  bad address ...) or the message (5xx after DATA: content, size, policy); or the address cannot be sent at all
  (characters that cannot stand on an SMTP command line; a non-ASCII address and a server without SMTPUTF8); or the
  mail cannot be composed (a header with a line break). The recipient must be a bare ``local@domain``.

No personal data in logs or failures (the house rule): a failure's text is the SMTP code and the server's text with
any e-mail address in it replaced by ``[address]`` (Postfix, for one, names the recipient in its 550), and it is
raised *without* aiosmtplib's exception chained to it, whose text and attributes carry the address. The only log line
is ``smtp.sent`` with the mail's Message-ID.

The Message-ID is the caller's (:attr:`OutgoingMail.message_id`, e.g. from :func:`message_id_for`), the same on each
attempt: a mail that reached the server although the answer was lost (a disconnect after the final dot) and is sent
again carries the same Message-ID, which receiving systems use to drop the duplicate.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import Enum

import aiosmtplib
from prasmes_runtime.logging import get_logger

__all__ = [
    "OutgoingMail",
    "PermanentFailure",
    "SmtpConfig",
    "SmtpFailure",
    "SmtpSender",
    "TemporaryFailure",
    "compose",
    "message_id_for",
]

log = get_logger(__name__)

_MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_RECIPIENT = re.compile(r"^[^\s<>()\[\],;:\"@\\]+@[^\s<>()\[\],;:\"@\\]+$")
"""A bare address (``local@domain``), non-ASCII allowed (sent with SMTPUTF8 where the server has it)."""
_ADDRESS = re.compile(r"[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+")
_REASON_LIMIT = 300
_MESSAGE_ID_NAMESPACE = uuid.UUID("5b0e6c57-6a4f-4c53-9a8e-0d6f3c2a9e11")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool = False
    """Upgrade the connection with STARTTLS, and fail (temporarily) when the server does not offer it. False: never
    upgrade (no opportunistic STARTTLS: a plain relay on localhost stays plain)."""
    use_tls: bool = False
    """Implicit TLS from the first byte (port 465). Exclusive with :attr:`starttls`."""
    username: str | None = None
    """AUTH (PLAIN/LOGIN/CRAM-MD5, whichever the server offers) with :attr:`password`; both or neither."""
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    """Seconds for the connection and for each SMTP command."""
    sender: str = "Prasmes <no-reply@prasmes.lv>"
    """The From header; its address is also the envelope sender (MAIL FROM)."""
    validate_certs: bool = True
    """Verify the server's certificate and host name under TLS. False only for a test or a relay on localhost."""
    cert_bundle: str | None = None
    """A PEM file of the CA certificates to trust instead of the system's (a private CA, a test server's)."""
    local_hostname: str | None = None
    """The name given in EHLO; None: this host's fully qualified name."""

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise ValueError("SMTP: starttls and use_tls exclude each other")
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP: username and password go together")
        if not 0 < self.port < 65536:
            raise ValueError("SMTP: the port must be 1..65535")
        if self.timeout <= 0:
            raise ValueError("SMTP: the timeout must be positive")
        if "@" not in envelope_sender(self.sender):
            raise ValueError("SMTP: the sender has no e-mail address")


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    """``<unique@domain>``, the same on every attempt of this mail (:func:`message_id_for`)."""
    # The address and the texts are personal data: never in a repr (a log line, a traceback).
    to: str = field(repr=False)
    subject: str = field(repr=False)
    text: str = field(repr=False)
    html: str = field(repr=False)
    language: str
    """The Content-Language header (``lv``, ``en``)."""

    def __post_init__(self) -> None:
        if not _MESSAGE_ID.match(self.message_id):
            raise ValueError(f"a Message-ID is <unique@domain>, not {self.message_id!r}")
        if not self.to.strip():
            raise ValueError("a mail needs a recipient")


class SmtpFailure(Exception):
    """The mail was not accepted. ``code`` is the SMTP reply code when the server gave one; ``reason`` (also the
    exception's text) says what happened, without the recipient's address."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TemporaryFailure(SmtpFailure):
    """Try again later: the server is unreachable, timed out, disconnected, answered 4xx, or refused the platform's
    own configuration (TLS, AUTH, the sender)."""


class PermanentFailure(SmtpFailure):
    """Give up: the server refused the recipient or the message (5xx), or the mail cannot be sent as it is."""


def message_id_for(key: uuid.UUID | str, domain: str = "prasmes.lv") -> str:
    """A Message-ID that is the same for the same key: ``<uuid@domain>``, the key itself when it is a UUID (a
    notice's or a delivery's id), else a name-based UUID of it."""
    value = key if isinstance(key, uuid.UUID) else uuid.uuid5(_MESSAGE_ID_NAMESPACE, key)
    return f"<{value}@{domain}>"


def envelope_sender(sender: str) -> str:
    """The address of a From value (``Prasmes <no-reply@prasmes.lv>`` -> ``no-reply@prasmes.lv``)."""
    return email.utils.parseaddr(sender)[1]


def compose(mail: OutgoingMail, sender: str, *, now: datetime | None = None) -> EmailMessage:
    """The MIME message: multipart/alternative of the text and the HTML part (UTF-8), with Message-ID, Date (now,
    UTC), From, To, Subject (RFC 2047 encoded where it is not ASCII), Content-Language, and the headers of an
    automatic mail (``Auto-Submitted: auto-generated``, RFC 3834; ``X-Auto-Response-Suppress: All`` for Exchange),
    so that out-of-office replies do not come back. A header value with a line break raises ``ValueError``."""
    message = EmailMessage(policy=email.policy.default)
    message["Message-ID"] = mail.message_id
    message["Date"] = email.utils.format_datetime(now or datetime.now(UTC))
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    # Quoted-printable: 7-bit clean, for a server without 8BITMIME too, and still readable in the raw.
    message.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the parts: making the message multipart moves the Content-* headers set before into its first part.
    message["Content-Language"] = mail.language
    return message


class _Stage(Enum):
    CONNECT = "connect"  # TCP, TLS, greeting, EHLO, STARTTLS
    LOGIN = "login"
    SEND = "send"  # MAIL FROM, RCPT TO, DATA


class SmtpSender:
    """Sends each mail over its own connection to the configured SMTP server."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, mail: OutgoingMail) -> None:
        """Hand the mail to the server; returns once the server has accepted it (250 after DATA).

        Raises :class:`TemporaryFailure` or :class:`PermanentFailure` (see the module's doc for which is which)."""
        if not _RECIPIENT.match(mail.to):
            # Checked here: aiosmtplib's parsing is lenient ("anna<x>@example.lv" would go to "x").
            raise PermanentFailure("the recipient address is not a plain e-mail address")
        try:
            message = compose(mail, self._config.sender)
        except (ValueError, TypeError) as exc:
            raise PermanentFailure(f"the mail cannot be composed ({type(exc).__name__})") from None
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.use_tls,
            start_tls=config.starttls,
            validate_certs=config.validate_certs,
            cert_bundle=config.cert_bundle,
            timeout=config.timeout,
            local_hostname=config.local_hostname,
        )
        stage = _Stage.CONNECT
        sent = False
        try:
            await client.connect()
            if config.username is not None and config.password is not None:
                stage = _Stage.LOGIN
                await client.login(config.username, config.password)
            stage = _Stage.SEND
            await client.send_message(message, sender=envelope_sender(config.sender), recipients=[mail.to])
            sent = True
        except Exception as exc:  # classified below; anything not an SMTP/network/address error goes on as it is
            failure = _classify(exc, stage, mail.to)
            if failure is None:
                raise
            raise failure from None
        finally:
            if not sent:  # failed or cancelled: drop the connection
                client.close()
        await _quit(client)
        log.info("smtp.sent", message_id=mail.message_id)


async def _quit(client: aiosmtplib.SMTP) -> None:
    # The server has accepted the mail: nothing that happens now may make the caller send it again.
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    finally:
        client.close()


def _classify(exc: Exception, stage: _Stage, recipient: str) -> SmtpFailure | None:
    """The failure an exception of aiosmtplib (or of the network) stands for; None for anything else."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refusals = exc.recipients or []
        codes = [refused.code for refused in refusals]
        text = refusals[0].message if refusals else ""
        code = codes[0] if codes else None
        reason = f"the recipient was refused: {_reply(code, text, recipient)}"
        if codes and all(c >= 500 for c in codes):
            return PermanentFailure(reason, code)
        return TemporaryFailure(reason, code)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        what = "the recipient" if isinstance(exc, aiosmtplib.SMTPRecipientRefused) else "the message"
        reason = f"{what} was refused: {_reply(exc.code, exc.message, recipient)}"
        if exc.code >= 500:
            return PermanentFailure(reason, exc.code)
        return TemporaryFailure(reason, exc.code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # Greeting, EHLO, AUTH, MAIL FROM: the platform's configuration or the server, never the mail.
        return TemporaryFailure(f"{_doing(exc, stage)}: {_reply(exc.code, exc.message, recipient)}", exc.code)
    if isinstance(exc, aiosmtplib.SMTPNotSupported) and stage is _Stage.SEND:
        return PermanentFailure("the server cannot take a non-ASCII address (no SMTPUTF8)")
    if isinstance(exc, ValueError) and stage is _Stage.SEND:
        # aiosmtplib refuses an address that would smuggle text onto the command line (its text names it).
        return PermanentFailure("the recipient address cannot be used in an SMTP command")
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        # Refused/unreachable/timed out/disconnected; TLS not offered or not trusted; AUTH not offered.
        return TemporaryFailure(f"{_doing(exc, stage)}: {type(exc).__name__}: {_scrub(str(exc), recipient)}")
    return None


def _doing(exc: Exception, stage: _Stage) -> str:
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return "the server refused the sender"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "the server refused the login"
    return {
        _Stage.CONNECT: "the SMTP server could not be reached",
        _Stage.LOGIN: "the login failed",
        _Stage.SEND: "the mail could not be sent",
    }[stage]


def _reply(code: int | None, text: str, recipient: str) -> str:
    return f"{code} {_scrub(text, recipient)}".strip() if code is not None else _scrub(text, recipient)


def _scrub(text: str, recipient: str) -> str:
    """The server's text without the recipient's (or any) address, on one line, not too long."""
    if recipient:
        text = re.sub(re.escape(recipient), "[address]", text, flags=re.IGNORECASE)
        address = envelope_sender(recipient)
        if address:
            text = re.sub(re.escape(address), "[address]", text, flags=re.IGNORECASE)
    text = _ADDRESS.sub("[address]", text)
    text = " ".join(text.split())
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"
