"""Applications for studies, the learner's eligibility, their decisions, fair allocation, lapses, and the grant
ledger."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, InvalidInput, NotFound

from accounts.db import ConstraintViolation, Session, read_models
from accounts.db import account as account_db
from accounts.db import allocation as allocation_db
from accounts.db import application as application_db
from accounts.db import project as project_db
from accounts.domain import allocations as allocation_runs
from accounts.domain.account import Account
from accounts.domain.allocations import AllocationRun
from accounts.domain.applications import (
    Application,
    ApplicationQuery,
    Wish,
    already_open,
    approve_one,
    decide_in_rank,
    rank,
    submit,
    with_group,
)
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


ALLOCATION_BATCH = 500
"""How many applications one unit of work of an allocation run decides: the run's progress moves by as many."""


async def start_allocation(
    database: Database, clock: Clock, project_code: str, requested_by: str, seed: str | None = None
) -> AllocationRun:
    """Start the allocation of a closed window: the seed drawn and recorded on the project at once, the deciding
    left to `run_allocations` in batches. A Conflict with the run's progress when it was started already."""
    now = clock.now()
    try:
        async with database.transaction() as session:
            project, _ = await _existing_project(session, project_code)
            await _refuse_second_run(session, project_code)
            total = await application_db.count_applications(session, ApplicationQuery(project_code, ("submitted",)))
            allocated, run = allocation_runs.start(project, seed or secrets.token_hex(16), total, requested_by, now)
            await allocation_db.insert_run(session, run)
            await project_db.update_project(session, allocated)
    except ConstraintViolation:
        async with database.session() as session:  # a second start won the race
            await _refuse_second_run(session, project_code)
        raise
    return run


async def _existing_project(session: Session, code: str) -> tuple[FundingProject, ProjectBudget]:
    found = await project_db.project_by_code(session, code)
    if found is None:
        raise NotFound(f"no funding project {code}")
    return found


async def _refuse_second_run(session: Session, project_code: str) -> None:
    existing = await allocation_db.run_of_project(session, project_code)
    if existing is not None:
        raise Conflict(f"{project_code} was already allocated", existing.current())


async def allocation_run(database: Database, project_code: str, run_id: uuid.UUID) -> AllocationRun:
    async with database.session() as session:
        run = await allocation_db.run_of_project(session, project_code)
    if run is None or run.id != run_id:
        raise NotFound(f"no allocation {run_id} of {project_code}")
    return run


async def project_allocation_run(database: Database, project_code: str) -> AllocationRun:
    """The project's allocation run; NotFound when none was started (or the project was allocated at once)."""
    async with database.session() as session:
        run = await allocation_db.run_of_project(session, project_code)
    if run is None:
        raise NotFound(f"no allocation run of {project_code}")
    return run


async def run_allocations(database: Database, clock: Clock, batch: int = ALLOCATION_BATCH) -> int:
    """Decide the started allocation runs to the end, `batch` applications per unit of work; how many ran.

    The ranking is computed once per run from what still waits: each application's place depends only on its own
    score and lottery ticket, so a run cut short resumes where it stopped, in the same order.
    """
    async with database.session() as session:
        pending = await allocation_db.unfinished_runs(session)
    for run in pending:
        await _decide_run(database, clock, run, batch)
    return len(pending)


async def _decide_run(database: Database, clock: Clock, run: AllocationRun, batch: int) -> None:
    async with database.session() as session:
        project, _ = await _existing_project(session, run.project_code)
        applicants = await application_db.waiting_with_applicants(session, run.project_code)
        digcomp = await account_db.latest_assessments_in_project(session, run.project_code)
    ranked = rank(applicants, digcomp, run.seed, project.window_closes_at.date())
    try:
        for start in range(0, len(ranked), batch):
            run = await _decide_batch(database, clock, run, project, ranked[start : start + batch])
        async with database.transaction() as session:
            if not await allocation_db.save_run(session, run.finished(clock.now()), run.ranked):
                raise _Overtaken
    except _Overtaken:
        return  # another runner decides it: it resumes from what it finds


class _Overtaken(Exception):
    """Another runner moved the run meanwhile: this one's batch is rolled back."""


async def _decide_batch(
    database: Database, clock: Clock, run: AllocationRun, project: FundingProject, ranked: Sequence[Application]
) -> AllocationRun:
    now = clock.now()
    async with database.transaction() as session:
        _, budget = await _existing_project(session, project.code)
        approved, rejected = decide_in_rank(project, budget, ranked, now)
        advanced = run.advanced(len(approved), len(rejected))
        if not await allocation_db.save_run(session, advanced, run.ranked):
            raise _Overtaken
        reserved = project.grant_per_person * len(approved)
        if approved and not await project_db.reserve_budget(session, project.code, reserved):
            raise Conflict("the project's budget changed during the allocation", budget.as_dict())
        decided = (*approved, *rejected)
        await application_db.save_applications(session, decided)
        await _write_collected(session, decided, now)
    return advanced


async def project_ledger(
    database: Database, project_code: str, limit: int, offset: int
) -> tuple[list[LedgerLine], int, dict[str, Decimal]]:
    """One page of a project's ledger (newest first), how many lines it has, and the sum of each kind."""
    async with database.session() as session:
        await _existing_project(session, project_code)
        return await allocation_db.project_ledger(session, project_code, limit, offset)


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
    database: Database, query: ApplicationQuery, limit: int, offset: int
) -> tuple[list[tuple[Application, Account]], int]:
    """One page of the applications `query` finds, in its order, and how many it finds."""
    async with database.session() as session:
        await _known_filter(session, query.project_code)
        page = await application_db.agency_applications(session, query, limit, offset)
        return page, await application_db.count_applications(session, query)


async def agency_export(database: Database, query: ApplicationQuery) -> list[tuple[Application, Account]]:
    async with database.session() as session:
        await _known_filter(session, query.project_code)
        return await application_db.agency_applications(session, query)


async def _known_filter(session: Session, project_code: str | None) -> None:
    """A filter by an unknown project is a mistake (an InvalidInput naming it), not an empty list."""
    if project_code:  # an empty filter is no filter, as in the query
        await _project(session, project_code)
