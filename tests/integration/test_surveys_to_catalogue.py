"""From completed studies to a public rating in the catalogue, on real PostgreSQL (a database each) and a real Kafka
broker, with the catalog and surveys services in-process (issue #11).

Catalog's programme is published as calls would publish it (CooperationAgreementSigned); accounts' StudiesCompleted
invite each learner to the completion survey; each answer is tallied in surveys, and from the tenth on surveys'
ProgrammeRatingChanged shows the rating in catalog's public catalogue, following every new answer. Catalog's
ProviderUserAdded lets the institution's user read its results in surveys. The answers and the ratings on the bus
name no learner."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from catalog.app import DEFINITION as CATALOG
from prasmes_contracts import from_kafka
from prasmes_contracts.accounts import StudiesCompleted
from prasmes_contracts.calls import CooperationAgreementSigned
from prasmes_contracts.surveys import ProgrammeRatingChanged, SurveyAnswered
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.messaging import outbox
from prasmes_testing.events import publish
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.servers import create_database
from prasmes_testing.support import eventually
from surveys.app import DEFINITION as SURVEYS

from tests.integration.catalogue_support import LIGA, institution_with_a_programme, ok

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ASPECTS = ("knowledge_skills", "content_quality", "teacher", "learning_process")
STARS = [  # one row per learner: knowledge_skills, content_quality, teacher, learning_process
    (5, 4, 5, 4),
    (4, 4, 5, 3),
    (5, 3, 4, 5),
    (3, 5, 5, 4),
    (4, 4, 5, 4),
    (5, 4, 4, 5),
    (4, 3, 5, 3),
    (5, 5, 4, 4),
    (4, 4, 4, 5),
    (4, 4, 5, 4),
    (1, 2, 3, 1),  # the eleventh
]
"""Ten answers whose aspect means are 4.3, 4.0, 4.6 and 4.1: their mean is exactly 4.25, which is 4.3 rounded half
up (4.2 half to even); the eleventh moves every figure."""
LEARNERS = [f"learner-{i}" for i in range(len(STARS))]
OTHER_PROVIDER = ("olga", "provider_admin")
"""A provider user of no institution (catalog never added her to one)."""


def one_decimal(x: Fraction) -> Decimal:
    """Rounded half up to one decimal, exactly (the figures are never negative)."""
    assert x >= 0
    return (Decimal(int(x * 10 + Fraction(1, 2))) / 10).quantize(Decimal("0.1"))


def expected_rating(rows: list[tuple[int, ...]]) -> dict[str, Any]:
    """The public rating of these answers: each aspect's mean, and the mean of the aspects' exact means."""
    exact = {a: Fraction(sum(r[i] for r in rows), len(rows)) for i, a in enumerate(ASPECTS)}
    return {
        "raters": len(rows),
        "shown": True,
        "averages": {a: one_decimal(m) for a, m in exact.items()},
        "overall": one_decimal(sum(exact.values(), Fraction(0)) / len(exact)),
    }


def as_decimals(rating: dict[str, Any]) -> dict[str, Any]:
    averages = rating["averages"]
    return {
        "raters": rating["raters"],
        "shown": rating["shown"],
        "averages": None if averages is None else {a: Decimal(v) for a, v in averages.items()},
        "overall": None if rating["overall"] is None else Decimal(rating["overall"]),
    }


def answers(i: int) -> dict[str, Any]:
    """Learner i's completion survey, every question answered (the free text by some)."""
    given: dict[str, Any] = dict(zip(ASPECTS, STARS[i], strict=True))
    given |= {
        "description_matched": i % 4 != 3,
        "prior_knowledge_right": True,
        "equipment_right": i % 3 != 2,
        "digcomp_after": 3 + i % 5,
    }
    if i % 2:
        given["improvement"] = f"Vairāk praktisko darbu, lūdzu ({i})."
    return given


@dataclass
class Platform:
    catalog: ServiceHarness
    surveys: ServiceHarness


