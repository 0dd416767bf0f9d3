"""Enrolment in a study group, the study record kept by provider staff, and the learning history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, NotFound
from prasmes_runtime.roles import PROVIDER, PROVIDER_ADMINS

from accounts.db import Session, read_models
from accounts.db import account as account_db
from accounts.db import study as study_db
from accounts.domain import studies
from accounts.domain.applications import Application
from accounts.domain.programmes import Programme, StudyGroup
from accounts.domain.studies import Enrolment, Study, StudyState
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
        group, programme = await read_models.group_and_programme(session, group_id)
        enrolled, enrolment = studies.enrol(application, group_id, group, programme, now)
        if not await read_models.take_place(session, group_id):
            assert group is not None
            raise Conflict("the study group is full", group.current())
        await save_application(session, enrolled, now)
        await study_db.insert_enrolment(session, enrolment)
        await outbox.record(session, enrolment.events)
    return enrolment


async def _staff_enrolment(
    session: Session, user_id: str, enrolment_id: uuid.UUID, member_roles: Sequence[str] = PROVIDER
) -> Enrolment:
    """An enrolment of an institution the user works for (in one of `member_roles`, as catalog's provider users
    say); any other is simply not found."""
    enrolment = await study_db.enrolment_by_id(session, enrolment_id)
    if enrolment is None or enrolment.institution_id not in await read_models.institutions_of(
        session, user_id, member_roles
    ):
        raise NotFound(f"no enrolment {enrolment_id}")
    return enrolment


@dataclass(frozen=True)
class Record:
    """What a step of the study record works on: the enrolment, its application, its group and programme."""

    enrolment: Enrolment
    application: Application
    group: StudyGroup
    programme: Programme | None


async def _record(session: Session, user_id: str, enrolment_id: uuid.UUID) -> Record:
    enrolment = await _staff_enrolment(session, user_id, enrolment_id)
    group = await read_models.group_by_id(session, enrolment.group_id)
    if group is None:  # the read model holds every group an enrolment was made in
        raise NotFound(f"no study group {enrolment.group_id}")
    application = await load_application(session, enrolment.application_id)
    return Record(enrolment, application, group, await read_models.programme_by_id(session, enrolment.programme_id))


async def _save(session: Session, changed: tuple[Enrolment, Application], at: datetime) -> Enrolment:
    enrolment, application = changed
    await save_application(session, application, at)
    await _save_enrolment(session, enrolment)
    return enrolment


async def start(database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        r = await _record(session, user_id, enrolment_id)
        return await _save(
            session, studies.start(r.enrolment, r.application, r.group, on, today_in_riga(clock), now), now
        )


async def discontinue(
    database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date, reason: str | None
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        r = await _record(session, user_id, enrolment_id)
        changed = studies.discontinue(
            r.enrolment, r.application, r.group, r.programme, on, reason, today_in_riga(clock), now
        )
        return await _save(session, changed, now)


async def complete(
    database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID, on: date, hours_attended: int, result: str
) -> Enrolment:
    now = clock.now()
    async with database.transaction() as session:
        r = await _record(session, user_id, enrolment_id)
        changed = studies.complete(
            r.enrolment, r.application, r.group, r.programme, on, hours_attended, result, today_in_riga(clock), now
        )
        return await _save(session, changed, now)


async def invoice(database: Database, clock: Clock, user_id: str, enrolment_id: uuid.UUID) -> Enrolment:
    """The institution's admin invoices what the ended studies spent of the grant, once."""
    now = clock.now()
    async with database.transaction() as session:
        enrolment = await _staff_enrolment(session, user_id, enrolment_id, PROVIDER_ADMINS)
        application = await load_application(session, enrolment.application_id)
        invoiced = studies.invoice(enrolment, application, now)
        if not await study_db.save_invoice(session, invoiced):  # another invoice was recorded meanwhile
            current = await study_db.enrolment_by_id(session, enrolment_id)
            assert current is not None and current.invoiced_at is not None
            studies.invoice(current, application, now)  # raises the Conflict with what was paid and when
    return invoiced


async def provider_enrolments(
    database: Database,
    user_id: str,
    group_id: uuid.UUID | None,
    states: Sequence[StudyState],
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Enrolment, str | None]], int]:
    """One page of the enrolments in the groups of the user's institutions (a group's, in some states), with the
    learners' names, and how many there are in all."""
    async with database.session() as session:
        institutions = await read_models.institutions_of(session, user_id, PROVIDER)
        chosen = study_db.InstitutionFilter(institutions, group_id, states)
        page = await study_db.enrolments_of_institution(session, chosen, sort, limit, offset)
        return page, await study_db.count_of_institution(session, chosen)


async def provider_enrolment(database: Database, user_id: str, enrolment_id: uuid.UUID) -> tuple[Enrolment, str | None]:
    """One enrolment in the groups of the user's institutions, with the learner's name; any other is not found."""
    async with database.session() as session:
        await _staff_enrolment(session, user_id, enrolment_id)
        found = await study_db.named_enrolment(session, enrolment_id)
    assert found is not None
    return found


async def learning_history(database: Database, learner_id: str) -> list[Study]:
    async with database.session() as session:
        account = await account_db.account_of_learner(session, learner_id)
        if account is None:
            raise NotFound("you have no learning account yet")
        enrolments = await study_db.enrolments_of_learner(session, learner_id)
        programmes = await read_models.programmes_by_id(session, [e.programme_id for e in enrolments])
        assessments = await account_db.assessments_of(session, account.id)
    return [studies.study(e, programmes.get(e.programme_id), assessments) for e in enrolments]
