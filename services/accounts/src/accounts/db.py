"""The accounts service's tables and the queries over them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.domain.account import Account, DigCompAssessment, EducationLevel, EmploymentStatus, Profile
from accounts.domain.applications import OPEN_STATES, Application, ApplicationState
from accounts.domain.ledger import Grant, LedgerEntry
from accounts.domain.personal_code import PersonalCode
from accounts.domain.projects import AllocationMode, FundingProject, ProjectBudget
from accounts.domain.studies import Enrolment, StudyState

metadata = sa.MetaData()
Money = sa.Numeric(14, 2)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("learner_id", sa.String(64), nullable=False, unique=True),
    sa.Column("personal_code", sa.String(11), nullable=False, unique=True),
    sa.Column("birth_date", sa.Date(), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("first_name", sa.String(100)),
    sa.Column("last_name", sa.String(100)),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(20)),
    sa.Column("preferred_language", sa.String(2), nullable=False, server_default="lv"),
    sa.Column("education_level", sa.String(20)),
    sa.Column("employment_status", sa.String(20)),
)

digcomp_assessments = sa.Table(
    "digcomp_assessments",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("levels", sa.Text(), nullable=False),
    sa.Column("assessed_at", UtcDateTime(), nullable=False),
)

funding_projects = sa.Table(
    "funding_projects",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("budget", Money, nullable=False),
    sa.Column("grant_per_person", Money, nullable=False),
    sa.Column("reserved", Money, nullable=False, server_default="0"),
    sa.Column("spent", Money, nullable=False, server_default="0"),
    sa.Column("window_opens_at", UtcDateTime(), nullable=False),
    sa.Column("window_closes_at", UtcDateTime(), nullable=False),
    sa.Column("enrolment_deadline", sa.Date(), nullable=False),
    sa.Column("allocation_mode", sa.String(20), nullable=False),
    sa.Column("min_age", sa.Integer(), nullable=False, server_default="18"),
    sa.Column("employment_statuses", sa.Text()),
    sa.Column("allocated_at", UtcDateTime()),
    sa.Column("lottery_seed", sa.String(64)),
    sa.CheckConstraint("reserved >= 0 AND spent >= 0 AND reserved + spent <= budget", name="ck_budget_not_overspent"),
)

_OPEN = [s.value for s in OPEN_STATES]
applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("learner_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_code", sa.String(20), sa.ForeignKey("funding_projects.code"), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.Column("learning_need", sa.String(500)),
    sa.Column("programme_id", sa.Uuid()),
    sa.Column("decided_at", UtcDateTime()),
    sa.Column("reason", sa.String(1000)),
    sa.Column("reason_code", sa.String(40)),
    sa.Column("priority_score", sa.Integer()),
    sa.Column("reserved", Money, nullable=False, server_default="0"),
    sa.Column("spent", Money, nullable=False, server_default="0"),
    sa.Column("released", Money, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.CheckConstraint("spent + released <= reserved", name="ck_grant_not_negative"),
    sa.Index("ix_applications_project_state", "project_code", "state", "submitted_at"),
    sa.Index(
        "ux_applications_one_open_per_project",
        "learner_id",
        "project_code",
        unique=True,
        sqlite_where=sa.text(f"state IN ({', '.join(repr(s) for s in _OPEN)})"),
        postgresql_where=sa.text(f"state IN ({', '.join(repr(s) for s in _OPEN)})"),
    ),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("application_id", sa.Uuid(), sa.ForeignKey("applications.id"), nullable=False, index=True),
    sa.Column("learner_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_code", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("cause", sa.String(20), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("application_id", sa.Uuid(), sa.ForeignKey("applications.id"), nullable=False, unique=True),
    sa.Column("learner_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_code", sa.String(20), nullable=False),
    sa.Column("programme_id", sa.Uuid(), nullable=False),
    sa.Column("group_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("enrolled_at", UtcDateTime(), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("started_on", sa.Date()),
    sa.Column("ended_on", sa.Date()),
    sa.Column("reason", sa.String(500)),
    sa.Column("hours_attended", sa.Integer()),
    sa.Column("result", sa.String(200)),
)

# Read models fed by catalog's events: accounts never asks catalog's database.
programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("institution_name", sa.String(300)),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("hours", sa.Integer(), nullable=False),
    sa.Column("cost_per_participant", Money, nullable=False),
    sa.Column("published", sa.Boolean(), nullable=False),
)

groups = sa.Table(
    "study_groups",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("capacity", sa.Integer(), nullable=False),
    sa.Column("taken", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("start_date", sa.Date(), nullable=False),
    sa.Column("end_date", sa.Date(), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
)

provider_users = sa.Table(
    "provider_users",
    metadata,
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
)


# --- accounts and profiles -------------------------------------------------------------------


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
"""Select these beside another table's columns, then read with `account_from_joined`."""


