"""Calls: opened by the agency, their learning needs approved, their phase moved by the clock."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from prasmes_contracts.calls import CallOpened, CallPhaseChanged, LearningNeedsApproved
from prasmes_contracts.calls import LearningNeed as NeedOut
from prasmes_runtime.clock import Clock
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, InvalidInput, NotFound
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db import calls as db
from calls.db import evaluations as evaluations_db
from calls.domain.calls import (
    INSTITUTION_RULES,
    PROGRAMME_RULES,
    Call,
    Criterion,
    LearningNeed,
    Timeline,
    check_criteria,
    check_timeline,
)

log = get_logger(__name__)
LAST_MICROSECOND = timedelta(microseconds=1)


async def open_call(
    database: Database,
    clock: Clock,
    *,
    code: str,
    title: dict[str, str],
    project_code: str,
    timeline: Timeline,
    max_programmes_per_institution: int,
    institution_criteria: tuple[Criterion, ...],
    programme_criteria: tuple[Criterion, ...],
    learning_needs: tuple[LearningNeed, ...] = (),
    needs_approved_on: date | None = None,
    call_id: uuid.UUID | None = None,
) -> Call:
    check_timeline(timeline)
    check_criteria(institution_criteria, INSTITUTION_RULES, "institution_criteria")
    check_criteria(programme_criteria, PROGRAMME_RULES, "programme_criteria")
    _check_needs(learning_needs, needs_approved_on)
    now = clock.now()
    call = Call(
        id=call_id or uuid.uuid4(),
        code=code.strip(),
        title=title,
        project_code=project_code.strip(),
        timeline=timeline,
        max_programmes_per_institution=max_programmes_per_institution,
        institution_criteria=institution_criteria,
        programme_criteria=programme_criteria,
        learning_needs=learning_needs,
        needs_approved_on=needs_approved_on if learning_needs else None,
        phase=timeline.phase_at(now),
        created_at=now,
    )
    try:
        async with database.transaction() as session:
            await db.insert_call(session, call)
            await record_event(session, _opened(call, now))
            if call.learning_needs and call.needs_approved_on is not None:
                await record_event(session, _needs_approved(call, now))
    except IntegrityError:
        async with database.session() as session:
            existing = await db.call_by_code(session, call.code)
        raise Conflict(
            f"a call {call.code} exists", {"call_id": str(existing.id) if existing else None, "code": call.code}
        ) from None
    log.info("call.opened", call_id=str(call.id), code=call.code, phase=call.phase)
    return call


def _check_needs(needs: tuple[LearningNeed, ...], approved_on: date | None) -> None:
    codes = [n.code for n in needs]
    if len(set(codes)) != len(codes):
        raise InvalidInput.of("learning_needs", "unique", "each learning need's code appears once")
    if needs and approved_on is None:
        raise InvalidInput.of("needs_approved_on", "required", "the day the supervisory council approved the needs")


def _opened(call: Call, now: datetime) -> CallOpened:
    t = call.timeline
    return CallOpened(
        call_id=call.id,
        at=now,
        code=call.code,
        title=dict(call.title),
        project_code=call.project_code,
        applications_open_on=t.applications_open_on,
        applications_close_on=t.applications_close_on,
        offers_open_at=t.offers_open_at,
        offers_deadline_at=t.offers_close_at - LAST_MICROSECOND,
        evaluation_ends_on=t.evaluation_ends_on,
        decision_on=t.decision_on,
        agreements_from=t.agreements_from,
        publication_from=t.publication_from,
        delivery_ends_on=t.delivery_ends_on,
        max_programmes_per_institution=call.max_programmes_per_institution,
        phase=call.phase,
    )


def _needs_approved(call: Call, now: datetime) -> LearningNeedsApproved:
    assert call.needs_approved_on is not None
    return LearningNeedsApproved(
        call_id=call.id,
        at=now,
        project_code=call.project_code,
        approved_on=call.needs_approved_on,
        needs=[NeedOut(code=n.code, title=dict(n.title)) for n in call.learning_needs],
    )


async def approve_learning_needs(
    database: Database, clock: Clock, call_id: uuid.UUID, needs: tuple[LearningNeed, ...], approved_on: date
) -> Call:
    """The council's approved needs, replacing any earlier list (one LearningNeedsApproved with the full list)."""
    _check_needs(needs, approved_on)
    if not needs:
        raise InvalidInput.of("needs", "required", "at least one learning need")
    now = clock.now()
    async with database.transaction() as session:
        call = await existing_call(session, call_id)
        await db.set_learning_needs(session, call_id, needs, approved_on)
        updated = await existing_call(session, call_id)
        await record_event(session, _needs_approved(updated, now))
    log.info("call.needs_approved", call_id=str(call.id), needs=len(needs))
    return updated


async def existing_call(session: AsyncSession, call_id: uuid.UUID) -> Call:
    call = await db.call_by_id(session, call_id)
    if call is None:
        raise NotFound("no such call")
    return call


async def get_call(database: Database, call_id: uuid.UUID) -> Call:
    async with database.session() as session:
        return await existing_call(session, call_id)


async def list_calls(database: Database, limit: int, offset: int) -> tuple[list[Call], int]:
    async with database.session() as session:
        return await db.list_calls(session, limit, offset)


async def follow_clock(session: AsyncSession, call: Call, now: datetime) -> None:
    """Record and announce each phase the call passed since its recorded one (in the caller's transaction). Once
    the deadline passed, every submitted offer of the call is under evaluation."""
    for previous, phase in call.phases_passed(now):
        if not await db.move_phase(session, call.id, previous, phase):
            return  # another transaction moved it first, and announced it
        await record_event(session, CallPhaseChanged(call_id=call.id, at=now, phase=phase, previous_phase=previous))
        if phase == "evaluation":
            await evaluations_db.start_evaluation_of_call(session, call.id, now)
        log.info("call.phase_changed", call_id=str(call.id), phase=phase, previous=previous)


async def advance_phases(context: ServiceContext) -> int:
    """The phase clock (a periodic job): every call moved to the phase its timeline gives now."""
    now = context.clock.now().astimezone(UTC)
    moved = 0
    async with context.database.transaction() as session:
        for call in await db.open_calls(session):
            if call.phases_passed(now):
                await follow_clock(session, call, now)
                moved += 1
    return moved
