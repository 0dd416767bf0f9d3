"""The catalog on real PostgreSQL and a real Kafka broker: programmes published and withdrawn by calls'
agreement events, free places counted from accounts' enrolments, each event taking effect once.

The calls and accounts services do not publish these events yet, so the test puts them on their topics
exactly as those services will (CloudEvents in Kafka binary mode, keyed by aggregate id).
"""

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from catalog.app import CatalogSettings, create_app
from prasmes_contracts import CloudEvent, Event, from_kafka, to_kafka, topic_for
from prasmes_contracts.accounts import EnrolmentConfirmed
from prasmes_contracts.calls import CooperationAgreementEnded, CooperationAgreementSigned
from prasmes_runtime.auth import TokenVerifier
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import inbox, outbox
from prasmes_runtime.service import ServiceRuntime
from prasmes_testing import samples
from prasmes_testing.harness import running
from prasmes_testing.support import eventually
from prasmes_testing.waiting import assert_alive, assert_ended_cleanly, caught_up

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
API = ""
Bearer = Callable[..., dict[str, str]]


class Stage:
    def __init__(self, client: httpx.AsyncClient, bus: KafkaBus, runtime: ServiceRuntime, bearer: Bearer) -> None:
        self.client, self.bus, self.runtime, self.bearer = client, bus, runtime, bearer
        self.database: Database = runtime.database

    async def all_consumed(self) -> None:
        """Every record on the topics catalog consumes is committed by its group (and its tasks still run):
        whatever the repeated deliveries were going to do, they have done."""
        for consumer in self.runtime.consumers:
            await caught_up(self.bus, consumer.spec.name, consumer.spec.topics, tasks=self.runtime.tasks)

    async def send(self, *events: Event, envelope: CloudEvent | None = None) -> list[CloudEvent]:
        producer = self.bus.producer()
        sent = []
        try:
            items = []
            for event in events:
                env = envelope or CloudEvent(
                    source="/test", type=event.event_type(), data=event.model_dump(mode="json")
                )
                sent.append(env)
                items.append((topic_for(type(event)).name, to_kafka(env, event.partition_key())))
            await producer.send_many(items)
        finally:
            await producer.stop()
        return sent

    async def call(self, method: str, path: str, who: str = "liga", role: str = "provider_admin", **kw: Any) -> Any:
        response = await self.client.request(method, API + path, headers=self.bearer(who, role), **kw)
        assert response.is_success, response.text
        return response.json()

    async def published_programme(self) -> tuple[str, str, str]:
        """An approved institution with a location and a draft programme: (institution, location, programme)."""
        statement = await self.call(
            "POST",
            "/documents",
            params={"purpose": "statement", "filename": "a.edoc"},
            content=samples.asice_container(),
        )
        institution = await self.call("POST", "/providers", json=samples.registration_payload(statement["id"]))
        await self.call("POST", f"/providers/{institution['id']}/approve", who="ilze", role="agency_officer")
        location = await self.call(
            "POST", f"/providers/{institution['id']}/locations", json={"address": "Brīvības iela 100, Rīga, LV-1001"}
        )
        curriculum = await self.call(
            "POST", "/documents", params={"purpose": "curriculum", "filename": "p.pdf"}, content=samples.plain_pdf()
        )
        payload = samples.programme_payload([location["id"]], curriculum["id"])
        programme = await self.call("POST", f"/providers/{institution['id']}/programmes", json=payload)
        return institution["id"], location["id"], programme["id"]

    async def public_status(self, programme_id: str) -> int:
        return (await self.client.get(f"{API}/public/programmes/{programme_id}")).status_code

    async def outbox_count(self, event_type: str) -> int:
        query = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.event_type == event_type)
        async with self.database.session() as session:
            return int(await session.scalar(query) or 0)


@pytest.fixture
async def stage(
    kafka_bootstrap: str,
    postgres_url: str,
    tmp_path: Path,
    token_verifier: TokenVerifier,
    bearer: Bearer,
    unique: str,
) -> AsyncIterator[Stage]:
    settings = CatalogSettings(
        database_url=postgres_url,
        var_dir=tmp_path,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        relay_poll_interval=0.1,
        consumer_group_suffix=f".{unique}",  # a group of its own: other tests on the broker read the same topics
    )
    app = create_app(settings, FixedClock(NOW))
    runtime: ServiceRuntime = app.state.runtime
    async with running(app, token_verifier) as client:
        yield Stage(client, KafkaBus(kafka_bootstrap, partitions=3), runtime, bearer)
        assert_alive(runtime.tasks)  # no consumer, relay or job died during the test
    assert_ended_cleanly(runtime.tasks)  # and the shutdown cancelled each of them


