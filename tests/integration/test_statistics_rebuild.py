"""Statistics rebuilt from offset 0 of its topics equals the live projection, on a real Kafka broker and PostgreSQL.

The statistics service runs in-process on a database of its own and a consumer group of its own; the events are put
on the topics as their services publish them (some twice, as a redelivery would), for a project and a call of this
test's own (the broker is shared with the rest of the suite, whose events are on the same topics and are counted
too: the comparison is of the whole dashboard). An agency admin starts a rebuild: the facts are gone at once, the
new generation's group reads every topic from its first offset, and once it has read every record the dashboard,
the series and the funnels are what they were, figure for figure."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prasmes_contracts import Event, to_kafka, topic_for
from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationRejected,
    ApplicationSubmittedV2,
    GrantReserved,
    StudiesCompleted,
    StudiesDiscontinued,
    StudiesStarted,
)
from prasmes_contracts.calls import CallOpened, OfferApproved, OfferSubmitted
from prasmes_contracts.surveys import SurveyAnswered
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_statistics.app import DEFINITION
from prasmes_statistics.consumers import PROJECTION
from prasmes_testing.events import publish
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.servers import create_database
from prasmes_testing.support import eventually
from prasmes_testing.waiting import caught_up

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
NOW = datetime(2025, 9, 30, 11, 30, tzinfo=UTC)
ADMIN = ("martins", "agency_admin")


@pytest.fixture
async def statistics(
    kafka_bootstrap: str, postgres_server_url: str, tmp_path: Path, token_issuer: TokenIssuer, unique: str
) -> AsyncIterator[ServiceHarness]:
    settings = local_settings(
        DEFINITION,
        create_database(postgres_server_url, f"statistics_{unique}"),
        tmp_path,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group_suffix=f".{unique}",
    )
    async with harness(DEFINITION, settings, token_issuer, FixedClock(NOW)) as svc:
        yield svc


def _population(project: str, persons: int, seed: int) -> list[Event]:
    """A project's learners through accounts and surveys, with a call and its offers: every kind of fact."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=60)
    call = CallOpened(
        call_id=uuid.uuid4(),
        at=start,
        code=f"{project}-1",
        title={"lv": project},
        project_code=project,
        applications_open_on=date(2025, 8, 1),
        applications_close_on=date(2025, 8, 31),
        offers_open_at=start,
        offers_deadline_at=start + timedelta(days=10),
        evaluation_ends_on=date(2025, 9, 10),
        decision_on=date(2025, 9, 12),
        agreements_from=date(2025, 9, 12),
        publication_from=date(2025, 9, 12),
        delivery_ends_on=date(2026, 4, 30),
        max_programmes_per_institution=3,
        phase="applications",
    )
    events: list[Event] = [call]
    institution, programme, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for number in range(3):
        offer = {"offer_id": uuid.uuid4(), "call_id": call.call_id, "institution_id": uuid.uuid4()}
        events.append(OfferSubmitted(**offer, at=start, offer_version=1, programme_ids=[], funding_source=project))
        if number:
            events.append(OfferApproved(**offer, at=start + timedelta(days=5), programme_ids=[]))
    for index in range(persons):
        learner = f"{project}-learner-{index}"
        at = start + timedelta(days=rng.randrange(50), minutes=rng.randrange(1440))
        events.append(AccountOpened(account_id=uuid.uuid4(), learner_id=learner, opened_at=at))
        application = ApplicationSubmittedV2(
            application_id=uuid.uuid4(), learner_id=learner, project_code=project, at=at + timedelta(hours=1)
        )
        events.append(application)
        ids = {"application_id": application.application_id, "learner_id": learner, "project_code": project}
        decided = at + timedelta(days=1)
        if rng.random() < 0.1:
            events.append(ApplicationRejected(**ids, at=decided, reason_code="not_eligible"))
            continue
        if rng.random() < 0.1:
            continue  # still applied
        events.append(ApplicationApproved(**ids, at=decided, grant_amount=Decimal("500.00")))
        events.append(GrantReserved(**ids, amount=Decimal("500.00"), at=decided))
        if rng.random() < 0.3:
            continue
        study = {
            **ids,
            "enrolment_id": uuid.uuid4(),
            "programme_id": programme,
            "group_id": group,
            "institution_id": institution,
        }
        events.append(StudiesStarted(**study, started_on=decided.date() + timedelta(days=2)))
        ended = decided.date() + timedelta(days=rng.randrange(3, 9))
        if rng.random() < 0.2:
            events.append(StudiesDiscontinued(**study, discontinued_on=ended))
            continue
        events.append(StudiesCompleted(**study, completed_on=ended, hours_attended=160, result="passed"))
        if rng.random() < 0.6:
            stars = {a: rng.randint(3, 5) for a in ("knowledge_skills", "content_quality", "teacher")}
            events.append(
                SurveyAnswered(
                    programme_id=programme,
                    institution_id=institution,
                    project_code=project,
                    kind="completion",
                    questionnaire_version=1,
                    stars=stars,
                    at=datetime.combine(ended, datetime.min.time(), UTC) + timedelta(hours=12),
                )
            )
    return events