def account_from_joined(row: sa.Row[Any]) -> Account:
    return _account(row, ACCOUNT_PREFIX)


def application_from_row(row: sa.Row[Any]) -> Application:
    return _application(row)


async def insert_account(session: AsyncSession, account: Account) -> None:
    await session.execute(
        accounts.insert().values(
            id=account.id,
            learner_id=account.learner_id,
            personal_code=account.personal_code.digits,
            birth_date=account.birth_date,
            opened_at=account.opened_at,
        )
    )


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    row = (await session.execute(sa.select(accounts).where(accounts.c.id == account_id))).first()
    return _account(row) if row else None


async def account_of_learner(session: AsyncSession, learner_id: str) -> Account | None:
    row = (await session.execute(sa.select(accounts).where(accounts.c.learner_id == learner_id))).first()
    return _account(row) if row else None


async def account_with_code(session: AsyncSession, code: PersonalCode) -> Account | None:
    row = (await session.execute(sa.select(accounts).where(accounts.c.personal_code == code.digits))).first()
    return _account(row) if row else None


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


async def assessments_of(session: AsyncSession, account_id: uuid.UUID) -> list[DigCompAssessment]:
    rows = await session.execute(
        sa.select(digcomp_assessments)
        .where(digcomp_assessments.c.account_id == account_id)
        .order_by(digcomp_assessments.c.assessed_at, digcomp_assessments.c.id)
    )
    return [DigCompAssessment(json.loads(r.levels), r.assessed_at) for r in rows]


# --- funding projects ------------------------------------------------------------------------


