"""Applications for studies, their decisions, fair allocation, lapses, and the grant ledger."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_contracts.accounts import (
    ApplicationApproved,
    ApplicationLapsed,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    GrantReleased,
    GrantReserved,
    GrantSpent,
)
from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, InvalidInput, NotFound
from prasmes_runtime.outbox import record_event, record_events
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import db
from accounts.domain.account import Account
from accounts.domain.applications import Application, ApplicationState, priority_score, ranking_key, submit
from accounts.domain.ledger import LedgerEntry
from accounts.domain.projects import AllocationMode, FundingProject
from accounts.service.accounts import require_account

S = ApplicationState


async def _project(session: AsyncSession, code: str) -> FundingProject:
    found = await db.project_by_code(session, code)
    if found is None:
        raise InvalidInput.of("project_code", "known_project", f"there is no funding project {code}")
    return found[0]


async def submit_application(
    database: Database,
    clock: Clock,
    learner_id: str,
    project_code: str,
    learning_need: str | None,
    programme_id: uuid.UUID | None,
) -> Application:
    now = clock.now()
    try:
        async with database.transaction() as session:
            account = await require_account(session, learner_id)
            project = await _project(session, project_code)
            project.check_eligible(account, now, today_in_riga(clock))
            await _refuse_second_open(session, learner_id, project_code)
            application = submit(account, project_code, now, learning_need, programme_id)
            await db.insert_application(session, application)
            await record_event(
                session,
                ApplicationSubmitted(**_base(application, now), learning_need=learning_need, programme_id=programme_id),
            )
    except IntegrityError:
        async with database.session() as session:  # an identical submission won the race
            await _refuse_second_open(session, learner_id, project_code)
        raise
    return application


async def _refuse_second_open(session: AsyncSession, learner_id: str, project_code: str) -> None:
    existing = await db.open_application(session, learner_id, project_code)
    if existing is not None:
        raise Conflict(f"you already have an open application to {project_code}", existing.current())


def _base(application: Application, at: datetime) -> dict[str, Any]:
    return {
        "application_id": application.id,
        "learner_id": application.learner_id,
        "project_code": application.project_code,
        "at": at,
    }


async def load_application(
    session: AsyncSession, application_id: uuid.UUID, learner_id: str | None = None
) -> Application:
    """An application; for a learner only their own (another's is simply not found)."""
    application = await db.application_by_id(session, application_id)
    if application is None or (learner_id is not None and application.learner_id != learner_id):
        raise NotFound(f"no application {application_id}")
    return application


async def save_application(session: AsyncSession, application: Application) -> None:
    if not await db.save_application(session, application):
        current = await db.application_by_id(session, application.id)
        raise Conflict("the application changed meanwhile; reload it", current.current() if current else {})


async def _ledger(session: AsyncSession, application: Application, entry: LedgerEntry | None, at: datetime) -> None:
    if entry is not None and entry.amount > 0:
        await db.add_ledger_entry(session, application, entry, at)


# --- decisions -------------------------------------------------------------------------------


async def approve(database: Database, clock: Clock, application_id: uuid.UUID) -> Application:
    now = clock.now()
    async with database.transaction() as session:
        application = await load_application(session, application_id)
        project = await _project(session, application.project_code)
        if project.allocation_mode is AllocationMode.WINDOW_THEN_RANK:
            raise Conflict(
                f"{project.code} grants by ranking after its window closes, not one by one",
                {**application.current(), "allocation_mode": project.allocation_mode.value},
            )
        application = await _grant(session, application, project, now)
    return application


async def _grant(
    session: AsyncSession, application: Application, project: FundingProject, now: datetime
) -> Application:
    approved = application.move_to(S.APPROVED, now)
    amount = project.grant_per_person
    if not await db.reserve_budget(session, project.code, amount):
        _, budget = await db.project_by_code(session, project.code) or (None, None)
        raise Conflict(
            "the project's budget is exhausted", {**application.current(), **(budget.as_dict() if budget else {})}
        )
    grant, entry = approved.grant.reserve(amount)
    approved = replace(approved, grant=grant)
    await save_application(session, approved)
    await _ledger(session, approved, entry, now)
    await record_event(session, ApplicationApproved(**_base(approved, now), grant_amount=amount))
    await record_event(session, GrantReserved(**_base(approved, now), amount=amount))
    return approved


async def reject(
    database: Database, clock: Clock, application_id: uuid.UUID, reason_code: str, reason: str
) -> Application:
    now = clock.now()
    async with database.transaction() as session:
        application = await load_application(session, application_id)
        rejected = replace(application.move_to(S.REJECTED, now), reason=reason, reason_code=reason_code)
        await save_application(session, rejected)
        await record_event(session, ApplicationRejected(**_base(rejected, now), reason_code=reason_code))
    return rejected


async def withdraw(database: Database, clock: Clock, learner_id: str, application_id: uuid.UUID) -> Application:
    now = clock.now()
    async with database.transaction() as session:
        application = await load_application(session, application_id, learner_id)
        withdrawn = application.move_to(S.WITHDRAWN, now)
        withdrawn = await _release(session, withdrawn, "withdrawn", now)
        await save_application(session, withdrawn)
        await record_event(session, ApplicationWithdrawn(**_base(withdrawn, now)))
    return withdrawn


async def _release(session: AsyncSession, application: Application, cause: str, now: datetime) -> Application:
    grant, entry = application.grant.release_all(cause)
    if entry is None:
        return application
    await db.move_budget(session, application.project_code, released=entry.amount, spent=Decimal("0"))
    await _ledger(session, application, entry, now)
    await record_event(session, GrantReleased(**_base(application, now), amount=entry.amount, cause=cause))
    return replace(application, grant=grant)


async def spend(
    session: AsyncSession,
    application: Application,
    cost: Decimal,
    cause: str,
    now: datetime,
    programme_id: uuid.UUID,
    institution_id: uuid.UUID,
) -> Application:
    """Pay the programme's cost from the grant (never more than is outstanding)."""
    grant, entry = application.grant.spend(cost, cause)
    if entry.amount == 0:
        return application
    await db.move_budget(session, application.project_code, released=Decimal("0"), spent=entry.amount)
    await _ledger(session, application, entry, now)
    await record_event(
        session,
        GrantSpent(
            **_base(application, now), amount=entry.amount, programme_id=programme_id, institution_id=institution_id
        ),
    )
    return replace(application, grant=grant)


async def release_remainder(session: AsyncSession, application: Application, cause: str, now: datetime) -> Application:
    return await _release(session, application, cause, now)


# --- fair allocation and lapses --------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    project_code: str
    seed: str
    ranked: int
    approved: int
    rejected: int


async def allocate(database: Database, clock: Clock, project_code: str, seed: str | None = None) -> Allocation:
    """Rank every submitted application of a closed window and grant them in order while the budget lasts.

    One unit of work, written in bulk: 25 000 decisions must not take 25 000 round trips each.
    """
    now = clock.now()
    async with database.transaction() as session:
        project = await _project(session, project_code)
        _check_allocatable(project, now)
        seed = seed or secrets.token_hex(16)
        ranked = await _ranked(session, project, seed)
        found = await db.project_by_code(session, project_code)
        assert found is not None
        grants = min(int(found[1].available // project.grant_per_person), len(ranked))
        approved = [_approved(a, project, now) for a in ranked[:grants]]
        rejected = [_rejected_for_budget(a, now) for a in ranked[grants:]]
        if approved and not await db.reserve_budget(session, project.code, project.grant_per_person * grants):
            raise Conflict("the project's budget changed during the allocation", found[1].as_dict())
        await db.save_applications(session, [*approved, *rejected])
        await db.add_ledger_entries(session, [(a, a.grant.reserve_entry(), now) for a in approved])
        await record_events(session, _allocation_events(approved, rejected, now))
        await db.update_project(session, replace(project, allocated_at=now, lottery_seed=seed))
    return Allocation(project_code, seed, len(ranked), len(approved), len(rejected))


def _approved(application: Application, project: FundingProject, now: datetime) -> Application:
    approved = application.move_to(S.APPROVED, now)
    grant, _ = approved.grant.reserve(project.grant_per_person)
    return replace(approved, grant=grant)


def _rejected_for_budget(application: Application, now: datetime) -> Application:
    return replace(
        application.move_to(S.REJECTED, now),
        reason_code="budget_exhausted",
        reason="The project's budget was granted to applications ranked higher.",
    )


def _allocation_events(approved: list[Application], rejected: list[Application], now: datetime) -> list[Any]:
    events: list[Any] = []
    for a in approved:
        events += [
            ApplicationApproved(**_base(a, now), grant_amount=a.grant.reserved),
            GrantReserved(**_base(a, now), amount=a.grant.reserved),
        ]
    events += [ApplicationRejected(**_base(a, now), reason_code="budget_exhausted") for a in rejected]
    return events


def _check_allocatable(project: FundingProject, now: datetime) -> None:
    current = {
        "code": project.code,
        "allocation_mode": project.allocation_mode.value,
        "allocated_at": project.allocated_at.isoformat() if project.allocated_at else None,
    }
    if project.allocation_mode is not AllocationMode.WINDOW_THEN_RANK:
        raise Conflict(f"{project.code} grants first come, first served; it is not allocated by ranking", current)
    if now < project.window_closes_at:
        raise Conflict(f"the window of {project.code} is still open", current)
    if project.allocated_at is not None:
        raise Conflict(f"{project.code} was already allocated", current)


async def _ranked(session: AsyncSession, project: FundingProject, seed: str) -> list[Application]:
    rows = (
        await session.execute(
            sa.select(db.applications, *db.ACCOUNT_COLUMNS)
            .join(db.accounts, db.accounts.c.id == db.applications.c.account_id)
            .where(db.applications.c.project_code == project.code, db.applications.c.state == S.SUBMITTED.value)
        )
    ).all()
    averages = await _digcomp_averages(session, project.code)
    closing_day = project.window_closes_at.date()
    scored = []
    for row in rows:
        application = db.application_from_row(row)
        account = db.account_from_joined(row)
        score = priority_score(account, averages.get(row.account_id), account.age_on(closing_day))
        scored.append((ranking_key(score, seed, application.id), application))
    scored.sort(key=lambda pair: pair[0])
    return [application for _, application in scored]


async def _digcomp_averages(session: AsyncSession, project_code: str) -> dict[uuid.UUID, float]:
    """The latest self-assessment average of every learner waiting in the project."""
    latest: dict[uuid.UUID, float] = {}
    assessed = db.digcomp_assessments
    rows = await session.execute(
        sa.select(assessed.c.account_id, assessed.c.levels)
        .join(db.applications, db.applications.c.account_id == assessed.c.account_id)
        .where(db.applications.c.project_code == project_code, db.applications.c.state == S.SUBMITTED.value)
        .order_by(assessed.c.assessed_at, assessed.c.id)
    )
    for row in rows:
        levels = json.loads(row.levels)
        latest[row.account_id] = sum(levels.values()) / len(levels)
    return latest


async def lapse_overdue(database: Database, clock: Clock) -> int:
    """Approved applications with no enrolment after their project's deadline lapse; grants are released."""
    now = clock.now()
    today = today_in_riga(clock)
    async with database.transaction() as session:
        rows = (
            await session.execute(
                sa.select(db.applications)
                .join(db.funding_projects, db.funding_projects.c.code == db.applications.c.project_code)
                .where(db.applications.c.state == S.APPROVED.value, db.funding_projects.c.enrolment_deadline < today)
            )
        ).all()
        for row in rows:
            lapsed = db.application_from_row(row).move_to(S.LAPSED, now)
            lapsed = await _release(session, lapsed, "lapsed", now)
            await save_application(session, lapsed)
            await record_event(session, ApplicationLapsed(**_base(lapsed, now)))
    return len(rows)


# --- reading ---------------------------------------------------------------------------------


async def my_applications(database: Database, learner_id: str) -> list[Application]:
    async with database.session() as session:
        return await db.applications_of(session, learner_id)


async def my_application(database: Database, learner_id: str, application_id: uuid.UUID) -> Application:
    async with database.session() as session:
        return await load_application(session, application_id, learner_id)


async def get_application(database: Database, application_id: uuid.UUID) -> Application:
    async with database.session() as session:
        return await load_application(session, application_id)


async def my_ledger(database: Database, learner_id: str) -> tuple[list[Application], list[sa.Row[Any]]]:
    async with database.session() as session:
        return await db.applications_of(session, learner_id), await db.ledger_of(session, learner_id)


async def agency_applications(
    database: Database, project_code: str | None, states: list[str], limit: int, offset: int
) -> tuple[list[tuple[Application, Account]], int]:
    async with database.session() as session:
        page = await db.agency_applications(session, project_code, states, limit, offset)
        return page, await db.count_applications(session, project_code, states)


async def agency_export(
    database: Database, project_code: str | None, states: list[str]
) -> list[tuple[Application, Account]]:
    async with database.session() as session:
        return await db.agency_applications(session, project_code, states)
