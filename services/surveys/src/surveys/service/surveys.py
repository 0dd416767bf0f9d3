"""Invitations from accounts' study events, the learner's answers, and the survey clock (reminders, closing)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from prasmes_contracts.accounts import StudiesCompleted, StudiesDiscontinued
from prasmes_contracts.surveys import SurveyAnswered, SurveyInvited, SurveyReminded
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database
from prasmes_runtime.errors import NotFound
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.db import surveys as db
from surveys.domain.questionnaires import ASPECTS, Kind
from surveys.domain.results import QualityRules
from surveys.domain.surveys import Enrolment, Survey, Timing
from surveys.service import results

log = get_logger(__name__)
CHECKS = ("description_matched", "prior_knowledge_right", "equipment_right")


def _invitation(
    event_class: type[SurveyInvited] | type[SurveyReminded], survey: Survey, at: datetime
) -> SurveyInvited | SurveyReminded:
    e = survey.enrolment
    return event_class(
        survey_id=survey.id,
        learner_id=e.learner_id,
        kind=survey.kind,
        programme_id=e.programme_id,
        institution_id=e.institution_id,
        closes_at=survey.closes_at,
        at=at,
    )


async def invite(
    session: AsyncSession,
    event: StudiesCompleted | StudiesDiscontinued,
    now: datetime,
    timing: Timing,
    rules: QualityRules,
) -> Survey | None:
    """The learner's survey of the enrolment (completion or discontinuation); none if the enrolment has one."""
    kind: Kind = "completion" if isinstance(event, StudiesCompleted) else "discontinuation"
    enrolment = Enrolment(
        event.enrolment_id,
        event.learner_id,
        event.project_code,
        event.programme_id,
        event.group_id,
        event.institution_id,
    )
    survey = Survey.invite(enrolment, kind, now.astimezone(UTC), timing)
    if not await db.add(session, survey):
        log.info("survey exists", enrolment_id=str(event.enrolment_id))
        return None
    await record_event(session, _invitation(SurveyInvited, survey, survey.invited_at))
    await results.count_invitation(session, survey, rules)
    return survey


async def _own(session: AsyncSession, survey_id: uuid.UUID, learner_id: str, *, for_update: bool = False) -> Survey:
    survey = await db.get(session, survey_id, for_update=for_update)
    if survey is None or survey.enrolment.learner_id != learner_id:
        raise NotFound("no such survey")
    return survey


async def my_surveys(database: Database, learner_id: str, limit: int, offset: int) -> tuple[list[Survey], int]:
    async with database.session() as session:
        return await db.of_learner(session, learner_id, limit, offset)


async def my_survey(database: Database, survey_id: uuid.UUID, learner_id: str) -> Survey:
    async with database.session() as session:
        return await _own(session, survey_id, learner_id)


async def save(
    database: Database, survey_id: uuid.UUID, learner_id: str, values: Mapping[str, object], now: datetime
) -> Survey:
    async with database.transaction() as session:
        survey = (await _own(session, survey_id, learner_id, for_update=True)).save(values, now.astimezone(UTC))
        await db.update(session, survey)
    return survey


def answered_event(survey: Survey) -> SurveyAnswered:
    """The closed answers only: no free text, no person, no survey or enrolment id."""
    a, e = survey.answers, survey.enrolment
    assert survey.submitted_at is not None
    digcomp = a.get("digcomp_after")
    reasons = a.get("reasons")
    return SurveyAnswered(
        programme_id=e.programme_id,
        institution_id=e.institution_id,
        project_code=e.project_code,
        kind=survey.kind,
        questionnaire_version=survey.questionnaire_version,
        stars={k: v for k in ASPECTS if isinstance(v := a.get(k), int) and not isinstance(v, bool)},
        checks={k: v for k in CHECKS if isinstance(v := a.get(k), bool)},
        digcomp_after=digcomp if isinstance(digcomp, int) and not isinstance(digcomp, bool) else None,
        reasons=list(reasons) if isinstance(reasons, list) else [],
        at=survey.submitted_at,
    )


async def submit(
    database: Database,
    survey_id: uuid.UUID,
    learner_id: str,
    values: Mapping[str, object],
    now: datetime,
    rules: QualityRules,
) -> Survey:
    """The answer, once; it counts at once in its scopes' results (and its programme's rating and flags)."""
    async with database.transaction() as session:
        survey = await _own(session, survey_id, learner_id, for_update=True)
        before = await results.level_before(session, survey) if survey.kind == "completion" else None
        survey = survey.submit(values, now.astimezone(UTC), before)
        await db.update(session, survey)
        await record_event(session, answered_event(survey))
        await results.count_answer(session, survey, rules, now)
    return survey


async def follow_clock(context: ServiceContext) -> int:
    """The survey clock (a periodic job): reminders due are sent once, surveys past their closing time close."""
    now = context.clock.now().astimezone(UTC)
    changed = 0
    async with context.database.transaction() as session:
        for survey in await db.due(session, now):
            if survey.due_closing(now):
                await db.update(session, survey.close())
            elif survey.due_reminder(now):
                reminded = survey.remind(now)
                await db.update(session, reminded)
                await record_event(session, _invitation(SurveyReminded, reminded, now))
            changed += 1
    return changed