async def _redeliver(svc: ServiceHarness, events: list[Event], envelopes: list[Any]) -> None:
    producer = svc.bus.producer()
    await producer.start()
    try:
        await producer.send_many(
            [
                (topic_for(type(e)).name, to_kafka(envelope, e.partition_key()))
                for e, envelope in zip(events, envelopes, strict=True)
            ]
        )
    finally:
        await producer.stop()


async def _generation(svc: ServiceHarness) -> dict[str, Any]:
    response = await svc.client.get("/rebuilds/current", headers=svc.as_(*ADMIN))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _everything(svc: ServiceHarness, project: str) -> dict[str, Any]:
    headers = svc.as_(*ADMIN)
    dashboard = (await svc.client.get("/dashboard", headers=headers)).json()
    series = {
        figure: (await svc.client.get(f"/series/{figure}", params={"project": project})).json()
        for figure in ("applications_submitted", "granted", "started", "completed")
    }
    funnels = (await svc.client.get("/funnels")).json()
    return {"dashboard": dashboard, "series": series, "funnels": funnels}


async def test_a_rebuild_from_offset_zero_equals_the_live_projection(statistics: ServiceHarness, unique: str) -> None:
    project = f"R{unique[:6].upper()}"
    events = _population(project, persons=120, seed=13)
    envelopes = await publish(statistics.bus, *events)
    await _redeliver(statistics, events[:40], envelopes[:40])  # a second delivery of some
    group = PROJECTION.renamed(f".{unique}")
    await caught_up(statistics.bus, group.group(1), PROJECTION.topics, timeout=60)
    live = await _everything(statistics, project)
    mine = next(p for p in live["dashboard"]["projects"] if p["project_code"] == project)
    assert mine["figures"]["applicants"] == 120
    assert mine["figures"]["granted"] + mine["figures"]["rejected"] + mine["figures"]["pending"] == 120
    assert mine["figures"]["started"] > mine["figures"]["completed"] > 0
    assert mine["rounds"][f"{project}-1"]["applicants"] > 0

    started = await statistics.client.post("/rebuilds", headers=statistics.as_(*ADMIN))
    assert started.status_code == 202, started.text
    assert started.json()["generation"] == 2
    assert started.json()["requested_by"] == "admin"

    async def rebuilt() -> bool:
        found = await _generation(statistics)
        return bool(found["generation"] == 2 and found["done"] and found["total"] > 0)

    await eventually(rebuilt, timeout=120, interval=0.5)
    assert await _everything(statistics, project) == live
    # A redelivery after the rebuild changes nothing either.
    await _redeliver(statistics, events[-30:], envelopes[-30:])
    await caught_up(statistics.bus, group.group(2), PROJECTION.topics, timeout=60)
    assert await _everything(statistics, project) == live
