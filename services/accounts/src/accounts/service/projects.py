"""Funding projects and their live budgets, managed by agency_admin."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, NotFound

from accounts.db import Session
from accounts.db import project as project_db
from accounts.domain.projects import FundingProject, ProjectBudget


async def create_project(database: Database, project: FundingProject) -> FundingProject:
    async with database.transaction() as session:
        existing = await project_db.project_by_code(session, project.code)
        if existing is not None:
            raise Conflict(f"funding project {project.code} exists", {"code": project.code, **existing[1].as_dict()})
        await project_db.insert_project(session, project)
    return project


async def update_project(
    database: Database, code: str, changes: dict[str, Any]
) -> tuple[FundingProject, ProjectBudget]:
    async with database.transaction() as session:
        project, budget = await _require(session, code)
        updated = replace(project, **changes)
        resized = budget.resized(updated.budget)
        await project_db.update_project(session, updated)
    return updated, resized


async def _require(session: Session, code: str) -> tuple[FundingProject, ProjectBudget]:
    found = await project_db.project_by_code(session, code)
    if found is None:
        raise NotFound(f"no funding project {code}")
    return found


async def get_project(database: Database, code: str) -> tuple[FundingProject, ProjectBudget]:
    async with database.session() as session:
        return await _require(session, code)


async def list_projects(database: Database) -> list[tuple[FundingProject, ProjectBudget]]:
    async with database.session() as session:
        return await project_db.all_projects(session)
