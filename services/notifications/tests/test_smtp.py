"""The SMTP adapter against a real SMTP server (aiosmtpd, prasmes_testing.smtp): what arrives, and which failures
are temporary and which permanent."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from notifications.adapters.smtp import (
    OutgoingMail,
    PermanentFailure,
    SmtpConfig,
    SmtpSender,
    TemporaryFailure,
    compose,
    message_id_for,
)
from prasmes_testing.servers import free_port
from prasmes_testing.smtp import MailServer

SUBJECT = "Jūsu pieteikums apstiprināts: šūšana un ēdienu gatavošana"
TEXT = "Labdien!\n\nJūsu pieteikums projektā IMK ir apstiprināts: 320.00 EUR.\n"
HTML = "<p>Labdien!</p><p>Jūsu pieteikums projektā <b>IMK</b> ir apstiprināts: 320.00 EUR.</p>"


def a_mail(to: str = "anna.berzina@example.lv", **changes: str) -> OutgoingMail:
    values = {
        "message_id": message_id_for(uuid.uuid4()),
        "to": to,
        "subject": SUBJECT,
        "text": TEXT,
        "html": HTML,
        "language": "lv",
    } | changes
    return OutgoingMail(**values)


def config_for(server: MailServer, **changes: object) -> SmtpConfig:
    return SmtpConfig(host=server.host, port=server.port, timeout=5, **changes)  # type: ignore[arg-type]


def ca_file(server: MailServer, tmp_path: Path) -> str:
    path = tmp_path / "mail-ca.pem"
    path.write_text(server.ca_pem)
    return str(path)


async def test_a_mail_arrives_with_its_headers_and_both_parts(mail_server: MailServer) -> None:
    mail = a_mail()
    await SmtpSender(config_for(mail_server)).send(mail)

    [message] = await mail_server.wait_for_async(1)
    assert message["To"] == "anna.berzina@example.lv"
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"] == mail.message_id
    assert message["Content-Language"] == "lv"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == "Prasmes <no-reply@prasmes.lv>"
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"
    text, html = (part for part in message.iter_parts())
    assert (text.get_content_type(), text.get_content_charset()) == ("text/plain", "utf-8")
    assert (html.get_content_type(), html.get_content_charset()) == ("text/html", "utf-8")
    assert text.get_content() == TEXT
    assert html.get_content().rstrip("\n") == HTML
    [received] = mail_server.received
    assert (received.mail_from, received.rcpt_tos) == ("no-reply@prasmes.lv", ("anna.berzina@example.lv",))
    assert (received.tls, received.login) == (False, None)


def test_the_subject_with_latvian_letters_is_encoded_for_the_wire() -> None:
    mail = a_mail()
    wire = bytes(compose(mail, "Prasmes <no-reply@prasmes.lv>", now=datetime(2026, 11, 30, 10, tzinfo=UTC)))
    subject_line = wire.split(b"\nSubject: ", 1)[1].split(b"\n", 1)[0]
    assert subject_line.startswith(b"=?utf-8?"), subject_line
    assert b"Date: Mon, 30 Nov 2026 10:00:00 +0000" in wire
    assert wire.isascii()  # headers encoded (RFC 2047), parts quoted-printable or base64 as the policy picks


def test_the_message_id_is_stable_for_its_key() -> None:
    notice = uuid.uuid4()
    assert message_id_for(notice) == f"<{notice}@prasmes.lv>"
    assert message_id_for("delivery-7") == message_id_for("delivery-7") != message_id_for("delivery-8")
    with pytest.raises(ValueError):
        a_mail(message_id="no-angle-brackets@prasmes.lv")


async def test_a_refused_recipient_is_given_up_without_naming_the_address(mail_server: MailServer) -> None:
    mail_server.refuse["Gone.User@example.lv"] = 550

    with pytest.raises(PermanentFailure) as failure:
        await SmtpSender(config_for(mail_server)).send(a_mail(to="gone.user@example.lv"))

    assert failure.value.code == 550
    assert "550 5.1.1" in str(failure.value)
    assert "User unknown" in str(failure.value)
    assert "gone.user" not in str(failure.value).lower()
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    assert mail_server.messages == []


async def test_a_recipient_answered_with_4xx_is_tried_again(mail_server: MailServer) -> None:
    mail_server.refuse["busy@example.lv"] = 451
    sender = SmtpSender(config_for(mail_server))

    with pytest.raises(TemporaryFailure) as failure:
        await sender.send(a_mail(to="busy@example.lv"))
    assert failure.value.code == 451
    assert "busy@" not in str(failure.value)

    del mail_server.refuse["busy@example.lv"]
    await sender.send(a_mail(to="busy@example.lv"))
    assert len(await mail_server.wait_for_async(1)) == 1


async def test_a_message_refused_with_5xx_is_given_up_and_with_4xx_tried_again(mail_server: MailServer) -> None:
    sender = SmtpSender(config_for(mail_server))
    mail_server.refuse_data = 554
    with pytest.raises(PermanentFailure) as permanent:
        await sender.send(a_mail())
    assert permanent.value.code == 554
    mail_server.refuse_data = 452
    with pytest.raises(TemporaryFailure) as temporary:
        await sender.send(a_mail())
    assert temporary.value.code == 452


async def test_a_stopped_server_is_a_temporary_failure_and_the_mail_goes_once_it_is_back(
    mail_server: MailServer,
) -> None:
    sender = SmtpSender(config_for(mail_server))
    mail = a_mail()
    mail_server.stop()

    with pytest.raises(TemporaryFailure) as failure:
        await sender.send(mail)
    assert failure.value.code is None
    assert "could not be reached" in str(failure.value)

    mail_server.start()
    await sender.send(mail)
    [message] = await mail_server.wait_for_async(1)
    assert message["Message-ID"] == mail.message_id


async def test_a_server_that_does_not_answer_is_a_temporary_failure() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accepts, never greets

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TemporaryFailure, match="Timeout"):
            await SmtpSender(SmtpConfig(host="127.0.0.1", port=port, timeout=0.5)).send(a_mail())
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_port_where_nothing_listens_is_a_temporary_failure() -> None:
    with pytest.raises(TemporaryFailure):
        await SmtpSender(SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2)).send(a_mail())


@pytest.fixture
async def tls_server() -> AsyncIterator[MailServer]:
    with MailServer(starttls=True, users={"prasmes": "s3cret"}) as server:
        yield server


async def test_starttls_and_auth_with_a_trusted_certificate(tls_server: MailServer, tmp_path: Path) -> None:
    config = config_for(
        tls_server, starttls=True, username="prasmes", password="s3cret", cert_bundle=ca_file(tls_server, tmp_path)
    )
    await SmtpSender(config).send(a_mail())

    [received] = tls_server.received
    assert (received.tls, received.login) == (True, "prasmes")
    assert received.message["Subject"] == SUBJECT


async def test_wrong_credentials_are_a_temporary_failure_for_an_operator_to_fix(
    tls_server: MailServer, tmp_path: Path
) -> None:
    config = config_for(
        tls_server,
        starttls=True,
        username="prasmes",
        password="not-the-secret",
        cert_bundle=ca_file(tls_server, tmp_path),
    )
    with pytest.raises(TemporaryFailure) as failure:
        await SmtpSender(config).send(a_mail())
    assert failure.value.code == 535
    assert "not-the-secret" not in str(failure.value)
    assert "not-the-secret" not in repr(config)


async def test_an_untrusted_certificate_is_a_temporary_failure(tls_server: MailServer) -> None:
    config = config_for(tls_server, starttls=True, username="prasmes", password="s3cret")
    with pytest.raises(TemporaryFailure, match=r"(?i)certificate"):
        await SmtpSender(config).send(a_mail())
    assert tls_server.messages == []


async def test_a_server_without_starttls_fails_a_configuration_that_requires_it(mail_server: MailServer) -> None:
    with pytest.raises(TemporaryFailure, match="STARTTLS"):
        await SmtpSender(config_for(mail_server, starttls=True)).send(a_mail())
    assert mail_server.messages == []


async def test_a_server_that_requires_starttls_refuses_a_plain_client(tls_server: MailServer) -> None:
    with pytest.raises(TemporaryFailure) as failure:
        await SmtpSender(config_for(tls_server)).send(a_mail())
    assert failure.value.code == 530


async def test_implicit_tls(tmp_path: Path) -> None:
    with MailServer(implicit_tls=True) as server:
        await SmtpSender(config_for(server, use_tls=True, cert_bundle=ca_file(server, tmp_path))).send(a_mail())
        [received] = server.received
    assert received.tls


async def test_an_address_that_cannot_be_sent_is_given_up(mail_server: MailServer) -> None:
    sender = SmtpSender(config_for(mail_server))
    with pytest.raises(PermanentFailure, match="SMTPUTF8"):
        await sender.send(a_mail(to="jānis@example.lv"))
    for address in ("anna@example.lv> NOTIFY=NEVER", "anna<x>@example.lv", "Anna <anna@example.lv>", "anna"):
        with pytest.raises(PermanentFailure) as refused:
            await sender.send(a_mail(to=address))
        assert "anna" not in str(refused.value).lower()
    with pytest.raises(PermanentFailure, match="composed"):
        await sender.send(a_mail(subject="line\nBcc: everyone@example.lv"))
    assert mail_server.messages == []


async def test_a_non_ascii_address_goes_to_a_server_with_smtputf8() -> None:
    with MailServer(smtputf8=True) as server:
        await SmtpSender(config_for(server)).send(a_mail(to="jānis@example.lv"))
        [received] = server.received
    assert received.rcpt_tos == ("jānis@example.lv",)


def test_the_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="exclude"):
        SmtpConfig(host="h", port=25, starttls=True, use_tls=True)
    with pytest.raises(ValueError, match="together"):
        SmtpConfig(host="h", port=25, username="u")
    with pytest.raises(ValueError, match="address"):
        SmtpConfig(host="h", port=25, sender="Prasmes")
    assert "personal" not in repr(a_mail(to="personal@example.lv", subject="personal"))
