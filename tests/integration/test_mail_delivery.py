"""Notices by e-mail on a real Kafka broker and PostgreSQL, to a real SMTP server the tests start (aiosmtpd on
127.0.0.1), with notifications in-process (issue #12): an ApplicationApproved published on the broker arrives as
one mail in the recipient's language; the same record twice is one notice and one mail; the server down while
events arrive, then up, delivers each mail exactly once.

One stack for the module (a database, a consumer group, a mail server); each test has recipients of its own, so
that what another test (or another module on the same broker) publishes is never counted here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from notifications.adapters.contacts import Contact, StaticContacts
from notifications.adapters.smtp import SmtpConfig, SmtpSender
from notifications.app import DEFINITION, send_mails
from notifications.consumers import handlers
from notifications.db.mails import mails
from notifications.db.notices import notices
from notifications.settings import NotificationsAdapters
from prasmes_contracts import to_kafka, topic_for
from prasmes_contracts.accounts import ApplicationApproved
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.servers import create_database
from prasmes_testing.smtp import MailServer
from prasmes_testing.support import eventually
from prasmes_testing.waiting import caught_up, start_at_the_end

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
RETRY_SECONDS = 60
APPROVALS = topic_for(ApplicationApproved).name


@dataclass
class Platform:
    svc: ServiceHarness
    clock: FixedClock
    server: MailServer
    contacts: dict[str, Contact]
    group: str

    def learner(self, name: str, language: str = "lv") -> tuple[str, str]:
        """A recipient of this test alone: its subject and its address in the directory."""
        subject = f"{name}-{uuid.uuid4().hex[:8]}"
        self.contacts[subject] = Contact(f"{subject}@example.lv", language)
        return subject, self.contacts[subject].email

    async def tick(self) -> int:
        """One round of the sender loop (the worker's job runs it every second as well)."""
        return await send_mails(self.svc.app.state.runtime.context)

    async def mails_of(self, recipients: set[str]) -> list[dict[str, Any]]:
        """The mail rows of these recipients (read from the table: the broker may bring other tests' events too,
        whose mails would crowd an operator's page)."""
        async with self.svc.database.session() as session:
            rows = await session.execute(sa.select(mails).where(mails.c.recipient_id.in_(recipients)))
        return [dict(row._mapping, message_id=f"<{row.id}@prasmes.lv>") for row in rows]

    async def all_sent(self, recipients: set[str], n: int) -> list[dict[str, Any]]:
        """Wait until these recipients have n mails, every one marked sent (the server took it before that), by a
        tick of the test's or by the worker's loop (which may claim a mail first: the test's tick then skips it)."""

        async def done() -> bool:
            rows = await self.mails_of(recipients)
            return len(rows) == n and all(row["state"] == "sent" for row in rows)

        await eventually(done, timeout=20, interval=0.05)
        return await self.mails_of(recipients)

    def received_by(self, addresses: set[str]) -> list[Any]:
        return [r.message for r in self.server.received if set(r.rcpt_tos) & addresses]


def approval(learner: str, amount: str = "500.00") -> ApplicationApproved:
    return ApplicationApproved(
        application_id=uuid.uuid4(), learner_id=learner, project_code="IMK", at=NOW, grant_amount=Decimal(amount)
    )


@pytest.fixture(scope="module")
def mail_server_of_module() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(
    kafka_bootstrap: str,
    postgres_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    token_issuer: TokenIssuer,
    mail_server_of_module: MailServer,
) -> AsyncIterator[Platform]:
    unique = uuid.uuid4().hex[:10]
    server = mail_server_of_module
    settings = local_settings(
        DEFINITION,
        create_database(postgres_server_url, f"notifications_mail_{unique}"),
        Path(tmp_path_factory.mktemp("mail-delivery")),
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group_suffix=f".{unique}",
        smtp_host=server.host,
        smtp_port=server.port,
        mail_retry_first_seconds=RETRY_SECONDS,
    )
    contacts: dict[str, Contact] = {}
    adapters = NotificationsAdapters(
        contacts=StaticContacts(contacts), mailer=SmtpSender(SmtpConfig(host=server.host, port=server.port, timeout=5))
    )
    clock = FixedClock(NOW)
    group = f"notifications.{unique}"
    await start_at_the_end(kafka_bootstrap, group, handlers.topics())
    async with harness(DEFINITION, settings, token_issuer, clock, adapters) as svc:
        platform = Platform(svc, clock, server, contacts, group)
        await _quiet(platform)
        yield platform


async def _quiet(platform: Platform) -> None:
    """The broker is the suite's: the group starts after what earlier tests left on the topics (`start_at_the_end`);
    whatever came between that and the consumer's start makes notices and mails (refused: none of their recipients
    is in this directory). Wait until those are read and settled, so that each test sees only its own."""
    await caught_up(platform.svc.bus, platform.group, handlers.topics(), timeout=300)
    while await platform.tick():
        pass


async def test_an_approval_on_the_broker_arrives_as_one_mail(platform: Platform) -> None:
    learner, address = platform.learner("emily", "en")
    await platform.svc.deliver(approval(learner, "250.00"))
    await platform.tick()
    (row,) = await platform.all_sent({learner}, 1)
    (mail,) = platform.received_by({address})
    assert mail["To"] == address and mail["Content-Language"] == "en"
    assert mail["Subject"] == "Application approved"
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None and "250.00 EUR" in text.get_content() and "IMK" in text.get_content()
    assert row["kind"] == "application_approved" and row["attempts"] == 1
    assert mail["Message-ID"] == row["message_id"]


async def test_the_same_record_twice_is_one_notice_and_one_mail(platform: Platform) -> None:
    learner, address = platform.learner("anna")
    event = approval(learner)
    (envelope,) = await platform.svc.deliver(event)
    producer = platform.svc.bus.producer()
    await producer.start()
    try:  # the very record again (the same CloudEvent id), as a producer's retry or a rebalance may bring it
        await producer.send_many([(APPROVALS, to_kafka(envelope, event.partition_key()))])
    finally:
        await producer.stop()
    await caught_up(platform.svc.bus, platform.group, [APPROVALS], timeout=20)
    assert len(await platform.mails_of({learner})) == 1, "one mail row for the event, however often it came"
    await platform.tick()
    await platform.all_sent({learner}, 1)
    await platform.tick()
    async with platform.svc.database.session() as session:
        count = await session.scalar(
            sa.select(sa.func.count()).select_from(notices).where(notices.c.recipient_id == learner)
        )
    assert count == 1
    (received,) = platform.received_by({address})
    assert received["Subject"] == "Pieteikums apstiprināts" and received["Content-Language"] == "lv"


async def test_the_server_down_while_events_arrive_then_up_delivers_each_mail_once(platform: Platform) -> None:
    learners = dict(platform.learner(f"learner{i}") for i in range(5))
    addresses = set(learners.values())
    platform.server.stop()
    try:
        await platform.svc.deliver(*(approval(learner) for learner in learners))
        await platform.tick()

        async def all_waiting() -> bool:  # each tried once (by this tick or the worker's), and put back
            mails = await platform.mails_of(set(learners))
            return len(mails) == 5 and all(m["state"] == "queued" and m["attempts"] == 1 for m in mails)

        await eventually(all_waiting, timeout=20, interval=0.1)
        waiting = await platform.mails_of(set(learners))
        assert all("could not be reached" in m["last_error"] for m in waiting)
        assert {m["next_attempt_at"] for m in waiting} == {platform.clock.now() + timedelta(seconds=RETRY_SECONDS)}
    finally:
        platform.server.start()
    assert await platform.tick() == 0, "not before the delay"
    platform.clock.at = platform.clock.now() + timedelta(seconds=RETRY_SECONDS + 1)
    await platform.tick()

    sent = await platform.all_sent(set(learners), 5)
    await platform.tick()
    arrived = platform.received_by(addresses)
    assert len(arrived) == 5 and {m["To"] for m in arrived} == addresses, "each mail once"
    assert {m["Message-ID"] for m in arrived} == {m["message_id"] for m in sent}
    assert all(m["attempts"] == 2 for m in sent)
