"""Enrolment in a study group, the study record kept by provider staff, and the learning history."""

from __future__ import annotations

import uuid
from datetime import date

from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, NotFound
from prasmes_runtime.roles import PROVIDER, PROVIDER_ADMIN, PROVIDER_STAFF

from accounts.db import Session, read_models
from accounts.db import account as account_db
from accounts.db import study as study_db
from accounts.domain import studies
from accounts.domain.applications import Application
from accounts.domain.studies import Enrolment, Study
from accounts.service import outbox
from accounts.service.applications import load_application, save_application


async def _save_enrolment(session: Session, enrolment: Enrolment) -> None:
    """Write the changed enrolment with the events its change collected."""
    await study_db.save_enrolment(session, enrolment)
    await outbox.record(session, enrolment.events)


async def enrol(
    database: Database, clock: Clock, learner_id: str, application_id: uuid.UUID, group_id: uuid.UUID
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        application = await load_application(session, application_id, learner_id)
        group = await read_models.group_by_id(session, group_id)
        programme = await read_models.programme_by_id(session, group.programme_id) if group else None
        enrolled, enrolment = studies.enrol(application, group_id, group, programme, now)
        if not await read_models.take_place(session, group_id):
            assert group is not None
            raise Conflict("the study group is full", group.current())
        await save_application(session, enrolled, now)
        await study_db.insert_enrolment(session, enrolment)
        await outbox.record(session, enrolment.events)
    return enrolment


async def _staff_enrolment(
    session: Session, user_id: str, enrolment_id: uuid.UUID, role: str = PROVIDER_STAFF
) -> Enrolment:
    """An enrolment of an institution the user works for; any other is simply not found."""
    enrolment = await study_db.enrolment_by_id(session, enrolment_id)
    if enrolment is None or enrolment.institution_id not in await read_models.institutions_of(session, user_id, [role]):
        raise NotFound(f"no enrolment {enrolment_id}")
    return enrolment


async def _application_of(session: Session, enrolment: Enrolment) -> Application:
    return await load_application(session, enrolment.application_id)


async def start(database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        enrolment = await _staff_enrolment(session, user_id, enrolment_id)
        enrolment, application = studies.start(enrolment, await _application_of(session, enrolment), on, now)
        await save_application(session, application, now)
        await _save_enrolment(session, enrolment)
    return enrolment


async def discontinue(
    database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date, reason: str | None
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        enrolment = await _staff_enrolment(session, user_id, enrolment_id)
        application = await _application_of(session, enrolment)
        enrolment, application = studies.discontinue(enrolment, application, on, reason, now)
        await save_application(session, application, now)
        await _save_enrolment(session, enrolment)
    return enrolment


async def complete(
    database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date, hours_attended: int, result: str
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        enrolment = await _staff_enrolment(session, user_id, enrolment_id)
        programme = await read_models.programme_by_id(session, enrolment.programme_id)
        application = await _application_of(session, enrolment)
        enrolment, application = studies.complete(enrolment, application, programme, on, hours_attended, result, now)
        await save_application(session, application, now)
        await _save_enrolment(session, enrolment)
    return enrolment


async def invoice(database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID) -> Application:
    """The provider invoices the programme's cost for a learner who is studying or completed."""
    now = clock.now()
    async with database.transaction() as session:
        enrolment = await _staff_enrolment(session, user_id, enrolment_id, role=PROVIDER_ADMIN)
        programme = await read_models.programme_by_id(session, enrolment.programme_id)
        paid = studies.invoice(enrolment, await _application_of(session, enrolment), programme, now)
        await save_application(session, paid, now)
    return paid


async def provider_enrolments(database: Database, user_id: str, group_id: uuid.UUID | None) -> list[Enrolment]:
    async with database.session() as session:
        institutions = await read_models.institutions_of(session, user_id, PROVIDER)
        return await study_db.enrolments_of_institution(session, institutions, group_id)


async def learning_history(database: Database, learner_id: str) -> list[Study]:
    async with database.session() as session:
        account = await account_db.account_of_learner(session, learner_id)
        if account is None:
            raise NotFound("you have no learning account yet")
        enrolments = await study_db.enrolments_of_learner(session, learner_id)
        programmes = await read_models.programmes_by_id(session, [e.programme_id for e in enrolments])
        assessments = await account_db.assessments_of(session, account.id)
    return [studies.study(e, programmes.get(e.programme_id), assessments) for e in enrolments]
