"""Calls: their timeline, criteria and learning needs (JSON in text columns), and the phase last announced."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db.common import Row, dumps, loads, metadata
from calls.domain.calls import Call, CallPhase, Criterion, LearningNeed, Timeline

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("code", sa.String(30), nullable=False, unique=True),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("project_code", sa.String(30), nullable=False),
    sa.Column("applications_open_on", sa.Date(), nullable=False),
    sa.Column("applications_close_on", sa.Date(), nullable=False),
    sa.Column("offers_open_at", UtcDateTime(), nullable=False),
    sa.Column("offers_deadline_at", UtcDateTime(), nullable=False),
    sa.Column("evaluation_starts_on", sa.Date(), nullable=False),
    sa.Column("evaluation_ends_on", sa.Date(), nullable=False),
    sa.Column("decision_on", sa.Date(), nullable=False),
    sa.Column("agreements_from", sa.Date(), nullable=False),
    sa.Column("publication_from", sa.Date(), nullable=False),
    sa.Column("delivery_ends_on", sa.Date(), nullable=False),
    sa.Column("max_programmes_per_institution", sa.Integer(), nullable=False),
    sa.Column("institution_criteria", sa.Text(), nullable=False),
    sa.Column("programme_criteria", sa.Text(), nullable=False),
    sa.Column("learning_needs", sa.Text(), nullable=False),
    sa.Column("needs_approved_on", sa.Date(), nullable=True),
    sa.Column("phase", sa.String(20), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)
TIMELINE_COLUMNS = tuple(Timeline.__dataclass_fields__)


def _criteria(items: tuple[Criterion, ...]) -> str:
    return dumps([{"code": c.code, "rule": c.rule, "params": dict(c.params), "source": c.source} for c in items])


def _needs(needs: tuple[LearningNeed, ...]) -> str:
    return dumps([{"code": n.code, "title": dict(n.title)} for n in needs])


def _values(call: Call) -> dict[str, Any]:
    return {
        "code": call.code,
        "title": dumps(dict(call.title)),
        "project_code": call.project_code,
        **{name: getattr(call.timeline, name) for name in TIMELINE_COLUMNS},
        "max_programmes_per_institution": call.max_programmes_per_institution,
        "institution_criteria": _criteria(call.institution_criteria),
        "programme_criteria": _criteria(call.programme_criteria),
        "learning_needs": _needs(call.learning_needs),
        "needs_approved_on": call.needs_approved_on,
        "phase": call.phase,
        "created_at": call.created_at,
    }


def _call(row: Row) -> Call:
    m = row._mapping
    return Call(
        id=m["id"],
        code=m["code"],
        title=loads(m["title"]),
        project_code=m["project_code"],
        timeline=Timeline(**{name: m[name] for name in TIMELINE_COLUMNS}),
        max_programmes_per_institution=m["max_programmes_per_institution"],
        institution_criteria=tuple(Criterion(**c) for c in loads(m["institution_criteria"])),
        programme_criteria=tuple(Criterion(**c) for c in loads(m["programme_criteria"])),
        learning_needs=tuple(LearningNeed(n["code"], n["title"]) for n in loads(m["learning_needs"])),
        needs_approved_on=m["needs_approved_on"],
        phase=m["phase"],
        created_at=m["created_at"],
    )


async def insert_call(session: AsyncSession, call: Call) -> None:
    await session.execute(calls.insert().values(id=call.id, **_values(call)))


async def call_by_id(session: AsyncSession, call_id: uuid.UUID) -> Call | None:
    row = (await session.execute(calls.select().where(calls.c.id == call_id))).first()
    return None if row is None else _call(row)


async def call_by_code(session: AsyncSession, code: str) -> Call | None:
    row = (await session.execute(calls.select().where(calls.c.code == code))).first()
    return None if row is None else _call(row)


async def list_calls(session: AsyncSession, limit: int, offset: int) -> tuple[list[Call], int]:
    total = await session.scalar(sa.select(sa.func.count()).select_from(calls))
    query = calls.select().order_by(calls.c.offers_open_at.desc(), calls.c.code).limit(limit).offset(offset)
    return [_call(r) for r in await session.execute(query)], int(total or 0)


async def open_calls(session: AsyncSession) -> list[Call]:
    """Calls whose phase may still change (not closed)."""
    return [_call(r) for r in await session.execute(calls.select().where(calls.c.phase != "closed"))]


async def move_phase(session: AsyncSession, call_id: uuid.UUID, expected: CallPhase, to: CallPhase) -> bool:
    """Record the call's new phase unless another transaction did first (then nothing is announced twice)."""
    result = await session.execute(
        calls.update().where(calls.c.id == call_id, calls.c.phase == expected).values(phase=to)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_learning_needs(
    session: AsyncSession, call_id: uuid.UUID, needs: tuple[LearningNeed, ...], approved_on: date
) -> None:
    await session.execute(
        calls.update().where(calls.c.id == call_id).values(learning_needs=_needs(needs), needs_approved_on=approved_on)
    )