@pytest.fixture
async def platform(
    kafka_bootstrap: str, postgres_server_url: str, tmp_path: Path, token_issuer: TokenIssuer, unique: str
) -> AsyncIterator[Platform]:
    kafka = {
        "bus": "kafka",
        "kafka_bootstrap_servers": kafka_bootstrap,
        "consumer_group_suffix": f".{unique}",
        "relay_poll_interval": 0.1,
    }
    catalog_db = create_database(postgres_server_url, f"catalog_{unique}")
    surveys_db = create_database(postgres_server_url, f"surveys_{unique}")
    async with AsyncExitStack() as stack:
        catalog = await stack.enter_async_context(
            harness(
                CATALOG,
                local_settings(CATALOG, catalog_db, tmp_path / "catalog", **kafka),
                token_issuer,
                FixedClock(NOW),
            )
        )
        surveys = await stack.enter_async_context(
            harness(
                SURVEYS,
                local_settings(SURVEYS, surveys_db, tmp_path / "surveys", **kafka),
                token_issuer,
                FixedClock(NOW),
            )
        )
        yield Platform(catalog, surveys)


async def _published(p: Platform, institution_id: str, programme_id: str) -> None:
    """Calls' agreement, signed: catalog publishes the programme (catalog consumes it; surveys does not)."""
    signed = CooperationAgreementSigned(
        offer_id=uuid.uuid4(),
        call_id=uuid.uuid4(),
        institution_id=uuid.UUID(institution_id),
        programme_ids=[uuid.UUID(programme_id)],
        at=NOW,
        valid_until=date(2026, 12, 31),
    )
    await p.catalog.deliver(signed, timeout=60)

    async def public() -> bool:
        return (await p.catalog.client.get(f"/public/programmes/{programme_id}")).status_code == 200

    await eventually(public, timeout=30)


async def _completed(p: Platform, learners: list[str], institution_id: str, programme_id: str) -> dict[str, str]:
    """Accounts' StudiesCompleted of one enrolment each in one group: each learner's survey id, once they see it."""
    group_id = uuid.uuid5(uuid.UUID(programme_id), "group-1")
    events = [
        StudiesCompleted(
            enrolment_id=uuid.uuid4(),
            application_id=uuid.uuid4(),
            learner_id=learner,
            project_code="IMK",
            programme_id=uuid.UUID(programme_id),
            group_id=group_id,
            institution_id=uuid.UUID(institution_id),
            completed_on=date(2026, 5, 29),
            hours_attended=160,
            result="passed",
        )
        for learner in learners
    ]
    await publish(p.surveys.bus, *events)  # catalog consumes them as well: no harness waits for one of the two
    surveys: dict[str, str] = {}

    async def invited() -> bool:
        for learner in learners:
            if learner in surveys:
                continue
            page = await ok(p.surveys, "GET", "/surveys/mine", (learner, "learner"))
            mine = [s for s in page["items"] if s["programme_id"] == programme_id and s["kind"] == "completion"]
            if not mine:
                return False
            assert len(mine) == 1 and mine[0]["status"] == "open", mine
            surveys[learner] = mine[0]["id"]
        return True

    await eventually(invited, timeout=60)
    return surveys


async def _answer(p: Platform, learner: str, survey_id: str, i: int) -> None:
    submitted = await ok(
        p.surveys, "POST", f"/surveys/{survey_id}/submission", (learner, "learner"), json={"answers": answers(i)}
    )
    assert submitted["status"] == "submitted" and submitted["answers"] == answers(i)


async def _rating(p: Platform, programme_id: str) -> dict[str, Any]:
    response = await p.catalog.client.get(f"/public/programmes/{programme_id}")
    assert response.status_code == 200, response.text
    rating: dict[str, Any] = response.json()["rating"]
    return rating


async def _rating_becomes(p: Platform, programme_id: str, expected: dict[str, Any]) -> None:
    seen: list[dict[str, Any]] = []

    async def reached() -> bool:
        seen.append(as_decimals(await _rating(p, programme_id)))
        return seen[-1] == expected

    try:
        await eventually(reached, timeout=60)
    except AssertionError:
        raise AssertionError(f"the public rating stayed {seen[-1]}, not {expected}") from None


async def _ratings_recorded(p: Platform) -> int:
    query = (
        sa.select(sa.func.count()).select_from(outbox).where(outbox.c.event_type == ProgrammeRatingChanged.event_type())
    )
    async with p.surveys.database.session() as session:
        return int(await session.scalar(query) or 0)