def _project(row: sa.Row[Any]) -> FundingProject:
    m = row._mapping
    statuses = json.loads(m["employment_statuses"]) if m["employment_statuses"] else None
    return FundingProject(
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


def project_values(project: FundingProject) -> dict[str, Any]:
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
    await session.execute(funding_projects.insert().values(code=project.code, **project_values(project)))


async def update_project(session: AsyncSession, project: FundingProject) -> None:
    await session.execute(
        funding_projects.update().where(funding_projects.c.code == project.code).values(**project_values(project))
    )


async def project_by_code(session: AsyncSession, code: str) -> tuple[FundingProject, ProjectBudget] | None:
    row = (await session.execute(sa.select(funding_projects).where(funding_projects.c.code == code))).first()
    if row is None:
        return None
    return _project(row), ProjectBudget(row.budget, row.reserved, row.spent)


async def all_projects(session: AsyncSession) -> list[tuple[FundingProject, ProjectBudget]]:
    rows = await session.execute(sa.select(funding_projects).order_by(funding_projects.c.code))
    return [(_project(r), ProjectBudget(r.budget, r.reserved, r.spent)) for r in rows]


async def reserve_budget(session: AsyncSession, code: str, amount: Decimal) -> bool:
    """Atomically take `amount` from the project's available budget; False when it does not fit.

    One conditional UPDATE: on PostgreSQL the row lock serialises racing approvals, on SQLite the
    writer lock does; either way two approvals can never both take the last grant.
    """
    c = funding_projects.c
    result = await session.execute(
        funding_projects.update()
        .where(c.code == code, c.budget - c.reserved - c.spent >= amount)
        .values(reserved=c.reserved + amount)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def move_budget(session: AsyncSession, code: str, released: Decimal, spent: Decimal) -> None:
    c = funding_projects.c
    await session.execute(
        funding_projects.update()
        .where(c.code == code)
        .values(reserved=c.reserved - released - spent, spent=c.spent + spent)
    )


# --- applications and the ledger -------------------------------------------------------------


def _application(row: sa.Row[Any]) -> Application:
    m = row._mapping
    return Application(
        id=m["id"],
        account_id=m["account_id"],
        learner_id=m["learner_id"],
        project_code=m["project_code"],
        state=ApplicationState(m["state"]),
        submitted_at=m["submitted_at"],
        learning_need=m["learning_need"],
        programme_id=m["programme_id"],
        decided_at=m["decided_at"],
        reason=m["reason"],
        reason_code=m["reason_code"],
        grant=Grant(m["reserved"], m["spent"], m["released"]),
        version=m["version"],
    )


def _application_values(application: Application) -> dict[str, Any]:
    return {
        "state": application.state.value,
        "decided_at": application.decided_at,
        "reason": application.reason,
        "reason_code": application.reason_code,
        "reserved": application.grant.reserved,
        "spent": application.grant.spent,
        "released": application.grant.released,
        "version": application.version,
    }


async def insert_application(session: AsyncSession, application: Application) -> None:
    await session.execute(
        applications.insert().values(
            id=application.id,
            account_id=application.account_id,
            learner_id=application.learner_id,
            project_code=application.project_code,
            submitted_at=application.submitted_at,
            learning_need=application.learning_need,
            programme_id=application.programme_id,
            **_application_values(application),
        )
    )


async def save_application(session: AsyncSession, application: Application) -> bool:
    """Write a changed application if nobody changed it meanwhile (optimistic lock on version)."""
    result = await session.execute(
        applications.update()
        .where(applications.c.id == application.id, applications.c.version == application.version - 1)
        .values(**_application_values(application))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def save_applications(session: AsyncSession, changed: Sequence[Application]) -> None:
    """Write many changed applications in one statement; each must still be at its previous version."""
    if not changed:
        return
    c = applications.c
    statement = (
        applications.update()
        .where(c.id == sa.bindparam("b_id"), c.version == sa.bindparam("b_previous"))
        .values({k: sa.bindparam(f"b_{k}") for k in _application_values(changed[0])})
    )
    rows = [
        {"b_id": a.id, "b_previous": a.version - 1, **{f"b_{k}": v for k, v in _application_values(a).items()}}
        for a in changed
    ]
    await session.execute(statement, rows)


async def application_by_id(session: AsyncSession, application_id: uuid.UUID) -> Application | None:
    row = (await session.execute(sa.select(applications).where(applications.c.id == application_id))).first()
    return _application(row) if row else None


async def open_application(session: AsyncSession, learner_id: str, project_code: str) -> Application | None:
    row = (
        await session.execute(
            sa.select(applications).where(
                applications.c.learner_id == learner_id,
                applications.c.project_code == project_code,
                applications.c.state.in_(_OPEN),
            )
        )
    ).first()
    return _application(row) if row else None


async def applications_of(session: AsyncSession, learner_id: str) -> list[Application]:
    rows = await session.execute(
        sa.select(applications)
        .where(applications.c.learner_id == learner_id)
        .order_by(applications.c.submitted_at.desc())
    )
    return [_application(r) for r in rows]


def _agency_filter(project_code: str | None, states: Sequence[str]) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if project_code:
        conditions.append(applications.c.project_code == project_code)
    if states:
        conditions.append(applications.c.state.in_(states))
    return conditions


async def agency_applications(
    session: AsyncSession, project_code: str | None, states: Sequence[str], limit: int | None = None, offset: int = 0
) -> list[tuple[Application, Account]]:
    """Applications with their applicants, oldest first: what an officer reviews."""
    query = (
        sa.select(applications, *ACCOUNT_COLUMNS)
        .join(accounts, accounts.c.id == applications.c.account_id)
        .where(*_agency_filter(project_code, states))
        .order_by(applications.c.submitted_at, applications.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [(_application(row), account_from_joined(row)) for row in await session.execute(query)]


async def count_applications(session: AsyncSession, project_code: str | None, states: Sequence[str]) -> int:
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(applications).where(*_agency_filter(project_code, states))
    )
    return int(total or 0)


async def add_ledger_entry(session: AsyncSession, application: Application, entry: LedgerEntry, at: datetime) -> None:
    await session.execute(
        ledger_entries.insert().values(
            application_id=application.id,
            learner_id=application.learner_id,
            project_code=application.project_code,
            kind=entry.kind.value,
            amount=entry.amount,
            cause=entry.cause,
            at=at,
        )
    )


async def add_ledger_entries(
    session: AsyncSession, entries: Sequence[tuple[Application, LedgerEntry, datetime]]
) -> None:
    if entries:
        await session.execute(
            ledger_entries.insert(),
            [
                {
                    "application_id": a.id,
                    "learner_id": a.learner_id,
                    "project_code": a.project_code,
                    "kind": e.kind.value,
                    "amount": e.amount,
                    "cause": e.cause,
                    "at": at,
                }
                for a, e, at in entries
            ],
        )


async def ledger_of(session: AsyncSession, learner_id: str) -> list[sa.Row[Any]]:
    rows = await session.execute(
        sa.select(ledger_entries)
        .where(ledger_entries.c.learner_id == learner_id)
        .order_by(ledger_entries.c.at, ledger_entries.c.id)
    )
    return list(rows)


# --- enrolments and read models --------------------------------------------------------------


def _enrolment(row: sa.Row[Any]) -> Enrolment:
    m = row._mapping
    return Enrolment(
        id=m["id"],
        application_id=m["application_id"],
        learner_id=m["learner_id"],
        project_code=m["project_code"],
        programme_id=m["programme_id"],
        group_id=m["group_id"],
        institution_id=m["institution_id"],
        enrolled_at=m["enrolled_at"],
        state=StudyState(m["state"]),
        started_on=m["started_on"],
        ended_on=m["ended_on"],
        reason=m["reason"],
        hours_attended=m["hours_attended"],
        result=m["result"],
    )


async def insert_enrolment(session: AsyncSession, enrolment: Enrolment) -> None:
    await session.execute(
        enrolments.insert().values(
            id=enrolment.id,
            application_id=enrolment.application_id,
            learner_id=enrolment.learner_id,
            project_code=enrolment.project_code,
            programme_id=enrolment.programme_id,
            group_id=enrolment.group_id,
            institution_id=enrolment.institution_id,
            enrolled_at=enrolment.enrolled_at,
            state=enrolment.state.value,
        )
    )


async def save_enrolment(session: AsyncSession, enrolment: Enrolment) -> None:
    await session.execute(
        enrolments.update()
        .where(enrolments.c.id == enrolment.id)
        .values(
            state=enrolment.state.value,
            started_on=enrolment.started_on,
            ended_on=enrolment.ended_on,
            reason=enrolment.reason,
            hours_attended=enrolment.hours_attended,
            result=enrolment.result,
        )
    )


async def enrolment_by_id(session: AsyncSession, enrolment_id: uuid.UUID) -> Enrolment | None:
    row = (await session.execute(sa.select(enrolments).where(enrolments.c.id == enrolment_id))).first()
    return _enrolment(row) if row else None


async def enrolments_of_learner(session: AsyncSession, learner_id: str) -> list[Enrolment]:
    rows = await session.execute(
        sa.select(enrolments).where(enrolments.c.learner_id == learner_id).order_by(enrolments.c.enrolled_at)
    )
    return [_enrolment(r) for r in rows]


async def enrolments_of_institution(
    session: AsyncSession, institution_ids: Sequence[uuid.UUID], group_id: uuid.UUID | None
) -> list[Enrolment]:
    query = sa.select(enrolments).where(enrolments.c.institution_id.in_(institution_ids))
    if group_id is not None:
        query = query.where(enrolments.c.group_id == group_id)
    rows = await session.execute(query.order_by(enrolments.c.group_id, enrolments.c.enrolled_at))
    return [_enrolment(r) for r in rows]


async def take_place(session: AsyncSession, group_id: uuid.UUID) -> bool:
    """Atomically take one free place in a scheduled group; False when it is full."""
    c = groups.c
    result = await session.execute(
        groups.update().where(c.id == group_id, c.status == "scheduled", c.taken < c.capacity).values(taken=c.taken + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def group_by_id(session: AsyncSession, group_id: uuid.UUID) -> sa.Row[Any] | None:
    return (await session.execute(sa.select(groups).where(groups.c.id == group_id))).first()


async def programme_by_id(session: AsyncSession, programme_id: uuid.UUID) -> sa.Row[Any] | None:
    return (await session.execute(sa.select(programmes).where(programmes.c.id == programme_id))).first()


async def programmes_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, sa.Row[Any]]:
    rows = await session.execute(sa.select(programmes).where(programmes.c.id.in_(ids)))
    return {r.id: r for r in rows}


async def upsert(session: AsyncSession, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Insert or update a read-model row (portable across SQLite and PostgreSQL)."""
    updated = await session.execute(table.update().where(*(table.c[k] == v for k, v in key.items())).values(**values))
    if not updated.rowcount:  # type: ignore[attr-defined]
        await session.execute(table.insert().values(**key, **values))


async def institutions_of(session: AsyncSession, user_id: str, role: str) -> list[uuid.UUID]:
    rows = await session.execute(
        sa.select(provider_users.c.institution_id).where(
            provider_users.c.user_id == user_id, provider_users.c.role == role
        )
    )
    return [r[0] for r in rows]


async def remove_provider_user(session: AsyncSession, institution_id: uuid.UUID, user_id: str) -> None:
    await session.execute(
        provider_users.delete().where(
            provider_users.c.institution_id == institution_id, provider_users.c.user_id == user_id
        )
    )
