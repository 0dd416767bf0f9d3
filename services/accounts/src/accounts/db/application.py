"""Applications for studies, with their applicants, and the grant ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.account import ACCOUNT_COLUMNS, account_from_joined
from accounts.db.tables import OPEN, accounts, applications, funding_projects, ledger_entries
from accounts.domain.account import Account
from accounts.domain.applications import Application, ApplicationQuery, ApplicationState
from accounts.domain.ledger import EntryKind, Grant, LedgerEntry, LedgerLine

S = ApplicationState


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
        learning_need_code=m["learning_need_code"],
        programme_id=m["programme_id"],
        group_id=m["group_id"],
        decided_at=m["decided_at"],
        reason=m["reason"],
        reason_code=m["reason_code"],
        grant=Grant(m["reserved"], m["spent"], m["released"]),
        version=m["version"],
    )


def _values(application: Application) -> dict[str, Any]:
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
            learning_need_code=application.learning_need_code,
            programme_id=application.programme_id,
            group_id=application.group_id,
            **_values(application),
        )
    )


async def save_application(session: AsyncSession, application: Application) -> bool:
    """Write a changed application if nobody changed it meanwhile (optimistic lock on version)."""
    result = await session.execute(
        applications.update()
        .where(applications.c.id == application.id, applications.c.version == application.version - 1)
        .values(**_values(application))
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
        .values({k: sa.bindparam(f"b_{k}") for k in _values(changed[0])})
    )
    rows = [
        {"b_id": a.id, "b_previous": a.version - 1, **{f"b_{k}": v for k, v in _values(a).items()}} for a in changed
    ]
    await session.execute(statement, rows)


async def _all(session: AsyncSession, query: sa.Select[Any]) -> list[Application]:
    return [_application(r) for r in await session.execute(query)]


async def application_by_id(session: AsyncSession, application_id: uuid.UUID) -> Application | None:
    found = await _all(session, sa.select(applications).where(applications.c.id == application_id))
    return found[0] if found else None


async def open_application(session: AsyncSession, learner_id: str, project_code: str) -> Application | None:
    c = applications.c
    found = await _all(
        session,
        sa.select(applications).where(c.learner_id == learner_id, c.project_code == project_code, c.state.in_(OPEN)),
    )
    return found[0] if found else None


async def applications_of(session: AsyncSession, learner_id: str) -> list[Application]:
    c = applications.c
    return await _all(
        session, sa.select(applications).where(c.learner_id == learner_id).order_by(c.submitted_at.desc())
    )


async def overdue_approvals(session: AsyncSession, today: date) -> list[Application]:
    """Approved applications whose project's enrolment deadline passed before `today`."""
    query = (
        sa.select(applications)
        .join(funding_projects, funding_projects.c.code == applications.c.project_code)
        .where(applications.c.state == S.APPROVED.value, funding_projects.c.enrolment_deadline < today)
    )
    return await _all(session, query)


def _with_applicants(*conditions: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return (
        sa.select(applications, *ACCOUNT_COLUMNS)
        .join(accounts, accounts.c.id == applications.c.account_id)
        .where(*conditions)
    )


async def _pairs(session: AsyncSession, query: sa.Select[Any]) -> list[tuple[Application, Account]]:
    return [(_application(row), account_from_joined(row)) for row in await session.execute(query)]


async def waiting_with_applicants(session: AsyncSession, project_code: str) -> list[tuple[Application, Account]]:
    """The project's submitted applications with their applicants: what an allocation ranks."""
    c = applications.c
    return await _pairs(session, _with_applicants(c.project_code == project_code, c.state == S.SUBMITTED.value))


async def application_with_applicant(
    session: AsyncSession, application_id: uuid.UUID
) -> tuple[Application, Account] | None:
    found = await _pairs(session, _with_applicants(applications.c.id == application_id))
    return found[0] if found else None


def _agency_filter(query: ApplicationQuery) -> list[sa.ColumnElement[bool]]:
    c = applications.c
    conditions: list[sa.ColumnElement[bool]] = []
    if query.project_code:
        conditions.append(c.project_code == query.project_code)
    if query.states:
        conditions.append(c.state.in_(query.states))
    if query.submitted_from is not None:
        conditions.append(c.submitted_at >= query.submitted_from)
    if query.submitted_before is not None:
        conditions.append(c.submitted_at < query.submitted_before)
    if query.name:
        full_name = sa.func.lower(
            sa.func.coalesce(accounts.c.first_name, "") + " " + sa.func.coalesce(accounts.c.last_name, "")
        )
        conditions.append(full_name.contains(query.name.lower(), autoescape=True))
    return conditions


def _agency_order(sort: str) -> list[sa.ColumnElement[Any]]:
    c, descending = applications.c, sort.startswith("-")
    key = sort.removeprefix("-")
    columns: Sequence[sa.ColumnElement[Any]] = {
        "submitted": [c.submitted_at],
        "decided": [c.decided_at],
        "name": [accounts.c.last_name, accounts.c.first_name, accounts.c.id],  # ix_accounts_name, in its order
        "state": [c.state],
    }[key]
    ordered: list[sa.ColumnElement[Any]] = [col.desc() if descending else col.asc() for col in columns]
    if key == "decided":  # the undecided last either way: both databases agree only when told, and then by index
        ordered = [c.decided_at.desc().nulls_last() if descending else c.decided_at.asc().nulls_last()]
    return [*ordered, c.submitted_at, c.id]


async def agency_applications(
    session: AsyncSession, query: ApplicationQuery, limit: int | None = None, offset: int = 0
) -> list[tuple[Application, Account]]:
    """Applications with their applicants in the order asked: what an officer reviews.

    Unless the list is by name, the page is chosen over the applications alone (their indexes, no join for the
    rows skipped) and only its rows are joined with their applicants: a deep page costs no more joins than the
    first."""
    order = _agency_order(query.sort)
    if query.name or query.sort.removeprefix("-") == "name" or limit is None:
        return await _pairs(
            session, _with_applicants(*_agency_filter(query)).order_by(*order).limit(limit).offset(offset)
        )
    page = sa.select(applications.c.id).where(*_agency_filter(query)).order_by(*order).limit(limit).offset(offset)
    return await _pairs(session, _with_applicants(applications.c.id.in_(page.scalar_subquery())).order_by(*order))


async def count_applications(session: AsyncSession, query: ApplicationQuery) -> int:
    """How many applications `query` finds: over the applications alone (by their indexes) unless it asks by name."""
    statement = sa.select(sa.func.count()).select_from(applications)
    if query.name:
        statement = statement.join(accounts, accounts.c.id == applications.c.account_id)
    total = await session.scalar(statement.where(*_agency_filter(query)))
    return int(total or 0)


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


async def ledger_of(session: AsyncSession, learner_id: str) -> list[LedgerLine]:
    """The learner's ledger over all their applications, in the order it was written."""
    rows = await session.execute(
        sa.select(ledger_entries)
        .where(ledger_entries.c.learner_id == learner_id)
        .order_by(ledger_entries.c.at, ledger_entries.c.id)
    )
    return [LedgerLine(r.application_id, r.project_code, EntryKind(r.kind), r.amount, r.cause, r.at) for r in rows]