async def _on_topic(p: Platform, topic: str, programme_id: str) -> list[tuple[dict[str, Any], bytes]]:
    """The programme's events on a topic: their data, and every byte of the record (key, value, headers)."""
    found = []
    for delivered in await p.surveys.bus.read_all(topic):
        envelope = from_kafka(delivered.record)
        if envelope.data.get("programme_id") == programme_id:
            record = delivered.record
            raw = b"".join([record.key or b"", record.value or b"", *(v or b"" for _, v in record.headers)])
            found.append((envelope.data, raw))
    return found


async def test_the_tenth_answer_makes_the_rating_public_and_every_answer_after_moves_it(platform: Platform) -> None:
    p = platform
    institution_id, programme = await institution_with_a_programme(p.catalog)
    programme_id = programme["id"]
    await _published(p, institution_id, programme_id)
    assert (await _rating(p, programme_id)) == {"raters": 0, "shown": False, "averages": None, "overall": None}

    surveys = await _completed(p, LEARNERS[:10], institution_id, programme_id)
    for i, learner in enumerate(LEARNERS[:9]):
        await _answer(p, learner, surveys[learner], i)
    # Each answer is tallied in its own transaction: after the ninth, surveys has recorded no rating to publish.
    assert await _ratings_recorded(p) == 0
    after_nine = await _rating(p, programme_id)
    assert after_nine["shown"] is False and after_nine["averages"] is None and after_nine["overall"] is None

    await _answer(p, LEARNERS[9], surveys[LEARNERS[9]], 9)
    ten = expected_rating(STARS[:10])
    assert ten["averages"] == {a: Decimal(x) for a, x in zip(ASPECTS, ("4.3", "4.0", "4.6", "4.1"), strict=True)}
    assert ten["overall"] == Decimal("4.3")  # 4.25, half up
    await _rating_becomes(p, programme_id, ten)

    (eleventh,) = LEARNERS[10:]
    surveys |= await _completed(p, [eleventh], institution_id, programme_id)
    await _answer(p, eleventh, surveys[eleventh], 10)
    eleven = expected_rating(STARS)
    assert eleven["overall"] == Decimal("4.0") and eleven["averages"] != ten["averages"]
    await _rating_becomes(p, programme_id, eleven)
    assert await _ratings_recorded(p) == 2  # the tenth answer and the eleventh

    # Catalog's ProviderUserAdded (Līga registered the institution) reached surveys: she reads its results.
    results_path = f"/survey-results/institutions/{institution_id}"

    async def liga_reads() -> bool:
        response = await p.surveys.client.get(results_path, headers=p.surveys.as_(*LIGA))
        return response.status_code == 200

    await eventually(liga_reads, timeout=60)
    results = await ok(p.surveys, "GET", results_path, LIGA)
    assert results["answered"]["completion"] == 11 and results["invited"]["completion"] == 11
    assert Decimal(results["completion"]["mean"]) == eleven["overall"]
    refused = await p.surveys.client.get(results_path, headers=p.surveys.as_(*OTHER_PROVIDER))
    assert refused.status_code == 403, refused.text

    # On the bus, the answers and the ratings name no learner, and carry no free text.
    async def all_relayed() -> bool:
        on_answers = await _on_topic(p, "surveys.answers", programme_id)
        on_ratings = await _on_topic(p, "surveys.ratings", programme_id)
        return len(on_answers) == 11 and len(on_ratings) == 2

    await eventually(all_relayed, timeout=60)
    on_answers = await _on_topic(p, "surveys.answers", programme_id)
    on_ratings = await _on_topic(p, "surveys.ratings", programme_id)
    assert sorted(tuple(d["stars"][a] for a in ASPECTS) for d, _ in on_answers) == sorted(STARS)
    assert [(d["raters"], Decimal(d["mean"]), d["public"]) for d, _ in on_ratings] == [
        (10, ten["overall"], True),
        (11, eleven["overall"], True),
    ]
    for data, raw in on_answers + on_ratings:
        assert b"learner" not in raw and b"praktisko" not in raw, data
        assert not {"learner_id", "survey_id", "enrolment_id", "improvement"} & data.keys(), data
    answered_rows = sa.select(outbox.c.data).where(
        outbox.c.event_type.in_([SurveyAnswered.event_type(), ProgrammeRatingChanged.event_type()])
    )
    async with p.surveys.database.session() as session:
        rows = list(await session.scalars(answered_rows))
    assert len(rows) == 13 and not [r for r in rows if "learner" in r]
