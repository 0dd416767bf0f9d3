"""Applications for studies, the learner's eligibility, their decisions, fair allocation, lapses, and the grant
ledger."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, InvalidInput, NotFound

from accounts.db import ConstraintViolation, Session, read_models
from accounts.db import account as account_db
from accounts.db import application as application_db
from accounts.db import project as project_db
from accounts.domain.account import Account
from accounts.domain.applications import Application, Wish, already_open, approve_one, submit, with_group
from accounts.domain.applications import allocate as allocation_of
from accounts.domain.eligibility import Eligibility, eligibilities
from accounts.domain.learning_needs import check_learning_need
from accounts.domain.ledger import Grant, LedgerLine, budget_moves
from accounts.domain.projects import FundingProject, ProjectBudget
from accounts.service import learning_needs, outbox
from accounts.service.accounts import require_account


async def _project(session: Session, code: str) -> tuple[FundingProject, ProjectBudget]:
    found = await project_db.project_by_code(session, code)
    if found is None:
        raise InvalidInput.of("project_code", "known_project", f"there is no funding project {code}")
    return found


async def submit_application(
    database: Database, clock: Clock, learner_id: str, project_code: str, wish: Wish
) -> Application:
    """Submit, for one of the project's approved learning needs (`wish.learning_need_code`; required once the
    project has any, refused while it has none)."""
    now = clock.now()
    try:
        async with database.transaction() as session:
            account = await require_account(session, learner_id)
            project, _ = await _project(session, project_code)
            wish = await _checked_group(session, wish)
            needs = await learning_needs.project_needs(session, project_code)
            check_learning_need(project_code, wish.learning_need_code, needs)
            project.check_eligible(account, now, today_in_riga(clock))
            await _refuse_second_open(session, learner_id, project_code)
            application = submit(account, project_code, now, wish)
            await application_db.insert_application(session, application)
            await outbox.record(session, application.events)
    except ConstraintViolation:
        async with database.session() as session:  # an identical submission won the race
            await _refuse_second_open(session, learner_id, project_code)
        raise
    return application


async def _checked_group(session: Session, wish: Wish) -> Wish:
    if wish.group_id is None:
        return wish
    return with_group(wish, *await read_models.group_and_programme(session, wish.group_id))


async def _refuse_second_open(session: Session, learner_id: str, project_code: str) -> None:
    existing = await application_db.open_application(session, learner_id, project_code)
    if existing is not None:
        raise Conflict(already_open(project_code), existing.current())


async def load_application(session: Session, application_id: uuid.UUID, learner_id: str | None = None) -> Application:
    """An application; for a learner only their own (another's is simply not found)."""
    application = await application_db.application_by_id(session, application_id)
    if application is None or (learner_id is not None and application.learner_id != learner_id):
        raise NotFound(f"no application {application_id}")
    return application


async def save_application(session: Session, application: Application, at: datetime) -> None:
    """Write a changed application if nobody changed it meanwhile, with what the change collected."""
    if not await application_db.save_application(session, application):
        current = await application_db.application_by_id(session, application.id)
        raise Conflict("the application changed meanwhile; reload it", current.current() if current else {})
    await _write_collected(session, [application], at)


async def _write_collected(session: Session, changed: Sequence[Application], at: datetime) -> None:
    """What the changed applications collected: their ledger entries, the budget those move, their events."""
    await application_db.add_ledger_entries(session, [(a, entry, at) for a in changed for entry in a.entries])
    for application in changed:
        released, spent = budget_moves(application.entries)
        if released or spent:
            await project_db.move_budget(session, application.project_code, released=released, spent=spent)
    await outbox.record(session, [event for a in changed for event in a.events])


# --- decisions -------------------------------------------------------------------------------


async def approve(database: Database, clock: Clock, application_id: uuid.UUID) -> Application:
    now = clock.now()
    async with database.transaction() as session:
        application = await load_application(session, application_id)
        project, _ = await _project(session, application.project_code)
        approved = approve_one(application, project, now)
        if not await project_db.reserve_budget(session, project.code, approved.grant.reserved):
            found = await project_db.project_by_code(session, project.code)
            budget = found[1].as_dict() if found else {}
            raise Conflict("the project's budget is exhausted", {**application.current(), **budget})
        await save_application(session, approved, now)
    return approved


async def reject(
    database: Database, clock: Clock, application_id: uuid.UUID, reason_code: str, reason: str
) -> Application:
    now = clock.now()
    async with database.transaction() as session:
        rejected = (await load_application(session, application_id)).reject(reason_code, reason, now)
        await save_application(session, rejected, now)
    return rejected


async def withdraw(database: Database, clock: Clock, learner_id: str, application_id: uuid.UUID) -> Application:
    now = clock.now()
    async with database.transaction() as session:
        withdrawn = (await load_application(session, application_id, learner_id)).withdraw(now)
        await save_application(session, withdrawn, now)
    return withdrawn


# --- fair allocation and lapses --------------------------------------------------------------


@dataclass(frozen=True)
class AllocationSummary:
    project_code: str
    seed: str
    ranked: int
    approved: int
    rejected: int


async def allocate(database: Database, clock: Clock, project_code: str, seed: str | None = None) -> AllocationSummary:
    """Rank every submitted application of a closed window and grant them in order while the budget lasts.

    One unit of work, written in bulk: 25 000 decisions must not take 25 000 round trips each.
    """
    now = clock.now()
    async with database.transaction() as session:
        project, budget = await _project(session, project_code)
        applicants = await application_db.waiting_with_applicants(session, project_code)
        digcomp = await account_db.latest_assessments_in_project(session, project_code)
        allocation = allocation_of(project, budget, applicants, digcomp, seed or secrets.token_hex(16), now)
        if allocation.approved and not await project_db.reserve_budget(session, project_code, allocation.reserved):
            raise Conflict("the project's budget changed during the allocation", budget.as_dict())
        await application_db.save_applications(session, allocation.decided)
        await _write_collected(session, allocation.decided, now)
        await project_db.update_project(session, allocation.project)
    approved, rejected = len(allocation.approved), len(allocation.rejected)
    return AllocationSummary(project_code, allocation.seed, approved + rejected, approved, rejected)


async def lapse_overdue(database: Database, clock: Clock) -> int:
    """Approved applications with no enrolment after their project's deadline lapse; grants are released."""
    now = clock.now()
    async with database.transaction() as session:
        overdue = await application_db.overdue_approvals(session, today_in_riga(clock))
        for application in overdue:
            await save_application(session, application.lapse(now), now)
    return len(overdue)


# --- reading ---------------------------------------------------------------------------------


async def my_applications(database: Database, learner_id: str) -> list[Application]:
    async with database.session() as session:
        return await application_db.applications_of(session, learner_id)


async def my_application(database: Database, learner_id: str, application_id: uuid.UUID) -> Application:
    async with database.session() as session:
        return await load_application(session, application_id, learner_id)


async def get_application(database: Database, application_id: uuid.UUID) -> tuple[Application, Account]:
    """An application with its applicant: what an officer reviews."""
    async with database.session() as session:
        found = await application_db.application_with_applicant(session, application_id)
    if found is None:
        raise NotFound(f"no application {application_id}")
    return found


async def my_eligibility(database: Database, clock: Clock, learner_id: str) -> list[Eligibility]:
    """The learner's eligibility for every funding project (by code), with every reason why not where not; a
    NotFound when they have no account."""
    now = clock.now()
    async with database.session() as session:
        account = await require_account(session, learner_id)
        projects = await project_db.all_projects(session)
        applications = await application_db.applications_of(session, learner_id)
    return eligibilities(projects, account, applications, now, today_in_riga(clock))


async def my_grant(database: Database, learner_id: str) -> tuple[Grant, list[LedgerLine]]:
    """The learner's grant over all their applications, and its ledger."""
    async with database.session() as session:
        applications = await application_db.applications_of(session, learner_id)
        return Grant.total(a.grant for a in applications), await application_db.ledger_of(session, learner_id)


async def agency_applications(
    database: Database, project_code: str | None, states: list[str], limit: int, offset: int
) -> tuple[list[tuple[Application, Account]], int]:
    """One page of the applications of a project (or all) in the given states (or any), and how many there are."""
    async with database.session() as session:
        await _known_filter(session, project_code)
        page = await application_db.agency_applications(session, project_code, states, limit, offset)
        return page, await application_db.count_applications(session, project_code, states)


async def agency_export(
    database: Database, project_code: str | None, states: list[str]
) -> list[tuple[Application, Account]]:
    async with database.session() as session:
        await _known_filter(session, project_code)
        return await application_db.agency_applications(session, project_code, states)


async def _known_filter(session: Session, project_code: str | None) -> None:
    """A filter by an unknown project is a mistake (an InvalidInput naming it), not an empty list."""
    if project_code:  # an empty filter is no filter, as in the query
        await _project(session, project_code)
