"""Funding projects and their live budgets, managed by agency_admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, NotFound

from accounts.db import Session
from accounts.db import project as project_db
from accounts.domain.learning_needs import LearningNeed
from accounts.domain.projects import FundingProject, ProjectBudget
from accounts.service import learning_needs


@dataclass(frozen=True)
class ProjectView:
    """A funding project, its live budget, and its approved learning needs (what a learner's application names)."""

    project: FundingProject
    budget: ProjectBudget
    needs: list[LearningNeed]


async def create_project(database: Database, project: FundingProject) -> ProjectView:
    """A new project; calls may have approved its learning needs before it was created here."""
    async with database.transaction() as session:
        existing = await project_db.project_by_code(session, project.code)
        if existing is not None:
            raise Conflict(f"funding project {project.code} exists", {"code": project.code, **existing[1].as_dict()})
        await project_db.insert_project(session, project)
        needs = await learning_needs.project_needs(session, project.code)
    return ProjectView(project, ProjectBudget(project.budget), needs)


async def update_project(database: Database, code: str, changes: dict[str, Any]) -> ProjectView:
    async with database.transaction() as session:
        project, budget = await _require(session, code)
        updated = replace(project, **changes)
        resized = budget.resized(updated.budget)
        await project_db.update_project(session, updated)
        needs = await learning_needs.project_needs(session, code)
    return ProjectView(updated, resized, needs)


async def _require(session: Session, code: str) -> tuple[FundingProject, ProjectBudget]:
    found = await project_db.project_by_code(session, code)
    if found is None:
        raise NotFound(f"no funding project {code}")
    return found


async def get_project(database: Database, code: str) -> ProjectView:
    async with database.session() as session:
        project, budget = await _require(session, code)
        return ProjectView(project, budget, await learning_needs.project_needs(session, code))


async def list_projects(database: Database) -> list[ProjectView]:
    async with database.session() as session:
        projects = await project_db.all_projects(session)
        needs = await learning_needs.projects_needs(session, [p.code for p, _ in projects])
    return [ProjectView(p, b, needs[p.code]) for p, b in projects]


async def published_projects(database: Database, render: Callable[[list[ProjectView]], bytes]) -> bytes:
    """The public list as sent, rendered once for everyone who asks within `project_db.PUBLISHED_SECONDS`."""

    async def rendered() -> bytes:
        return render(await list_projects(database))

    return await project_db.published.read(database, project_db.ALL, rendered)


async def published_project(database: Database, code: str, render: Callable[[ProjectView], bytes]) -> bytes:
    """One project's public answer as sent, kept as the list is (an unknown code is not kept: NotFound)."""

    async def rendered() -> bytes:
        return render(await get_project(database, code))

    return await project_db.published.read(database, code, rendered)
