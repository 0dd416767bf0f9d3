"""The projection's rules through the API on both databases: distinct persons, as-of instants, each figure's
definition, rounds, calls, surveys, a second delivery, and who may read what."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from prasmes_contracts.accounts import ApplicationLapsed, ApplicationWithdrawn, GrantReleased, GrantReserved, GrantSpent
from prasmes_contracts.calls import CallOpened, CallPhaseChanged, OfferApproved, OfferSubmitted, OfferWithdrawn
from prasmes_contracts.surveys import SurveyAnswered
from prasmes_statistics.db.tables import metadata
from prasmes_testing.events import publish

from .conftest import DAY, NOW, Enrolment, Learner, World, approved, opened, rejected, submitted

T0 = NOW - timedelta(days=30)


async def test_persons_are_counted_once_and_applications_each(world: World) -> None:
    ilze, juris = Learner(), Learner()
    first = submitted(ilze, "4242", T0)
    again = submitted(ilze, "4242", T0 + DAY)
    other = submitted(juris, "4242", T0 + DAY)
    await world.deliver(
        opened(ilze, T0),
        opened(juris, T0),
        first,
        rejected(first, T0 + timedelta(hours=2)),
        again,
        other,
        approved(again, T0 + 2 * DAY),
    )
    project = await world.project("4242")
    figures = project["figures"]
    # Two persons applied with three applications: one rejected, one granted, one still applied.
    assert figures["applicants"] == 2
    assert figures["applications_submitted"] == 3
    assert (figures["granted"], figures["rejected"], figures["pending"]) == (1, 1, 1)
    dashboard = await world.dashboard()
    assert dashboard["accounts_opened"] == 2
    assert dashboard["applications_total"] == 2


async def test_figures_are_as_of_an_instant(world: World) -> None:
    ilze = Learner()
    application = submitted(ilze, "IMK", T0)
    enrolment = Enrolment(application)
    await world.deliver(
        opened(ilze, T0 - DAY),
        application,
        approved(application, T0 + DAY),
        enrolment.confirmed(T0 + 2 * DAY),
        enrolment.started(date(2025, 9, 10)),
        enrolment.completed(date(2025, 9, 25)),
    )
    before = (await world.project("IMK", T0 + timedelta(hours=1)))["figures"]
    assert (before["applications_submitted"], before["granted"], before["pending"]) == (1, 0, 1)
    assert before.get("started", 0) == 0
    # A study record counts from its day in Riga: 10 September 2025 begins at 21:00 UTC on the 9th.
    started_day = datetime.fromisoformat("2025-09-09T21:00:00+00:00")
    assert (await world.project("IMK", started_day - timedelta(seconds=1)))["figures"]["started"] == 0
    assert (await world.project("IMK", started_day))["figures"]["started"] == 1
    now = (await world.project("IMK"))["figures"]
    assert (now["granted"], now["pending"], now["started"], now["completed"]) == (1, 0, 1, 1)


async def test_a_second_delivery_changes_nothing(world: World) -> None:
    ilze = Learner()
    application = submitted(ilze, "IMK", T0)
    reserved = GrantReserved(
        application_id=application.application_id,
        learner_id=ilze.learner_id,
        project_code="IMK",
        amount=Decimal("500.00"),
        at=T0 + DAY,
    )
    events = [opened(ilze, T0), application, approved(application, T0 + DAY), reserved]
    envelopes = await publish(world.svc.bus, *events)
    await world.caught_up()
    first = await world.dashboard()
    # The same envelopes again (a redelivery), in one batch and then one by one.
    await _republish(world, envelopes, events)
    await world.caught_up()
    assert await world.dashboard() == first
    assert first["projects"][0]["figures"]["reserved"] == "500.00"


async def _republish(world: World, envelopes: list[Any], events: list[Any]) -> None:
    from prasmes_contracts import to_kafka, topic_for

    producer = world.svc.bus.producer()
    await producer.start()
    try:
        records = [
            (topic_for(type(e)).name, to_kafka(envelope, e.partition_key()))
            for e, envelope in zip(events, envelopes, strict=True)
        ]
        await producer.send_many(records + records)
    finally:
        await producer.stop()


async def test_money_withdrawn_and_lapsed(world: World) -> None:
    ilze, juris, anna = Learner(), Learner(), Learner()
    paid, lapsing, withdrawing = (submitted(p, "VARAM", T0) for p in (ilze, juris, anna))
    programme, institution = uuid.uuid4(), uuid.uuid4()

    def ledger(application: Any, kind: type, amount: str, **extra: Any) -> Any:
        return kind(
            application_id=application.application_id,
            learner_id=application.learner_id,
            project_code="VARAM",
            amount=Decimal(amount),
            at=T0 + 2 * DAY,
            **extra,
        )

    await world.deliver(
        paid,
        lapsing,
        withdrawing,
        approved(paid, T0 + DAY),
        approved(lapsing, T0 + DAY),
        ledger(paid, GrantReserved, "500.00"),
        ledger(lapsing, GrantReserved, "500.00"),
        ledger(paid, GrantSpent, "320.00", programme_id=programme, institution_id=institution),
        ledger(paid, GrantReleased, "180.00", cause="remainder"),
        ApplicationWithdrawn(
            application_id=withdrawing.application_id, learner_id=anna.learner_id, project_code="VARAM", at=T0 + DAY
        ),
        ApplicationLapsed(
            application_id=lapsing.application_id, learner_id=juris.learner_id, project_code="VARAM", at=T0 + 3 * DAY
        ),
        ledger(lapsing, GrantReleased, "500.00", cause="lapsed"),
    )
    figures = (await world.project("VARAM"))["figures"]
    assert (figures["granted"], figures["withdrawn"], figures["lapsed"], figures["pending"]) == (2, 1, 1, 0)
    assert figures["reserved"] == "1000.00"
    assert figures["spent"] == "320.00"
    assert figures["released"] == "680.00"
    assert figures["outstanding"] == "0.00"


def _call(code: str, opens: date, closes: date) -> CallOpened:
    return CallOpened(
        call_id=uuid.uuid4(),
        at=T0 - timedelta(days=60),
        code=code,
        title={"lv": code, "en": code},
        project_code="IMK",
        applications_open_on=opens,
        applications_close_on=closes,
        offers_open_at=NOW,
        offers_deadline_at=NOW + timedelta(days=10),
        evaluation_ends_on=date(2025, 11, 7),
        decision_on=date(2025, 11, 10),
        agreements_from=date(2025, 11, 10),
        publication_from=date(2025, 11, 10),
        delivery_ends_on=date(2026, 4, 30),
        max_programmes_per_institution=3,
        phase="applications",
    )


async def test_rounds_are_the_calls_application_periods(world: World) -> None:
    third = _call("IMK-3", date(2025, 3, 1), date(2025, 3, 31))
    fourth = _call("IMK-4", date(2025, 8, 1), date(2025, 9, 19))
    early, late, outside = Learner(), Learner(), Learner()
    a = submitted(early, "IMK", datetime.fromisoformat("2025-03-31T23:30:00+03:00"))  # the round's last day in Riga
    b = submitted(late, "IMK", datetime.fromisoformat("2025-08-31T22:30:00+00:00"))  # 1 September in Riga
    c = submitted(outside, "IMK", datetime.fromisoformat("2025-06-01T12:00:00+03:00"))
    enrolment = Enrolment(b)
    await world.deliver(third, fourth, a, b, c, approved(a, T0), approved(b, T0), enrolment.started(date(2025, 9, 20)))
    rounds = (await world.project("IMK"))["rounds"]
    assert rounds["IMK-3"] == {"applicants": 1, "granted": 1, "started": 0, "completed": 0}
    assert rounds["IMK-4"] == {"applicants": 1, "granted": 1, "started": 1, "completed": 0}
    assert rounds[""] == {"applicants": 1, "granted": 0, "started": 0, "completed": 0}


async def test_offers_per_call(world: World) -> None:
    call = _call("IMK-4", date(2025, 8, 1), date(2025, 9, 19))
    offer, institution = uuid.uuid4(), uuid.uuid4()
    other = uuid.uuid4()

    def ids(offer_id: uuid.UUID) -> dict[str, Any]:
        return {"offer_id": offer_id, "call_id": call.call_id, "institution_id": institution}

    await world.deliver(
        call,
        CallPhaseChanged(call_id=call.call_id, at=NOW - DAY, phase="offers", previous_phase="applications"),
        OfferSubmitted(**ids(offer), at=NOW - DAY, offer_version=1, programme_ids=[], funding_source="RRF"),
        OfferWithdrawn(**ids(offer), at=NOW - DAY + timedelta(hours=1), offer_version=1),
        OfferSubmitted(**ids(other), at=NOW - DAY, offer_version=1, programme_ids=[], funding_source="RRF"),
    )
    dashboard = await world.dashboard()
    (found,) = dashboard["calls"]
    assert found["phase"] == "offers"
    assert found["figures"] == {
        "offers_submitted": 1,
        "offers_withdrawn": 1,
        "offers_approved": 0,
        "offers_rejected": 0,
    }
    await world.deliver(
        OfferSubmitted(
            **ids(offer), at=NOW - timedelta(hours=5), offer_version=2, programme_ids=[], funding_source="RRF"
        ),
        OfferApproved(**ids(other), at=NOW - timedelta(hours=1), programme_ids=[]),
    )
    (found,) = (await world.dashboard())["calls"]
    assert found["figures"]["offers_submitted"] == 2
    assert found["figures"]["offers_withdrawn"] == 0
    assert found["figures"]["offers_approved"] == 1
    before = (await world.dashboard(NOW - DAY + timedelta(hours=2)))["calls"][0]["figures"]
    assert (before["offers_submitted"], before["offers_withdrawn"], before["offers_approved"]) == (1, 1, 0)


def _answer(project: str, stars: dict[str, int] | None = None, reasons: list[str] | None = None) -> SurveyAnswered:
    return SurveyAnswered(
        programme_id=uuid.uuid4(),
        institution_id=uuid.uuid4(),
        project_code=project,
        kind="completion" if stars is not None else "discontinuation",
        questionnaire_version=1,
        stars=stars or {},
        reasons=reasons or [],
        at=NOW - DAY,
    )


async def test_survey_response_rates_and_ratings(world: World) -> None:
    ended = []
    for index in range(4):
        application = submitted(Learner(), "IMK", T0)
        enrolment = Enrolment(application)
        end = enrolment.completed(date(2025, 9, 1)) if index < 3 else enrolment.discontinued(date(2025, 9, 1))
        ended += [application, enrolment.started(date(2025, 8, 1)), end]
    await world.deliver(
        *ended,
        _answer("IMK", {"knowledge_skills": 5, "content": 4}),
        _answer("IMK", {"knowledge_skills": 4, "content": 4}),
        _answer("IMK", reasons=["time", "content"]),
    )
    surveys = (await world.dashboard())["surveys"]
    assert surveys["answers"] == {"completion": 2, "discontinuation": 1}
    assert surveys["response_rate"] == {"completion": "66.7", "discontinuation": "100.0"}
    assert surveys["mean_rating"] == {"content": "4.0", "knowledge_skills": "4.5"}
    assert surveys["stars"]["knowledge_skills"] == {"4": 1, "5": 1}
    assert surveys["reasons"] == {"content": 1, "time": 1}


async def test_the_public_summary_funnel_and_series(world: World) -> None:
    ilze, juris = Learner(), Learner()
    a, b = submitted(ilze, "IMK", T0), submitted(juris, "IMK", T0 + DAY)
    enrolment = Enrolment(a)
    await world.deliver(
        opened(ilze, T0),
        opened(juris, T0 + DAY),
        a,
        b,
        approved(a, T0 + 2 * DAY),
        enrolment.started(date(2025, 9, 5)),
    )
    summary = (await world.client.get("/summary")).json()
    assert summary["figures"] == {
        "accounts_opened": 2,
        "applications": 2,
        "granted": 1,
        "started": 1,
        "discontinued": 0,
        "completed": 0,
        "survey_answers": 0,
    }
    (funnel,) = (await world.client.get("/funnels", params={"project": "IMK"})).json()
    assert [(s["stage"], s["value"]) for s in funnel["stages"]] == [
        ("accounts_opened", 2),
        ("applicants", 2),
        ("granted", 1),
        ("started", 1),
        ("completed", 0),
    ]
    series = (await world.client.get("/series/accounts_opened")).json()
    points = series["points"]
    assert points[0] == {"day": str(T0.date()), "new": 1, "total": 1}
    assert points[1] == {"day": str((T0 + DAY).date()), "new": 1, "total": 2}
    assert points[-1]["day"] == "2025-09-30" and points[-1]["total"] == 2
    svg = await world.client.get("/charts/funnel.svg", params={"project": "IMK", "language": "en"})
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "Granted" in svg.text
    png = await world.client.get("/charts/series/started.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


async def test_exports(world: World) -> None:
    ilze = Learner()
    await world.deliver(opened(ilze, T0), submitted(ilze, "IMK", T0))
    csv = await world.client.get("/exports/dashboard.csv", headers=world.agency())
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("as_of,scope,project_code,call_or_round,figure,unit,value")
    assert any(",project,IMK,,applicants,persons,1," in line for line in lines)
    xlsx = await world.client.get("/exports/dashboard.xlsx", headers=world.agency())
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")


async def test_who_may_read_what(world: World) -> None:
    assert (await world.client.get("/summary")).status_code == 200
    assert (await world.client.get("/definitions")).status_code == 200
    assert (await world.client.get("/dashboard")).status_code == 401
    learner = world.svc.as_("learner-1", "learner")
    assert (await world.client.get("/dashboard", headers=learner)).status_code == 403
    partner = world.svc.as_("partner-1", "partner")
    assert (await world.client.get("/exports/dashboard.csv", headers=partner)).status_code == 403
    officer = world.agency()
    assert (await world.client.post("/rebuilds", headers=officer)).status_code == 403
    assert (await world.client.get("/rebuilds/current", headers=officer)).status_code == 200


async def test_bad_input_is_named(world: World) -> None:
    cases = {
        "/summary?as_of=2025-09-30T12:00:00": "as_of",  # no offset
        "/summary?as_of=yesterday": "as_of",
        "/summary?as_of=0001-01-01T00:00:00%2B01:00": "as_of",  # a year before 1 in UTC
        "/funnels?as_of=9999-12-31T23:59:59-12:00": "as_of",
        "/series/persons": "figure",
        "/funnels?project=IM%20K": "project",
        "/summary?asof=2025-09-30T12:00:00Z": "asof",
        "/charts/funnel.gif?project=IMK": "fmt",
        "/charts/funnel.svg?project=IMK&language=de": "language",
    }
    for path, field in cases.items():
        response = await world.client.get(path)
        assert response.status_code == 422, (path, response.text)
        assert field in response.text, (path, response.text)
    missing = await world.client.get("/charts/funnel.svg")
    assert missing.status_code == 404
    assert (await world.client.get("/funnels", params={"project": "NONE"})).status_code == 404


async def test_no_person_is_stored(world: World) -> None:
    ilze = Learner(learner_id="learner-ilze-berzina")
    application = submitted(ilze, "IMK", T0)
    await world.deliver(opened(ilze, T0), application, Enrolment(application).started(date(2025, 9, 1)))
    async with world.svc.database.session() as session:
        for table in metadata.sorted_tables:
            for row in (await session.execute(sa.select(table))).all():
                assert "ilze" not in repr(row), table.name


async def test_a_rebuild_forgets_and_reads_again(world: World) -> None:
    ilze = Learner()
    await world.deliver(opened(ilze, T0), submitted(ilze, "IMK", T0))
    before = await world.dashboard()
    admin = world.agency("agency_admin")
    started = await world.client.post("/rebuilds", headers=admin)
    assert started.status_code == 202, started.text
    assert started.json()["generation"] == 2
    assert (await world.dashboard())["projects"] == []
    await world.caught_up()
    assert await world.dashboard() == before
    status = (await world.client.get("/rebuilds/current", headers=world.agency())).json()
    assert status["generation"] == 2 and status["done"] and status["read"] == status["total"] > 0


async def test_figures_are_counted_once_per_version_of_the_projection(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prasmes_statistics.service import figures

    counted = 0
    original = figures._dashboard

    async def counting(*args: Any) -> Any:
        nonlocal counted
        counted += 1
        return await original(*args)

    monkeypatch.setattr(figures, "_dashboard", counting)
    ilze = Learner()
    await world.deliver(opened(ilze, T0))
    for _ in range(3):
        assert (await world.dashboard())["accounts_opened"] == 1
        assert (await world.client.get("/summary")).json()["figures"]["accounts_opened"] == 1
    assert counted == 1, "six reads of one version of the projection, one counting"
    await world.deliver(opened(Learner(), T0))
    assert (await world.dashboard())["accounts_opened"] == 2, "a batch written is counted at once, never stale"
    assert counted == 2


async def test_phases_reached_at_one_instant_end_in_the_latest(world: World) -> None:
    call = _call("IMK-4", date(2025, 8, 1), date(2025, 9, 19))
    at = NOW - DAY
    # The clock passed three phases at once: calls announces them in one transaction, with one instant.
    changes = [
        CallPhaseChanged(call_id=call.call_id, at=at, phase=phase, previous_phase=before)
        for before, phase in (("evaluation", "decision"), ("decision", "agreements"), ("agreements", "delivery"))
    ]
    await world.deliver(call, *reversed(changes))
    (found,) = (await world.dashboard())["calls"]
    assert found["phase"] == "delivery"
