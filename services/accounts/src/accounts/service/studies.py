"""Enrolment in a study group, the study record kept by provider staff, and the learning history."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from prasmes_contracts.accounts import EnrolmentConfirmed, StudiesCompleted, StudiesDiscontinued, StudiesStarted
from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, InvalidInput, NotFound
from prasmes_runtime.outbox import record_event
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import db
from accounts.domain.account import DigCompAssessment
from accounts.domain.applications import Application, ApplicationState
from accounts.domain.studies import Enrolment, StudyState
from accounts.service.applications import load_application, release_remainder, save_application, spend

S = ApplicationState


def _study_base(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "enrolment_id": enrolment.id,
        "application_id": enrolment.application_id,
        "learner_id": enrolment.learner_id,
        "project_code": enrolment.project_code,
        "programme_id": enrolment.programme_id,
        "group_id": enrolment.group_id,
        "institution_id": enrolment.institution_id,
    }


async def enrol(
    database: Database, clock: Clock, learner_id: str, application_id: uuid.UUID, group_id: uuid.UUID
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        application = await load_application(session, application_id, learner_id)
        enrolled = application.move_to(S.ENROLLED, now)
        group = await _open_group(session, group_id)
        if not await db.take_place(session, group_id):
            raise Conflict(
                "the study group is full", {"group_id": str(group_id), "capacity": group.capacity, "taken": group.taken}
            )
        enrolment = Enrolment(
            uuid.uuid4(),
            application.id,
            learner_id,
            application.project_code,
            group.programme_id,
            group_id,
            group.institution_id,
            now,
        )
        await save_application(session, enrolled)
        await db.insert_enrolment(session, enrolment)
        await record_event(session, EnrolmentConfirmed(**_study_base(enrolment), at=now))
    return enrolment


async def _open_group(session: AsyncSession, group_id: uuid.UUID) -> Any:
    group = await db.group_by_id(session, group_id)
    if group is None or group.status != "scheduled":
        raise InvalidInput.of("group_id", "scheduled_group", f"there is no scheduled study group {group_id}")
    programme = await db.programme_by_id(session, group.programme_id)
    if programme is None or not programme.published:
        raise InvalidInput.of("group_id", "published_programme", "the group's programme is not in the catalogue")
    return group


async def _staff_enrolment(
    session: AsyncSession, user_id: str, enrolment_id: uuid.UUID, role: str = "provider_staff"
) -> Enrolment:
    """An enrolment of an institution the user works for; any other is simply not found."""
    enrolment = await db.enrolment_by_id(session, enrolment_id)
    if enrolment is None or enrolment.institution_id not in await db.institutions_of(session, user_id, role):
        raise NotFound(f"no enrolment {enrolment_id}")
    return enrolment


async def start(database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date) -> Enrolment:
    async with database.transaction() as session:
        enrolment = (await _staff_enrolment(session, user_id, enrolment_id)).start(on)
        application = (await load_application(session, enrolment.application_id)).move_to(S.STUDYING, clock.now())
        await save_application(session, application)
        await db.save_enrolment(session, enrolment)
        await record_event(session, StudiesStarted(**_study_base(enrolment), started_on=on))
    return enrolment


async def discontinue(
    database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date, reason: str | None
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        enrolment = (await _staff_enrolment(session, user_id, enrolment_id)).discontinue(on, reason)
        application = (await load_application(session, enrolment.application_id)).move_to(S.DISCONTINUED, now)
        application = await release_remainder(session, application, "discontinued", now)
        await save_application(session, application)
        await db.save_enrolment(session, enrolment)
        await record_event(
            session, StudiesDiscontinued(**_study_base(enrolment), discontinued_on=on, reason_code=reason)
        )
    return enrolment


async def complete(
    database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date, hours_attended: int, result: str
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        enrolment = await _staff_enrolment(session, user_id, enrolment_id)
        programme = await db.programme_by_id(session, enrolment.programme_id)
        enrolment = enrolment.complete(on, hours_attended, result, programme.hours if programme else None)
        application = (await load_application(session, enrolment.application_id)).move_to(S.COMPLETED, now)
        application = await _pay(session, application, enrolment, programme, "completed", now)
        application = await release_remainder(session, application, "remainder", now)
        await save_application(session, application)
        await db.save_enrolment(session, enrolment)
        await record_event(
            session,
            StudiesCompleted(**_study_base(enrolment), completed_on=on, hours_attended=hours_attended, result=result),
        )
    return enrolment


async def _pay(
    session: AsyncSession, application: Application, enrolment: Enrolment, programme: Any, cause: str, now: datetime
) -> Application:
    if application.grant.spent > 0 or programme is None:
        return application  # the provider's invoice already paid the cost
    cost = Decimal(programme.cost_per_participant)
    return await spend(session, application, cost, cause, now, enrolment.programme_id, enrolment.institution_id)


async def invoice(database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID) -> Application:
    """The provider invoices the programme's cost for a learner who is studying or completed."""
    now = clock.now()
    async with database.transaction() as session:
        enrolment = await _staff_enrolment(session, user_id, enrolment_id, role="provider_admin")
        if enrolment.state not in (StudyState.STUDYING, StudyState.COMPLETED):
            raise Conflict("only studies that started can be invoiced", enrolment.current())
        application = await load_application(session, enrolment.application_id)
        if application.grant.spent > 0:
            raise Conflict("the cost was already paid", {**enrolment.current(), "spent": str(application.grant.spent)})
        programme = await db.programme_by_id(session, enrolment.programme_id)
        paid = await _pay(session, application, enrolment, programme, "invoiced", now)
        paid = replace(paid, version=paid.version + 1)  # a grant-only change is still a change
        await save_application(session, paid)
    return paid


async def provider_enrolments(database: Database, user_id: str, group_id: uuid.UUID | None) -> list[Enrolment]:
    async with database.session() as session:
        institutions = await db.institutions_of(session, user_id, "provider_staff")
        institutions += await db.institutions_of(session, user_id, "provider_admin")
        return await db.enrolments_of_institution(session, institutions, group_id)


@dataclass(frozen=True)
class Study:
    enrolment: Enrolment
    programme_title: dict[str, str]
    institution_name: str | None
    digcomp_before: DigCompAssessment | None
    digcomp_after: DigCompAssessment | None


async def learning_history(database: Database, learner_id: str) -> list[Study]:
    async with database.session() as session:
        account = await db.account_of_learner(session, learner_id)
        if account is None:
            raise NotFound("you have no learning account yet")
        enrolments = await db.enrolments_of_learner(session, learner_id)
        programmes = await db.programmes_by_id(session, [e.programme_id for e in enrolments])
        assessments = await db.assessments_of(session, account.id)
    return [_study(e, programmes.get(e.programme_id), assessments) for e in enrolments]


def _study(enrolment: Enrolment, programme: Any, assessments: list[DigCompAssessment]) -> Study:
    """Before: the latest self-assessment up to the start; after: the latest once the studies ended."""
    started = enrolment.started_on or enrolment.enrolled_at.date()
    before = [a for a in assessments if a.assessed_at.date() <= started]
    after = [a for a in assessments if enrolment.ended_on and a.assessed_at.date() >= enrolment.ended_on]
    return Study(
        enrolment,
        json.loads(programme.title) if programme else {},
        programme.institution_name if programme else None,
        before[-1] if before else None,
        after[-1] if after else None,
    )