async def test_an_agreement_publishes_its_programmes_and_its_end_withdraws_them(stage: Stage) -> None:
    institution_id, _, programme_id = await stage.published_programme()
    offer, call = uuid.uuid4(), uuid.uuid4()
    ids = {"offer_id": offer, "call_id": call, "institution_id": uuid.UUID(institution_id)}
    signed = CooperationAgreementSigned(
        **ids, programme_ids=[uuid.UUID(programme_id)], at=NOW, valid_until=date(2026, 4, 30)
    )
    (envelope,) = await stage.send(signed)

    async def public() -> bool:
        return await stage.public_status(programme_id) == 200

    await eventually(public, timeout=60)
    await stage.send(signed, envelope=envelope)  # redelivered: the inbox skips it
    await stage.send(signed)  # the same agreement again under a new event id: nothing new to publish
    published_type = "lv.prasmes.catalog.ProgrammePublished.v1"

    async def on_the_topic() -> bool:
        records = await stage.bus.read_all("catalog.programmes")
        return any(
            (e := from_kafka(r.record)).type == published_type and e.data["programme_id"] == programme_id
            for r in records
        )

    await eventually(on_the_topic, timeout=60)
    await stage.all_consumed()  # the repeated deliveries were consumed: they had their chance to take effect
    assert await stage.outbox_count(published_type) == 1

    await stage.send(CooperationAgreementEnded(**ids, programme_ids=[uuid.UUID(programme_id)], at=NOW))

    async def withdrawn() -> bool:
        return await stage.public_status(programme_id) == 404

    await eventually(withdrawn, timeout=60)
    mine = await stage.call("GET", f"/providers/{institution_id}/programmes/{programme_id}")
    assert mine["status"] == "withdrawn"
    assert await stage.outbox_count("lv.prasmes.catalog.ProgrammeWithdrawn.v1") == 1


async def test_free_places_follow_enrolments_exactly_once(stage: Stage) -> None:
    institution_id, location_id, programme_id = await stage.published_programme()
    await stage.send(
        CooperationAgreementSigned(
            offer_id=uuid.uuid4(),
            call_id=uuid.uuid4(),
            institution_id=uuid.UUID(institution_id),
            programme_ids=[uuid.UUID(programme_id)],
            at=NOW,
            valid_until=date(2026, 6, 30),
        )
    )

    async def public() -> bool:
        return await stage.public_status(programme_id) == 200

    await eventually(public, timeout=60)
    group = await stage.call(
        "POST",
        f"/providers/{institution_id}/programmes/{programme_id}/groups",
        json={
            "location_id": location_id,
            "start_date": "2026-03-16",
            "end_date": "2026-05-29",
            "schedule": "Pirmdienās 18:00-21:00",
            "capacity": 12,
            "language": "lv",
            "entry_level": 3,
        },
    )
    enrolments = [
        EnrolmentConfirmed(
            enrolment_id=uuid.uuid4(),
            application_id=uuid.uuid4(),
            learner_id=f"learner-{i}",
            project_code="IMK",
            programme_id=uuid.UUID(programme_id),
            group_id=uuid.UUID(group["id"]),
            institution_id=uuid.UUID(institution_id),
            at=NOW,
        )
        for i in range(10)
    ]
    envelopes = await stage.send(*enrolments)  # ten keys over three partitions
    await stage.send(enrolments[0], envelope=envelopes[0])  # a redelivery of the same event
    (again,) = await stage.send(enrolments[1])  # the same enrolment as a new event: still one place

    async def counted() -> bool:
        page = (await stage.client.get(f"{API}/public/programmes/{programme_id}")).json()
        return bool(page["groups"] and page["groups"][0]["free_places"] == 2)

    await eventually(counted, timeout=60)
    await stage.all_consumed()
    assert await counted(), "still two free places once every delivery was consumed"
    detail = await stage.call("GET", f"/providers/{institution_id}/groups/{group['id']}")
    assert (detail["enrolled"], detail["free_places"], len(detail["learners"])) == (10, 2, 10)
    # Only this test's events: other tests on the same broker put enrolments on the topic too.
    sent = [e.id for e in envelopes] + [again.id]
    query = sa.select(sa.func.count()).select_from(inbox).where(inbox.c.event_id.in_(sent))
    async with stage.database.session() as session:
        assert await session.scalar(query) == 11  # the redelivery never reached the inbox twice
