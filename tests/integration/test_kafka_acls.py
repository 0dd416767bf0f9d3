"""Kafka as operators run it: a real broker with SASL/SCRAM sign-in and ACLs (prasmes_testing.servers'
`LocalKafkaBroker(users=...)`), the ACLs the registries make (prasmes_devtools.kafka_access), and the runtime's bus
signing in from its settings.

A service's principal writes its own topics and is refused another's; it reads what it consumes and nothing else; a
partner reads a partner-readable topic, is refused an internal one and refused every write; a wrong password is
refused at sign-in; and the outbox relay and a consumer, built from settings with credentials, carry events (and a
dead letter) end to end."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from prasmes_contracts import KafkaRecord
from prasmes_contracts.registry import TOPICS
from prasmes_devtools import kafka_access
from prasmes_runtime import dlq
from prasmes_runtime.bus import BusUnavailable, Delivered, create_bus
from prasmes_runtime.bus.kafka import PLAINTEXT, KafkaBus
from prasmes_runtime.db import Database
from prasmes_runtime.outbox import OutboxRelay
from prasmes_runtime.settings import Settings
from prasmes_testing.servers import LocalKafkaBroker
from prasmes_testing.waiting import supervised, until
from pydantic import SecretStr, ValidationError

from tests.integration.eventing_support import (
    all_published,
    count,
    emit,
    event_consumer,
    migrated,
    notice_count,
    welcome_handlers,
)

pytestmark = [pytest.mark.kafka]
ADMIN = "admin"
PUBLIC_TOPIC = "accounts.studies"  # partner-readable; catalog consumes it
INTERNAL_TOPIC = "accounts.assessments"  # not partner-readable; only surveys consumes it
RECORD = KafkaRecord(key=b"k", value=b"{}", headers=[])


@dataclass(frozen=True)
class Cluster:
    bootstrap: str
    passwords: dict[str, str]

    def settings(self, principal: str, password: str | None = None) -> Settings:
        return Settings(
            bus="kafka",
            kafka_bootstrap_servers=self.bootstrap,
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_username=principal,
            kafka_sasl_password=SecretStr(password or self.passwords[principal]),
        )

    def bus(self, principal: str, password: str | None = None) -> KafkaBus:
        bus = create_bus(self.settings(principal, password))
        assert isinstance(bus, KafkaBus)
        return bus


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """One SASL+ACL broker for the module: every service's principal, a partner and the admin, the platform's
    ACLs applied (twice: applying is idempotent) and every topic and dead-letter topic created by the admin."""
    grants = [*kafka_access.service_grants(), kafka_access.partner_grant()]
    passwords = {principal: secrets.token_hex(16) for principal in [ADMIN, *(g.principal for g in grants)]}
    with LocalKafkaBroker(users=passwords, admin=ADMIN) as broker:
        found = Cluster(broker.bootstrap, passwords)
        asyncio.run(_prepare(found, grants))
        yield found


async def _prepare(cluster: Cluster, grants: list[kafka_access.Grant]) -> None:
    admin = cluster.bus(ADMIN)
    for _ in range(2):
        await kafka_access.apply(cluster.bootstrap, admin.security.client_kwargs(), grants)
    await admin.ensure_topics([name for topic in TOPICS for name in (topic.name, topic.dead_letter)])


async def _send(bus: KafkaBus, topic: str) -> None:
    producer = bus.producer()
    try:
        await producer.send_many([(topic, RECORD)])
    finally:
        await producer.stop()


async def _read(bus: KafkaBus, group: str, topic: str) -> list[Delivered]:
    """What a new group of `bus` finds on `topic` (waiting a little for the first records)."""
    subscription = bus.subscription(group, [topic])
    await subscription.start()
    try:
        found: list[Delivered] = []
        for _ in range(20):
            found += await subscription.poll(timeout=0.5, max_records=100)
            if found:
                break
        await subscription.commit(found)
        return found
    finally:
        await subscription.stop()


def _cause(refusal: pytest.ExceptionInfo[BusUnavailable]) -> BaseException | None:
    return refusal.value.__cause__


async def test_a_service_writes_its_own_topic_and_is_refused_another_services(cluster: Cluster) -> None:
    accounts = cluster.bus("svc-accounts")
    await _send(accounts, "accounts.grants")
    with pytest.raises(BusUnavailable) as refused:
        await _send(accounts, "catalog.providers")
    assert isinstance(_cause(refused), TopicAuthorizationFailedError)


async def test_a_service_reads_what_it_consumes_and_is_refused_the_rest(cluster: Cluster, unique: str) -> None:
    await _send(cluster.bus("svc-accounts"), PUBLIC_TOPIC)
    catalog = cluster.bus("svc-catalog")
    assert await _read(catalog, f"catalog-{unique}", PUBLIC_TOPIC)
    with pytest.raises(BusUnavailable) as refused:
        await _read(catalog, f"catalog-{unique}.other", INTERNAL_TOPIC)  # surveys consumes it, catalog does not
    assert isinstance(_cause(refused), TopicAuthorizationFailedError)
    with pytest.raises(BusUnavailable) as refused:
        await _read(catalog, f"accounts-{unique}", PUBLIC_TOPIC)  # another service's group
    assert isinstance(_cause(refused), GroupAuthorizationFailedError)


async def test_a_partner_reads_a_public_topic_and_is_refused_an_internal_one(cluster: Cluster, unique: str) -> None:
    await _send(cluster.bus("svc-accounts"), PUBLIC_TOPIC)
    await _send(cluster.bus("svc-accounts"), INTERNAL_TOPIC)
    partner = cluster.bus("partner")
    assert await _read(partner, f"partner.{unique}", PUBLIC_TOPIC)
    with pytest.raises(BusUnavailable) as refused:
        await _read(partner, f"partner.{unique}.internal", INTERNAL_TOPIC)
    assert isinstance(_cause(refused), TopicAuthorizationFailedError)
    with pytest.raises(BusUnavailable) as refused:
        await _read(partner, f"statistics-{unique}", PUBLIC_TOPIC)  # a group outside its prefix
    assert isinstance(_cause(refused), GroupAuthorizationFailedError)


async def test_a_partner_is_refused_every_write(cluster: Cluster) -> None:
    partner = cluster.bus("partner")
    with pytest.raises(BusUnavailable) as refused:
        await _send(partner, PUBLIC_TOPIC)  # the runtime's idempotent producer: no topic it may write
    assert isinstance(_cause(refused), ClusterAuthorizationFailedError)
    plain = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, **partner.security.client_kwargs())
    await plain.start()
    try:
        for topic in (PUBLIC_TOPIC, INTERNAL_TOPIC, f"{PUBLIC_TOPIC}.dlq"):
            with pytest.raises(TopicAuthorizationFailedError):
                await plain.send_and_wait(topic, b"{}")
    finally:
        await plain.stop()


async def test_a_wrong_password_is_refused_at_sign_in(cluster: Cluster, caplog: pytest.LogCaptureFixture) -> None:
    await cluster.bus("svc-accounts").ping()
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(BusUnavailable) as refused:
        await cluster.bus("svc-accounts", password="not-the-password").ping()
    assert isinstance(_cause(refused), KafkaConnectionError)
    assert "SaslAuthenticationFailed" in caplog.text
    with pytest.raises(BusUnavailable):
        await KafkaBus(cluster.bootstrap, security=PLAINTEXT).ping()  # no sign-in at all


async def test_the_relay_and_a_consumer_carry_events_with_credentials(
    cluster: Cluster, tmp_path: Path, unique: str
) -> None:
    """accounts' relay publishes AccountOpened on its topic; notifications' consumer applies each once and
    dead-letters a poison record on the topic's dead-letter topic, which its grant may write."""
    accounts_db = await migrated(f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}")
    notifications_db = await migrated(f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}")
    accounts, notifications = cluster.bus("svc-accounts"), cluster.bus("svc-notifications")
    await emit(accounts_db, 5, prefix=unique)
    await _send(accounts, "accounts.accounts")  # not a CloudEvent: a poison record
    relay = OutboxRelay(accounts_db, accounts.producer())
    group = f"notifications-{unique}"
    consumer = event_consumer(notifications, notifications_db, group, "accounts.accounts", welcome_handlers())
    async with supervised(relay.run(), consumer.run()) as tasks:
        await until(lambda: all_published(accounts_db), tasks=tasks, what="the outbox published")
        await until(lambda: _has_notices(notifications_db, 5), tasks=tasks, what="five welcome notices")
        letters = await _dead_letters(cluster, group, tasks)
    assert await count(notifications_db, notice_count()) == 5
    assert [letter.consumer for letter in letters] == [group]
    progress = await cluster.bus("svc-statistics").positions(f"statistics-{unique}.g1", ["accounts.accounts"])
    assert sum(end for _, end in progress.values()) >= 6  # the rebuild's status reads offsets under its grant


async def _has_notices(database: Database, expected: int) -> bool:
    return await count(database, notice_count()) >= expected


async def _dead_letters(cluster: Cluster, group: str, tasks: list[asyncio.Task[object]]) -> list[dlq.DeadLetter]:
    """The group's dead letters on accounts.accounts.dlq, read by the operator (the admin)."""
    admin = cluster.bus(ADMIN)
    found: list[dlq.DeadLetter] = []

    async def arrived() -> bool:
        found[:] = [d for d in await dlq.list_dead_letters(admin, "accounts.accounts") if d.consumer == group]
        return bool(found)

    await until(arrived, tasks=tasks, what="the poison record dead-lettered")
    return found


def test_sasl_needs_a_username_and_a_password() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="svc-accounts")
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME"):
        Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_password=SecretStr("x"))
    plain = create_bus(Settings(bus="kafka"))
    assert isinstance(plain, KafkaBus) and plain.security.client_kwargs() == {}
