"""The Kafka backend (aiokafka): idempotent producer with acks=all, manual offset commits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from aiokafka.structs import OffsetAndMetadata
from prasmes_contracts import KafkaRecord
from pydantic import SecretStr

from prasmes_runtime.bus.port import BusUnavailable, Delivered
from prasmes_runtime.settings import KAFKA_FETCH_MAX_WAIT_MS, KAFKA_FETCH_MIN_BYTES

if TYPE_CHECKING:
    from prasmes_runtime.settings import Settings


@dataclass(frozen=True)
class KafkaSecurity:
    """How every client of this backend signs in to the brokers: the one place that turns the settings into
    aiokafka's keyword arguments. The default, PLAINTEXT, adds none."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: SecretStr | None = field(default=None, repr=False)
    cafile: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaSecurity:
        return cls(
            protocol=settings.kafka_security_protocol,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            cafile=settings.kafka_ssl_cafile,
        )

    def client_kwargs(self) -> dict[str, Any]:
        """For AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient alike."""
        if self.protocol == "PLAINTEXT":
            return {}
        kwargs: dict[str, Any] = {
            "security_protocol": self.protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password.get_secret_value() if self.password is not None else "",
        }
        if self.protocol == "SASL_SSL":
            kwargs["ssl_context"] = create_ssl_context(cafile=str(self.cafile) if self.cafile else None)
        return kwargs


PLAINTEXT = KafkaSecurity()


class KafkaProducer:
    def __init__(self, bootstrap: str, request_timeout_ms: int = 10_000, security: KafkaSecurity = PLAINTEXT) -> None:
        self._bootstrap = bootstrap
        self._timeout_ms = request_timeout_ms
        self._security = security
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            enable_idempotence=True,  # implies acks=all
            acks="all",
            linger_ms=2,
            request_timeout_ms=self._timeout_ms,
            client_id="prasmes-relay",
            **self._security.client_kwargs(),
        )
        try:
            await producer.start()
        except KafkaError as exc:
            await producer.stop()
            raise BusUnavailable(f"Kafka producer could not start: {exc}") from exc
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        try:
            # Queue in order, then wait for every ack: the producer keeps the order per partition.
            acks = [
                await self._producer.send(topic, record.value, key=record.key, headers=record.headers)
                for topic, record in items
            ]
            await asyncio.gather(*acks)
        except KafkaError as exc:
            # A producer that lost acks may hold stale sequence numbers: start afresh next time.
            await self.stop()
            raise BusUnavailable(f"Kafka did not acknowledge: {exc}") from exc


@dataclass(frozen=True)
class Fetching:
    """How long the broker may hold a consumer's fetch to fill it (the settings' `kafka_fetch_*`)."""

    min_bytes: int = KAFKA_FETCH_MIN_BYTES
    max_wait_ms: int = KAFKA_FETCH_MAX_WAIT_MS


