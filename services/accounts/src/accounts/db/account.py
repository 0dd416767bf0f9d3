"""Learning accounts, their profiles and DigComp self-assessments."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.tables import accounts, applications, digcomp_assessments
from accounts.domain.account import Account, DigCompAssessment, EducationLevel, EmploymentStatus, Profile
from accounts.domain.applications import ApplicationState
from accounts.domain.personal_code import PersonalCode


def _profile(m: Any, p: str = "") -> Profile:
    return Profile(
        m[p + "first_name"],
        m[p + "last_name"],
        m[p + "email"],
        m[p + "phone"],
        m[p + "preferred_language"],
        EducationLevel(m[p + "education_level"]) if m[p + "education_level"] else None,
        EmploymentStatus(m[p + "employment_status"]) if m[p + "employment_status"] else None,
    )


def _account(row: sa.Row[Any], prefix: str = "") -> Account:
    m, p = row._mapping, prefix
    return Account(
        m[p + "id"],
        m[p + "learner_id"],
        PersonalCode(m[p + "personal_code"]),
        m[p + "birth_date"],
        m[p + "opened_at"],
        _profile(m, p),
    )


ACCOUNT_PREFIX = "account__"
ACCOUNT_COLUMNS = [c.label(ACCOUNT_PREFIX + c.name) for c in accounts.c]
"""Select these beside another table's columns, then read with `account_from_joined` (within `accounts.db`)."""


def account_from_joined(row: sa.Row[Any]) -> Account:
    return _account(row, ACCOUNT_PREFIX)


_INSERT_ACCOUNT = accounts.insert()
"""Built once, its cache key with it: every opening runs it."""


async def insert_account(session: AsyncSession, account: Account) -> None:
    row = {
        "id": account.id,
        "learner_id": account.learner_id,
        "personal_code": account.personal_code.digits,
        "birth_date": account.birth_date,
        "opened_at": account.opened_at,
    }
    await session.execute(_INSERT_ACCOUNT, row)


async def _one(session: AsyncSession, condition: sa.ColumnElement[bool]) -> Account | None:
    row = (await session.execute(sa.select(accounts).where(condition))).first()
    return _account(row) if row else None


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await _one(session, accounts.c.id == account_id)


async def account_of_learner(session: AsyncSession, learner_id: str) -> Account | None:
    return await _one(session, accounts.c.learner_id == learner_id)


async def account_with_code(session: AsyncSession, code: PersonalCode) -> Account | None:
    return await _one(session, accounts.c.personal_code == code.digits)


async def update_profile(session: AsyncSession, account_id: uuid.UUID, profile: Profile) -> None:
    await session.execute(
        accounts.update()
        .where(accounts.c.id == account_id)
        .values(
            first_name=profile.first_name,
            last_name=profile.last_name,
            email=profile.email,
            phone=profile.phone,
            preferred_language=profile.preferred_language,
            education_level=profile.education_level.value if profile.education_level else None,
            employment_status=profile.employment_status.value if profile.employment_status else None,
        )
    )


async def add_assessment(session: AsyncSession, account_id: uuid.UUID, assessment: DigCompAssessment) -> None:
    await session.execute(
        digcomp_assessments.insert().values(
            account_id=account_id, levels=json.dumps(assessment.levels), assessed_at=assessment.assessed_at
        )
    )


_IN_ORDER = (digcomp_assessments.c.assessed_at, digcomp_assessments.c.id)
"""The order the self-assessments were made in."""


async def assessments_of(session: AsyncSession, account_id: uuid.UUID) -> list[DigCompAssessment]:
    """The account's self-assessments in the order they were made."""
    rows = await session.execute(
        sa.select(digcomp_assessments).where(digcomp_assessments.c.account_id == account_id).order_by(*_IN_ORDER)
    )
    return [DigCompAssessment(json.loads(r.levels), r.assessed_at) for r in rows]


async def latest_assessments_in_project(session: AsyncSession, project_code: str) -> dict[uuid.UUID, DigCompAssessment]:
    """The latest self-assessment of every account whose application waits (submitted) in the project."""
    assessed = digcomp_assessments.c
    rows = await session.execute(
        sa.select(assessed.account_id, assessed.levels, assessed.assessed_at)
        .join(applications, applications.c.account_id == assessed.account_id)
        .where(applications.c.project_code == project_code, applications.c.state == ApplicationState.SUBMITTED.value)
        .order_by(*_IN_ORDER)
    )
    latest = {row.account_id: row for row in rows}  # in order: each account's last one stays
    return {account_id: DigCompAssessment(json.loads(r.levels), r.assessed_at) for account_id, r in latest.items()}
