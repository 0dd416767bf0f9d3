"""Funding projects and their live budgets."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.cache import ShortCache
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.tables import funding_projects
from accounts.domain.account import EmploymentStatus
from accounts.domain.projects import AllocationMode, FundingProject, ProjectBudget

PUBLISHED_SECONDS = 2.0
ALL = "*"
published: ShortCache[str, bytes] = ShortCache(PUBLISHED_SECONDS, entries=256)
"""The public answers as sent (the list under `ALL`, each project under its code), kept for at most two seconds: a
budget changed by another process (a second api worker, the worker's consumers) shows that much later, one changed
in this process at once."""


def forget_published(session: AsyncSession, code: str) -> None:
    """A write to a project's row or to its learning needs: its answers and the list are sent afresh."""
    published.forget_on_commit(session, [ALL, code])


def _project(row: sa.Row[Any]) -> tuple[FundingProject, ProjectBudget]:
    m = row._mapping
    statuses = json.loads(m["employment_statuses"]) if m["employment_statuses"] else None
    project = FundingProject(
        code=m["code"],
        name=m["name"],
        budget=m["budget"],
        grant_per_person=m["grant_per_person"],
        window_opens_at=m["window_opens_at"],
        window_closes_at=m["window_closes_at"],
        enrolment_deadline=m["enrolment_deadline"],
        allocation_mode=AllocationMode(m["allocation_mode"]),
        min_age=m["min_age"],
        employment_statuses=frozenset(EmploymentStatus(s) for s in statuses) if statuses is not None else None,
        allocated_at=m["allocated_at"],
        lottery_seed=m["lottery_seed"],
    )
    return project, ProjectBudget(m["budget"], m["reserved"], m["spent"])


def _values(project: FundingProject) -> dict[str, Any]:
    statuses = sorted(s.value for s in project.employment_statuses) if project.employment_statuses is not None else None
    return {
        "name": project.name,
        "budget": project.budget,
        "grant_per_person": project.grant_per_person,
        "window_opens_at": project.window_opens_at,
        "window_closes_at": project.window_closes_at,
        "enrolment_deadline": project.enrolment_deadline,
        "allocation_mode": project.allocation_mode.value,
        "min_age": project.min_age,
        "employment_statuses": json.dumps(statuses) if statuses is not None else None,
        "allocated_at": project.allocated_at,
        "lottery_seed": project.lottery_seed,
    }


async def insert_project(session: AsyncSession, project: FundingProject) -> None:
    forget_published(session, project.code)
    await session.execute(funding_projects.insert().values(code=project.code, **_values(project)))


async def update_project(session: AsyncSession, project: FundingProject) -> None:
    forget_published(session, project.code)
    await session.execute(
        funding_projects.update().where(funding_projects.c.code == project.code).values(**_values(project))
    )


async def project_by_code(session: AsyncSession, code: str) -> tuple[FundingProject, ProjectBudget] | None:
    row = (await session.execute(sa.select(funding_projects).where(funding_projects.c.code == code))).first()
    return _project(row) if row else None


async def all_projects(session: AsyncSession) -> list[tuple[FundingProject, ProjectBudget]]:
    rows = await session.execute(sa.select(funding_projects).order_by(funding_projects.c.code))
    return [_project(r) for r in rows]


async def reserve_budget(session: AsyncSession, code: str, amount: Decimal) -> bool:
    """Atomically take `amount` from the project's available budget; False when it does not fit.

    One conditional UPDATE: on PostgreSQL the row lock serialises racing approvals, on SQLite the
    writer lock does; either way two approvals can never both take the last grant.
    """
    forget_published(session, code)
    c = funding_projects.c
    result = await session.execute(
        funding_projects.update()
        .where(c.code == code, c.budget - c.reserved - c.spent >= amount)
        .values(reserved=c.reserved + amount)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def move_budget(session: AsyncSession, code: str, released: Decimal, spent: Decimal) -> None:
    """Give `released` back to the available budget and move `spent` from reserved to spent."""
    forget_published(session, code)
    c = funding_projects.c
    await session.execute(
        funding_projects.update()
        .where(c.code == code)
        .values(reserved=c.reserved - released - spent, spent=c.spent + spent)
    )