class KafkaSubscription:
    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        security: KafkaSecurity = PLAINTEXT,
        fetching: Fetching = Fetching(),
    ) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"prasmes-{group}",
            metadata_max_age_ms=5_000,
            fetch_min_bytes=fetching.min_bytes,
            fetch_max_wait_ms=fetching.max_wait_ms,
            **security.client_kwargs(),
        )
        self._committed: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            await self._consumer.stop()
            raise BusUnavailable(f"Kafka consumer could not start: {exc}") from exc

    async def stop(self) -> None:
        await self._consumer.stop()

    async def poll(self, timeout: float, max_records: int) -> list[Delivered]:
        batches = await self._consumer.getmany(timeout_ms=int(timeout * 1000), max_records=max_records)
        return [
            Delivered(
                topic=tp.topic,
                partition=tp.partition,
                offset=message.offset,
                record=KafkaRecord(key=message.key, value=message.value, headers=list(message.headers)),
            )
            for tp, messages in batches.items()
            for message in messages
        ]

    async def commit(self, delivered: Sequence[Delivered]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for item in delivered:
            tp = TopicPartition(item.topic, item.partition)
            offsets[tp] = max(offsets.get(tp, 0), item.offset + 1)
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
            self._committed.update(offsets)
        except (CommitFailedError, IllegalStateError):
            # The partitions moved to another member in a rebalance (IllegalStateError: this member already knows
            # it); it will see these records again and the inbox makes the second delivery a no-op.
            return

    async def lag(self) -> dict[tuple[str, int], int]:
        result: dict[tuple[str, int], int] = {}
        for tp in self._consumer.assignment():
            if tp not in self._consumer.assignment():  # revoked by a rebalance while an earlier one was awaited
                continue
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            done = self._committed.get(tp)
            if done is None:
                try:
                    done = await self._consumer.position(tp)
                except IllegalStateError:
                    continue
            result[(tp.topic, tp.partition)] = max(highwater - done, 0)
        return result


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    cluster = await consumer._client.fetch_all_metadata()
    return [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]


def _offset(committed: OffsetAndMetadata | None) -> int:
    return max(committed.offset, 0) if committed is not None else 0


class KafkaBus:
    name = "kafka"

    def __init__(
        self,
        bootstrap: str,
        partitions: int = 3,
        retention_ms: int = -1,
        security: KafkaSecurity = PLAINTEXT,
        fetching: Fetching = Fetching(),
    ) -> None:
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.retention_ms = retention_ms
        self.security = security
        self.fetching = fetching

    def producer(self) -> KafkaProducer:
        return KafkaProducer(self.bootstrap, security=self.security)

    def subscription(self, group: str, topics: Sequence[str]) -> KafkaSubscription:
        return KafkaSubscription(self.bootstrap, group, topics, self.security, self.fetching)

    def _admin(self, request_timeout_ms: int = 10_000) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap, request_timeout_ms=request_timeout_ms, **self.security.client_kwargs()
        )

    def _consumer(self, group: str | None = None) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=group, enable_auto_commit=False, **self.security.client_kwargs()
        )

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        admin = self._admin()
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in dict.fromkeys(topics) if t not in existing]
            if missing:
                configs = {"retention.ms": str(self.retention_ms)}
                new = [
                    NewTopic(t, num_partitions=self.partitions, replication_factor=1, topic_configs=configs)
                    for t in missing
                ]
                await admin.create_topics(new)
        except TopicAlreadyExistsError:
            pass  # another process created it first
        except KafkaError as exc:
            raise BusUnavailable(f"could not create topics: {exc}") from exc
        finally:
            await admin.close()

    async def read_all(self, topic: str) -> list[Delivered]:
        consumer = self._consumer()
        await consumer.start()
        try:
            tps = await _partitions(consumer, topic)
            if not tps:
                return []
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            result: list[Delivered] = []
            for tp in tps:
                while await consumer.position(tp) < ends[tp]:
                    for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                        record = KafkaRecord(message.key, message.value, list(message.headers))
                        result.append(Delivered(topic, tp.partition, message.offset, record))
            return result
        finally:
            await consumer.stop()

    async def rewind(self, group: str, topic: str) -> None:
        consumer = self._consumer(group)
        await consumer.start()
        try:
            tps = await _partitions(consumer, topic)
            consumer.assign(tps)
            starts = await consumer.beginning_offsets(tps)
            if starts:
                await consumer.commit(starts)
        finally:
            await consumer.stop()

    async def positions(self, group: str, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]]:
        consumer = self._consumer()
        admin = self._admin()
        try:
            await consumer.start()
            await admin.start()
            tps = [tp for topic in topics for tp in await _partitions(consumer, topic)]
            ends = await consumer.end_offsets(tps) if tps else {}
            committed = await admin.list_consumer_group_offsets(group, partitions=tps) if tps else {}
        except KafkaError as exc:
            raise BusUnavailable(f"could not read the offsets: {exc}") from exc
        finally:
            await admin.close()
            await consumer.stop()
        return {(tp.topic, tp.partition): (_offset(committed.get(tp)), ends[tp]) for tp in tps}

    async def ping(self) -> None:
        admin = self._admin(request_timeout_ms=3_000)
        try:
            await admin.start()
            await admin.list_topics()
        except KafkaError as exc:
            raise BusUnavailable(str(exc)) from exc
        finally:
            await admin.close()
