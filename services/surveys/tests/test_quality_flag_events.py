"""The agency's quality flags as events on the internal `surveys.quality`, in the counting's own transaction: raised
once when a programme's figure crosses a rule, cleared once when it is back within it; a delivery again counts and
raises nothing more. The rules are judged from 4 people here (`few`)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from prasmes_contracts import to_kafka, topic_for
from prasmes_contracts.accounts import StudiesDiscontinued
from prasmes_contracts.surveys import QualityFlagCleared, QualityFlagRaised
from prasmes_testing.waiting import caught_up
from surveys.db import results as tallies_db
from surveys.domain.questionnaires import ASPECTS
from surveys.domain.results import Flag

from .conftest import NOW, World
from .test_results_api import INSTITUTION, PLACE, PROGRAMME, _agency, _answered
from .test_surveys_api import COMPLETE, _outbox

MATCHED = COMPLETE | {"description_matched": True}
LOW = MATCHED | dict.fromkeys(ASPECTS, 3)
HIGH = MATCHED | dict.fromkeys(ASPECTS, 5)


async def _flags(world: World) -> list[tuple[str, dict[str, Any]]]:
    """The flag events in the outbox, in order: (event name, data)."""
    found = [(t, topic, data) for t, topic, data in await _outbox(world) if "QualityFlag" in t]
    assert {topic for _, topic, _ in found} <= {"surveys.quality"}
    return [(t.split(".")[-2], data) for t, _, data in found]


def _figures(data: dict[str, Any]) -> tuple[str, str, str, int]:
    assert data["programme_id"] == str(PROGRAMME) and data["institution_id"] == str(INSTITUTION)
    return data["reason"], data["value"], data["threshold"], data["over"]


async def _listed(world: World) -> dict[str, dict[str, Any]]:
    flagged = (await world.client.get("/survey-results/quality-flags", headers=_agency(world))).json()
    return {f["reason"]: f for p in flagged if p["programme_id"] == str(PROGRAMME) for f in p["flags"]}


async def test_a_low_rating_raises_one_flag_and_a_rating_back_within_the_rule_clears_it(few: World) -> None:
    for i in range(3):
        await _answered(few, f"l{i}", LOW)
    assert await _flags(few) == []  # 3 raters: not judged yet
    await _answered(few, "l3", LOW)
    await _answered(few, "l4", LOW)  # still low: no second flag
    ((name, raised),) = await _flags(few)
    assert name == "QualityFlagRaised" and _figures(raised) == ("low_rating", "3.0", "4.0", 4)
    assert raised["at"].startswith(NOW.date().isoformat())
    assert set(await _listed(few)) == {"low_rating"}
    for i in range(4):
        await _answered(few, f"h{i}", HIGH)
    assert len(await _flags(few)) == 1  # (15 + 20) / 9 = 3.9: still below
    await _answered(few, "h4", HIGH)  # (15 + 25) / 10 = 4.0: no longer below
    await _answered(few, "h5", HIGH)
    assert [(n, _figures(d)) for n, d in await _flags(few)] == [
        ("QualityFlagRaised", ("low_rating", "3.0", "4.0", 4)),
        ("QualityFlagCleared", ("low_rating", "4.0", "4.0", 10)),
    ]
    assert await _listed(few) == {}
    async with few.svc.database.session() as session:
        assert await tallies_db.standing_flags(session, PROGRAMME) == []


def _discontinued(learner: str) -> StudiesDiscontinued:
    return StudiesDiscontinued(
        enrolment_id=uuid.uuid4(),
        application_id=uuid.uuid4(),
        learner_id=learner,
        project_code="IMK",
        discontinued_on=date(2026, 4, 1),
        **PLACE,
    )


async def test_discontinued_studies_raise_a_high_dropout_flag_once_however_often_delivered(few: World) -> None:
    await _answered(few, "c0", MATCHED)
    for i in range(2):
        await _answered(few, f"d{i}", {"reasons": ["time"]}, "discontinued")
    assert await _flags(few) == []  # 2 of 3 who ended: under 4 people, not judged
    event = _discontinued("d2")
    (envelope,) = await few.svc.deliver(event)  # 3 of 4: raised by the invitation
    await few.svc.deliver(event)  # accounts' event published again: the enrolment has its survey
    producer = few.svc.bus.producer()
    await producer.start()
    try:  # the same envelope again (at least once): the inbox knows it
        await producer.send_many([(topic_for(StudiesDiscontinued).name, to_kafka(envelope, event.partition_key()))])
    finally:
        await producer.stop()
    await caught_up(few.svc.bus, "surveys", [topic_for(StudiesDiscontinued).name], timeout=20)
    await _answered(few, "d3", {"reasons": ["personal"]}, "discontinued")  # 4 of 5: still above
    ((name, raised),) = await _flags(few)
    assert name == "QualityFlagRaised" and _figures(raised) == ("high_dropout", "75.0", "25", 4)
    listed = (await few.client.get("/survey-results/quality-flags", headers=_agency(few))).json()
    assert [p["dropout_rate"] for p in listed] == ["80.0"] and set(await _listed(few)) == {"high_dropout"}


async def test_a_flag_is_raised_and_cleared_by_one_transaction_only(world: World) -> None:
    """What two countings at the same moment rely on: the second to raise (or clear) a flag changes no row."""
    flag = Flag("high_dropout", Decimal("30.0"), Decimal(25), 12)
    done = []
    for _ in range(2):
        async with world.svc.database.transaction() as session:
            done.append(await tallies_db.raise_flag(session, PROGRAMME, INSTITUTION, flag, NOW))
    for _ in range(2):
        async with world.svc.database.transaction() as session:
            done.append(await tallies_db.clear_flag(session, PROGRAMME, "high_dropout"))
    assert done == [True, False, True, False]


def test_the_flag_events_are_on_the_internal_quality_topic() -> None:
    topic = topic_for(QualityFlagRaised)
    assert topic is topic_for(QualityFlagCleared) and topic.name == "surveys.quality" and not topic.partner_readable
