"""The accounts service's tables and the queries over them, one module per aggregate.

- tables: every table (`metadata` is what the migrations must match)
- account: learning accounts, profiles, DigComp self-assessments
- project: funding projects and their live budgets
- application: applications with their applicants, and the grant ledger
- allocation: the allocation runs of window_then_rank projects
- study: enrolments and the study record
- read_models: catalog's programmes, study groups and provider users, as its events told them
- call_needs: calls' approved learning needs per funding project, as its events told them

Use cases call these functions with the session of their unit of work; no SQL and no row leaves this package.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.project import insert_project
from accounts.db.tables import (
    accounts,
    allocations,
    applications,
    calls,
    digcomp_assessments,
    enrolments,
    funding_projects,
    groups,
    learning_needs,
    ledger_entries,
    metadata,
    programmes,
    provider_users,
)

Session = AsyncSession
"""The unit of work the query functions take: `Database.transaction()`'s, `Database.session()`'s or a handler's."""

ConstraintViolation = IntegrityError
"""What a commit raises when the database's keys or checks refuse it, e.g. when two racing requests both passed
the use case's checks and a unique key decided between them."""

__all__ = [
    "ConstraintViolation",
    "Session",
    "accounts",
    "allocations",
    "applications",
    "calls",
    "digcomp_assessments",
    "enrolments",
    "funding_projects",
    "groups",
    "insert_project",
    "learning_needs",
    "ledger_entries",
    "metadata",
    "programmes",
    "provider_users",
]
