"""The anomaly flags: each rule on its own (pure), then through the API from the projected events."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from prasmes_contracts.accounts import GrantSpent
from prasmes_contracts.catalog import GroupScheduled, ProviderRegistered
from prasmes_contracts.surveys import SurveyAnswered
from prasmes_statistics.domain.anomalies import AnomalyRules, InstitutionFigures, flagged

from .conftest import NOW, Enrolment, Learner, World, submitted

RULES = AnomalyRules()


def _codes(found: list[Any]) -> dict[str, list[str]]:
    return {f.figures.institution_id: [x.code for x in f.flags] for f in found}


def test_an_ordinary_institution_is_not_flagged() -> None:
    ordinary = InstitutionFigures(
        "a",
        None,
        enrolments=20,
        late_enrolments=2,
        started=20,
        completed=15,
        answers=12,
        stars_total=200,
        stars_given=48,
    )
    peer = InstitutionFigures(
        "b", None, enrolments=20, started=20, completed=14, answers=12, stars_total=210, stars_given=48
    )
    assert flagged([ordinary, peer], RULES) == []


def test_completions_without_a_start_or_too_quick_are_flagged_from_one() -> None:
    found = flagged([InstitutionFigures("a", None, completed=3, completed_without_start=1, quick_completions=2)], RULES)
    (only,) = found
    assert [(x.code, x.value, x.threshold) for x in only.flags] == [
        ("completed_without_start", 1, 0),
        ("quick_completion", 2, 7),
    ]


def test_late_enrolments_need_a_share_and_enough_enrolments() -> None:
    many = InstitutionFigures("a", None, enrolments=10, late_enrolments=5)
    few = InstitutionFigures("b", None, enrolments=9, late_enrolments=9)
    under = InstitutionFigures("c", None, enrolments=10, late_enrolments=4)
    assert _codes(flagged([many, few, under], RULES)) == {"a": ["late_enrolments"]}
    (flag,) = flagged([many], RULES)[0].flags
    assert (flag.value, flag.threshold, flag.over) == (Decimal("50.0"), Decimal(50), 10)


def test_a_completion_rate_far_from_the_peers_is_flagged_either_way() -> None:
    perfect = InstitutionFigures("a", None, started=10, completed=10)
    peers = [InstitutionFigures(f"p{i}", None, started=20, completed=12) for i in range(3)]
    low = InstitutionFigures("z", None, started=10, completed=2)
    found = flagged([perfect, *peers, low], RULES)
    assert _codes(found) == {"a": ["completion_rate_outlier"], "z": ["completion_rate_outlier"]}
    flag = next(f for f in found if f.figures.institution_id == "a").flags[0]
    assert flag.value == Decimal("100.0")
    assert flag.peers == Decimal("54.3")  # 36 + 2 completed of 60 + 10 started: the others, pooled


def test_a_rating_far_from_the_peers_needs_enough_raters() -> None:
    low = InstitutionFigures("a", None, answers=10, stars_total=80, stars_given=40)  # 2.0
    unrated = InstitutionFigures("b", None, answers=9, stars_total=36, stars_given=36)  # 1.0, too few
    peers = [InstitutionFigures(f"c{i}", None, answers=30, stars_total=540, stars_given=120) for i in range(3)]  # 4.5
    assert _codes(flagged([low, unrated, *peers], RULES)) == {"a": ["rating_outlier"]}


def test_grants_spent_on_programmes_nobody_answered_for() -> None:
    spent = InstitutionFigures("a", None, spent_without_answers={"p": Decimal("640.00")})
    (found,) = flagged([spent], RULES)
    (flag,) = found.flags
    assert (flag.code, flag.value, flag.over, flag.programmes) == (
        "spent_without_answers",
        Decimal("640.00"),
        1,
        {"p": Decimal("640.00")},
    )


async def test_the_agency_sees_the_institutions_that_stand_out(world: World) -> None:
    suspicious, honest = uuid.uuid4(), uuid.uuid4()
    group_start = date(2025, 9, 15)
    events: list[Any] = [
        ProviderRegistered(institution_id=suspicious, at=NOW, name="Ātrie kursi SIA", register_number="3360800002"),
        ProviderRegistered(
            institution_id=honest, at=NOW, name="Rīgas Datorikas mācību centrs", register_number="3360800001"
        ),
    ]
    groups = {}
    for institution in (suspicious, honest):
        group, programme = uuid.uuid4(), uuid.uuid4()
        groups[institution] = (group, programme)
        events.append(
            GroupScheduled(
                group_id=group,
                programme_id=programme,
                institution_id=institution,
                at=NOW,
                capacity=30,
                start_date=group_start,
                end_date=date(2025, 11, 30),
                city="Rīga",
                language="lv",
            )
        )
    for index in range(12):
        for institution in (suspicious, honest):
            group, programme = groups[institution]
            application = submitted(Learner(), "IMK", NOW - timedelta(days=40))
            enrolment = Enrolment(application, group_id=group, programme_id=programme, institution_id=institution)
            late = institution == suspicious
            enrolled = datetime.fromisoformat("2025-09-14T10:00:00+03:00" if late else "2025-08-20T10:00:00+03:00")
            events += [application, enrolment.confirmed(enrolled), enrolment.started(group_start)]
            if institution == suspicious:
                events.append(enrolment.completed(group_start + timedelta(days=2)))
                events.append(
                    GrantSpent(
                        application_id=application.application_id,
                        learner_id=application.learner_id,
                        project_code="IMK",
                        amount=Decimal("320.00"),
                        at=NOW - DAY_AT,
                        programme_id=programme,
                        institution_id=institution,
                    )
                )
            elif index < 10:
                events.append(enrolment.completed(date(2025, 9, 28)))
                events.append(
                    SurveyAnswered(
                        programme_id=programme,
                        institution_id=institution,
                        project_code="IMK",
                        kind="completion",
                        questionnaire_version=1,
                        stars={"content_quality": 5},
                        at=NOW - DAY_AT,
                    )
                )
    await world.deliver(*events)
    response = await world.client.get("/anomalies", headers=world.agency())
    assert response.status_code == 200, response.text
    found_all = response.json()
    assert len(found_all) == 1, found_all
    (found,) = found_all
    assert found["institution_id"] == str(suspicious)
    assert found["name"] == "Ātrie kursi SIA"
    assert {f["code"] for f in found["flags"]} == {
        "quick_completion",
        "late_enrolments",
        "spent_without_answers",
    }
    assert found["figures"]["late_enrolments"] == 12 and found["figures"]["completion_rate"] == "100.0"
    spent = next(f for f in found["flags"] if f["code"] == "spent_without_answers")
    assert spent["value"] == "3840.00"
    csv = await world.client.get("/exports/anomalies.csv", headers=world.agency())
    assert csv.status_code == 200 and "quick_completion" in csv.content.decode("utf-8-sig")
    learner = world.svc.as_("learner-1", "learner")
    assert (await world.client.get("/anomalies", headers=learner)).status_code == 403


DAY_AT = timedelta(days=1)
