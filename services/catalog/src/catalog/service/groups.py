"""Study groups of published programmes, the places accounts' enrolments take, and the learners' progress."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from prasmes_contracts.accounts import EnrolmentConfirmed, StudiesCompleted, StudiesDiscontinued, StudiesStarted
from prasmes_contracts.catalog import GroupChanged, GroupScheduled
from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import NotFound
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db import groups as db
from catalog.db import programmes as programmes_db
from catalog.db import providers as providers_db
from catalog.domain import groups as domain
from catalog.domain.groups import (
    Enrolment,
    EnrolmentStatus,
    GroupChanges,
    GroupInput,
    GroupSort,
    GroupStatus,
    StudyGroup,
)
from catalog.service.programmes import own_programme
from catalog.service.providers import acting_member

log = get_logger(__name__)

StudyProgress = StudiesStarted | StudiesDiscontinued | StudiesCompleted


# --------------------------------------------------------------------------- study groups


def _group_event(
    group: StudyGroup, event_type: type[GroupScheduled] | type[GroupChanged], at: datetime
) -> GroupScheduled | GroupChanged:
    return event_type(
        group_id=group.id,
        programme_id=group.programme_id,
        institution_id=group.institution_id,
        at=at,
        capacity=group.spec.capacity,
        start_date=group.spec.start_date,
        end_date=group.spec.end_date,
        city=group.city,
        language=group.spec.language,
        status=group.status.value,
        location_id=group.spec.location_id,
        entry_level=group.spec.entry_level,
    )


async def _city(session: AsyncSession, location_id: uuid.UUID) -> str:
    location = await providers_db.location_by_id(session, location_id)
    assert location is not None  # a programme's locations are the institution's own
    return location.city


async def schedule_group(
    database: Database, clock: Clock, user_id: str, institution_id: uuid.UUID, programme_id: uuid.UUID, spec: GroupInput
) -> StudyGroup:
    now = clock.now()
    async with database.transaction() as session:
        programme = await own_programme(session, user_id, institution_id, programme_id, admin=True)
        domain.validate_new_group(programme, spec, today_in_riga(clock))
        group = domain.new_group(programme, spec, await _city(session, spec.location_id), now)
        await db.insert_group(session, group)
        await record_event(session, _group_event(group, GroupScheduled, now))
    return group


async def change_group(
    database: Database,
    clock: Clock,
    user_id: str,
    institution_id: uuid.UUID,
    group_id: uuid.UUID,
    changes: GroupChanges,
) -> StudyGroup:
    now = clock.now()
    async with database.transaction() as session:
        await acting_member(session, user_id, institution_id, admin=True)
        group = await _own_group(session, institution_id, group_id)
        programme = await programmes_db.programme_by_id(session, group.programme_id)
        assert programme is not None
        changed = group.changed(changes, programme, today_in_riga(clock), now)
        changed = replace(changed, city=await _city(session, changed.spec.location_id))
        await db.update_group(session, changed)
        await record_event(session, _group_event(changed, GroupChanged, now))
        stored = await db.group_by_id(session, group_id)
    assert stored is not None
    return stored


async def _own_group(session: AsyncSession, institution_id: uuid.UUID, group_id: uuid.UUID) -> StudyGroup:
    group = await db.group_by_id(session, group_id)
    if group is None or group.institution_id != institution_id:
        raise NotFound(f"no group {group_id}")
    return group


async def groups_of(
    database: Database,
    user_id: str,
    institution_id: uuid.UUID,
    statuses: Sequence[GroupStatus] = (),
    programme_id: uuid.UUID | None = None,
    sort: GroupSort = GroupSort.START,
) -> list[StudyGroup]:
    async with database.session() as session:
        await acting_member(session, user_id, institution_id)
        found = await db.groups_of_institution(session, institution_id)
    return domain.select_groups(found, statuses, programme_id, sort)


async def group_with_learners(
    database: Database, user_id: str, institution_id: uuid.UUID, group_id: uuid.UUID
) -> tuple[StudyGroup, list[Enrolment]]:
    """The provider's view of one group: its learners' progress (opaque learner ids, no personal data)."""
    async with database.session() as session:
        await acting_member(session, user_id, institution_id)
        group = await _own_group(session, institution_id, group_id)
        return group, await db.enrolments_of_group(session, group_id)


# --------------------------------------------------------------------------- enrolments and study progress


def _enrolment(event: EnrolmentConfirmed | StudyProgress, enrolled_at: datetime | None) -> Enrolment:
    return Enrolment(
        event.enrolment_id,
        event.group_id,
        event.programme_id,
        event.institution_id,
        event.learner_id,
        EnrolmentStatus.ENROLLED,
        enrolled_at,
    )


async def enrolment_confirmed(session: AsyncSession, event: EnrolmentConfirmed) -> None:
    """A place is taken. Free places = capacity - confirmed enrolments. A later discontinuation does not
    free the place: the group has started and the grant is spent, so nobody else can take it mid-course."""
    if await db.enrolment_by_id(session, event.enrolment_id) is not None:
        return
    await db.save_enrolment(session, _enrolment(event, event.at), new=True)
    if await db.group_by_id(session, event.group_id) is None:
        log.warning("enrolment.unknown_group", enrolment_id=str(event.enrolment_id), group_id=str(event.group_id))
        return
    await db.count_enrolment(session, event.group_id, event.at)


def _step(enrolment: Enrolment, event: StudyProgress) -> Enrolment | None:
    """The enrolment after the step accounts reports, or None when the state machine ignores it."""
    if isinstance(event, StudiesStarted):
        return enrolment.start(event.started_on)
    if isinstance(event, StudiesDiscontinued):
        return enrolment.discontinue(event.discontinued_on)
    return enrolment.complete(event.completed_on, event.hours_attended, event.result)


async def study_progress(session: AsyncSession, event: StudyProgress) -> None:
    """Accounts' study record moved on: the learner's progress, which the completion and dropout rates count.
    Progress may arrive for an enrolment catalog has not seen confirmed: it is recorded all the same."""
    existing = await db.enrolment_by_id(session, event.enrolment_id)
    updated = _step(existing or _enrolment(event, None), event)
    if updated is not None:
        await db.save_enrolment(session, updated, new=existing is None)
