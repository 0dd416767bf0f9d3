"""Counting the figures from the facts, as of an instant: a handful of grouped statements for the whole dashboard."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.clock import RIGA
from prasmes_runtime.money import money
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_statistics.db.tables import (
    accounts,
    answer_reasons,
    answer_stars,
    applications,
    call_phases,
    calls,
    grant_entries,
    offer_decisions,
    offer_versions,
    studies,
    survey_answers,
)

A = applications.c
S = studies.c


def _by(column: sa.ColumnElement[Any], at: datetime) -> sa.ColumnElement[bool]:
    return column <= at


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count().filter(condition)


def _persons(person: sa.ColumnElement[Any], condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count(sa.distinct(person)).filter(condition)


def _on_or_before(column: sa.ColumnElement[Any], at: datetime) -> sa.ColumnElement[bool]:
    """A day recorded on or before the instant's day in Riga."""
    return column <= at.astimezone(RIGA).date()


def _not_by(column: sa.ColumnElement[Any], at: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(column.is_(None), column > at)


async def accounts_opened(session: AsyncSession, at: datetime) -> int:
    query = sa.select(sa.func.count()).select_from(accounts).where(_by(accounts.c.opened_at, at))
    return int((await session.execute(query)).scalar_one())


def _application_columns(at: datetime) -> list[sa.ColumnElement[int]]:
    pending = sa.and_(
        _by(A.submitted_at, at), _not_by(A.approved_at, at), _not_by(A.rejected_at, at), _not_by(A.withdrawn_at, at)
    )
    return [
        _persons(A.person, _by(A.submitted_at, at)).label("applicants"),
        _count(_by(A.submitted_at, at)).label("applications_submitted"),
        _count(_by(A.approved_at, at)).label("granted"),
        _count(_by(A.rejected_at, at)).label("rejected"),
        _count(_by(A.withdrawn_at, at)).label("withdrawn"),
        _count(_by(A.lapsed_at, at)).label("lapsed"),
        _count(pending).label("pending"),
    ]


def _study_columns(at: datetime) -> list[sa.ColumnElement[int]]:
    return [
        _persons(S.person, _on_or_before(S.started_on, at)).label("started"),
        _persons(S.person, _on_or_before(S.discontinued_on, at)).label("discontinued"),
        _persons(S.person, _on_or_before(S.completed_on, at)).label("completed"),
    ]


async def per_project(session: AsyncSession, at: datetime) -> dict[str, dict[str, int | Decimal]]:
    """Project -> its application, study and money figures."""
    found: dict[str, dict[str, int | Decimal]] = {}
    query = sa.select(A.project_code, *_application_columns(at)).group_by(A.project_code)
    for row in (await session.execute(query)).mappings():
        found.setdefault(row["project_code"], {}).update({k: int(v) for k, v in row.items() if k != "project_code"})
    query = sa.select(S.project_code, *_study_columns(at)).group_by(S.project_code)
    for row in (await session.execute(query)).mappings():
        found.setdefault(row["project_code"], {}).update({k: int(v) for k, v in row.items() if k != "project_code"})
    for project, amounts in (await _money(session, at)).items():
        found.setdefault(project, {}).update(amounts)
    for figures in found.values():  # a project with no studies (or no grants) yet shows them as 0
        for code in ("started", "discontinued", "completed"):
            figures.setdefault(code, 0)
        for code in ("reserved", "released", "spent", "outstanding"):
            figures.setdefault(code, money(0))
    return found


async def _money(session: AsyncSession, at: datetime) -> dict[str, dict[str, Decimal]]:
    g = grant_entries.c
    query = (
        sa.select(g.project_code, g.entry, sa.func.sum(g.amount).label("amount"))
        .where(_by(g.at, at))
        .group_by(g.project_code, g.entry)
    )
    found: dict[str, dict[str, Decimal]] = {}
    for row in (await session.execute(query)).all():
        found.setdefault(row.project_code, {})[row.entry] = money(Decimal(row.amount))
    zero = money(0)
    for amounts in found.values():
        for entry in ("reserved", "released", "spent"):
            amounts.setdefault(entry, zero)
        amounts["outstanding"] = amounts["reserved"] - amounts["released"] - amounts["spent"]
    return found


def _round_join(source: sa.FromClause, project: sa.ColumnElement[Any], day: sa.ColumnElement[Any]) -> sa.Join:
    return source.outerjoin(
        calls,
        sa.and_(
            calls.c.project_code == project,
            day >= calls.c.applications_open_on,
            day <= calls.c.applications_close_on,
        ),
    )


async def per_round(session: AsyncSession, at: datetime) -> dict[str, dict[str, dict[str, int]]]:
    """Project -> call code ("" outside any call's application period) -> the round's figures."""
    found: dict[str, dict[str, dict[str, int]]] = {}
    code = sa.func.coalesce(calls.c.code, "").label("round")
    query = (
        sa.select(
            A.project_code,
            code,
            _persons(A.person, _by(A.submitted_at, at)).label("applicants"),
            _count(_by(A.approved_at, at)).label("granted"),
        )
        .select_from(_round_join(applications, A.project_code, A.submitted_on))
        .group_by(A.project_code, code)
    )
    for row in (await session.execute(query)).all():
        found.setdefault(row.project_code, {})[row.round] = {"applicants": row.applicants, "granted": row.granted}
    joined = studies.join(applications, A.application_id == S.application_id)
    query = (
        sa.select(
            S.project_code,
            code,
            _persons(S.person, _on_or_before(S.started_on, at)).label("started"),
            _persons(S.person, _on_or_before(S.completed_on, at)).label("completed"),
        )
        .select_from(_round_join(joined, A.project_code, A.submitted_on))
        .group_by(S.project_code, code)
    )
    for row in (await session.execute(query)).all():
        figures = found.setdefault(row.project_code, {}).setdefault(row.round, {"applicants": 0, "granted": 0})
        figures.update(started=row.started, completed=row.completed)
    for rounds in found.values():
        for figures in rounds.values():
            figures.setdefault("started", 0)
            figures.setdefault("completed", 0)
    return found


async def per_call(session: AsyncSession, at: datetime) -> list[dict[str, Any]]:
    """Each call opened by then, its phase then and its offers' figures."""
    v = offer_versions.c
    standing = sa.and_(_by(v.submitted_at, at), _not_by(v.withdrawn_at, at))
    offers = dict(
        (row.call_id, (row.ever, row.standing))
        for row in (
            await session.execute(
                sa.select(
                    v.call_id,
                    _persons(v.offer_id, _by(v.submitted_at, at)).label("ever"),
                    _persons(v.offer_id, standing).label("standing"),
                ).group_by(v.call_id)
            )
        ).all()
    )
    d = offer_decisions.c
    decided = {
        (row.call_id, row.decision): row.n
        for row in (
            await session.execute(
                sa.select(d.call_id, d.decision, sa.func.count().label("n"))
                .where(_by(d.at, at))
                .group_by(d.call_id, d.decision)
            )
        ).all()
    }
    phases = await _phases(session, at)
    found = []
    query = sa.select(calls).where(_by(calls.c.opened_at, at)).order_by(calls.c.opened_at, calls.c.code)
    for call in (await session.execute(query)).all():
        ever, standing_now = offers.get(call.call_id, (0, 0))
        found.append(
            {
                "call_id": str(call.call_id),
                "code": call.code,
                "project_code": call.project_code,
                "phase": phases.get(call.call_id),
                "figures": {
                    "offers_submitted": standing_now,
                    "offers_withdrawn": ever - standing_now,
                    "offers_approved": decided.get((call.call_id, "approved"), 0),
                    "offers_rejected": decided.get((call.call_id, "rejected"), 0),
                },
            }
        )
    return found


PHASES = ("announced", "applications", "offers", "evaluation", "decision", "agreements", "delivery", "closed")
"""A call's phases in their order: calls announces several at one instant when the clock passed them all."""


async def _phases(session: AsyncSession, at: datetime) -> dict[Any, str]:
    """Each call's phase at the instant: the latest reached by then, the later in the order at the same instant."""
    p = call_phases.c
    rows = (await session.execute(sa.select(p.call_id, p.phase, p.at).where(_by(p.at, at)))).all()
    latest: dict[Any, tuple[datetime, int, str]] = {}
    for row in rows:
        reached = (row.at, PHASES.index(row.phase) if row.phase in PHASES else -1, row.phase)
        if row.call_id not in latest or reached > latest[row.call_id]:
            latest[row.call_id] = reached
    return {call: phase for call, (_, _, phase) in latest.items()}


async def survey_counts(session: AsyncSession, at: datetime) -> dict[str, Any]:
    """Per project (and "" for all): answers per kind, stars per aspect, reasons chosen; and the persons who
    completed or discontinued by then, whom the response rates are of."""
    a = survey_answers.c
    answered = _by(a.at, at)
    answers = (
        await session.execute(
            sa.select(a.project_code, a.kind, sa.func.count().label("n"))
            .where(answered)
            .group_by(a.project_code, a.kind)
        )
    ).all()
    stars = (
        await session.execute(
            sa.select(a.project_code, answer_stars.c.aspect, answer_stars.c.stars, sa.func.count().label("n"))
            .join(answer_stars, answer_stars.c.event_id == a.event_id)
            .where(answered)
            .group_by(a.project_code, answer_stars.c.aspect, answer_stars.c.stars)
        )
    ).all()
    reasons = (
        await session.execute(
            sa.select(a.project_code, answer_reasons.c.reason, sa.func.count().label("n"))
            .join(answer_reasons, answer_reasons.c.event_id == a.event_id)
            .where(answered)
            .group_by(a.project_code, answer_reasons.c.reason)
        )
    ).all()
    ended = await _ended(session, at)
    return {"answers": answers, "stars": stars, "reasons": reasons, "ended": ended}


async def _ended(session: AsyncSession, at: datetime) -> dict[str, dict[str, int]]:
    """Kind -> project ("" for all) -> distinct persons who ended studies that way by then."""
    columns = (
        _persons(S.person, _on_or_before(S.completed_on, at)).label("completion"),
        _persons(S.person, _on_or_before(S.discontinued_on, at)).label("discontinuation"),
    )
    found: dict[str, dict[str, int]] = {"completion": {}, "discontinuation": {}}
    for row in (await session.execute(sa.select(S.project_code, *columns).group_by(S.project_code))).all():
        found["completion"][row.project_code] = row.completion
        found["discontinuation"][row.project_code] = row.discontinuation
    total = (await session.execute(sa.select(*columns))).one()
    found["completion"][""] = total.completion
    found["discontinuation"][""] = total.discontinuation
    return found


SERIES_SOURCES: dict[str, tuple[sa.ColumnElement[Any], sa.ColumnElement[Any] | None, sa.ColumnElement[Any] | None]] = {
    "accounts_opened": (accounts.c.opened_at, None, None),
    "applications_submitted": (A.submitted_at, A.project_code, None),
    "granted": (A.approved_at, A.project_code, None),
    "rejected": (A.rejected_at, A.project_code, None),
    "started": (S.started_on, S.project_code, S.person),
    "discontinued": (S.discontinued_on, S.project_code, S.person),
    "completed": (S.completed_on, S.project_code, S.person),
}
"""A series' instants or days: the column, the project's column (None: not per project), and the person's (a figure
of distinct persons counts each on their first day)."""


async def days(session: AsyncSession, figure: str, at: datetime, project: str | None) -> list[date]:
    """The day in Riga of each counted thing of a figure, up to `at` (per person: their first)."""
    column, project_column, person = SERIES_SOURCES[figure]
    on_days = isinstance(column.type, sa.Date)
    conditions = [_on_or_before(column, at) if on_days else _by(column, at)]
    if project is not None and project_column is not None:
        conditions.append(project_column == project)
    if person is None:
        query = sa.select(column).where(*conditions)
    else:
        query = sa.select(sa.func.min(column)).where(*conditions).group_by(person)
    found = [value for value in (await session.execute(query)).scalars() if value is not None]
    return found if on_days else [value.astimezone(RIGA).date() for value in found]
