"""The tallies of every scope, the agency's quality flags that stand, and what surveys keeps of other services'
events: who acts for which institution and the programmes' titles (catalog), the learners' DigComp self-assessments
and when their studies started (accounts)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime, upsert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.db.surveys import metadata
from surveys.domain.results import CounterKey, Flag, FlagReason, Level, Scope

tallies = sa.Table(
    "tallies",
    metadata,
    sa.Column("level", sa.String(12), primary_key=True),
    sa.Column("scope_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("metric", sa.String(40), primary_key=True),
    sa.Column("bucket", sa.String(10), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), nullable=True),
    sa.Column("count", sa.Integer(), nullable=False),
)

raised_flags = sa.Table(
    "raised_flags",
    metadata,
    sa.Column("programme_id", sa.Uuid(), primary_key=True),
    sa.Column("reason", sa.String(30), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("value", sa.Numeric(4, 1), nullable=False),
    sa.Column("threshold", sa.Numeric(6, 2), nullable=False),
    sa.Column("over", sa.Integer(), nullable=False),
    sa.Column("raised_at", UtcDateTime(), nullable=False),
)
"""A programme's flag from the counting that raised it until the one that clears it, with the figure it was raised
with."""

provider_users = sa.Table(
    "provider_users",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
)

programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("programme_id", sa.Uuid(), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
)

assessments = sa.Table(
    "digcomp_assessments",
    metadata,
    sa.Column("learner_id", sa.String(64), primary_key=True),
    sa.Column("assessed_on", sa.Date(), primary_key=True),
    sa.Column("level", sa.Numeric(3, 1), nullable=False),
)

study_starts = sa.Table(
    "study_starts",
    metadata,
    sa.Column("enrolment_id", sa.Uuid(), primary_key=True),
    sa.Column("started_on", sa.Date(), nullable=False),
)

_KEY = ("level", "scope_id", "kind", "metric", "bucket")


async def add_to(
    session: AsyncSession, scopes: Sequence[Scope], added: Mapping[CounterKey, int], institution_id: uuid.UUID
) -> None:
    """Add to counters of every scope, in one statement (an upsert: the first answer creates the row)."""
    rows = [
        {
            "level": s.level,
            "scope_id": s.scope_id,
            "kind": kind,
            "metric": metric,
            "bucket": bucket,
            "institution_id": None if s.level == "all" else institution_id,
            "count": n,
        }
        for s in scopes
        for (kind, metric, bucket), n in added.items()
    ]
    insert = (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert(tallies).values(rows)
    await session.execute(
        insert.on_conflict_do_update(index_elements=list(_KEY), set_={"count": tallies.c.count + insert.excluded.count})
    )


async def counts(session: AsyncSession, level: Level, scope_id: str) -> tuple[dict[CounterKey, int], uuid.UUID | None]:
    """The scope's counters and the institution it belongs to (None for the platform, or a scope with no survey)."""
    query = sa.select(
        tallies.c.kind, tallies.c.metric, tallies.c.bucket, tallies.c.count.label("n"), tallies.c.institution_id
    )
    rows = (await session.execute(query.where(tallies.c.level == level, tallies.c.scope_id == scope_id))).all()
    owner = next((r.institution_id for r in rows), None)
    return {(r.kind, r.metric, r.bucket): r.n for r in rows}, owner


async def counts_of_level(session: AsyncSession, level: Level) -> dict[str, tuple[dict[CounterKey, int], uuid.UUID]]:
    """Every scope of a level: scope id -> (its counters, its institution). For the agency's lists."""
    out: dict[str, tuple[dict[CounterKey, int], uuid.UUID]] = {}
    query = sa.select(tallies).where(tallies.c.level == level)
    for r in await session.execute(query):
        counters, _ = out.setdefault(r.scope_id, ({}, r.institution_id))
        counters[(r.kind, r.metric, r.bucket)] = r._mapping["count"]
    return out


# --------------------------------------------------------------------------- quality flags


async def standing_flags(session: AsyncSession, programme_id: uuid.UUID) -> list[Flag]:
    query = sa.select(raised_flags).where(raised_flags.c.programme_id == programme_id)
    return [
        Flag(r.reason, Decimal(r.value), Decimal(r.threshold), r.over)
        for r in await session.execute(query.order_by(raised_flags.c.reason))
    ]


async def raise_flag(
    session: AsyncSession, programme_id: uuid.UUID, institution_id: uuid.UUID, flag: Flag, at: datetime
) -> bool:
    """Whether this transaction raised it (a concurrent one that raised it first wins, this one inserts nothing)."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    insert = (
        dialect.insert(raised_flags)
        .values(
            programme_id=programme_id,
            reason=flag.reason,
            institution_id=institution_id,
            value=flag.value,
            threshold=flag.threshold,
            over=flag.over,
            raised_at=at,
        )
        .on_conflict_do_nothing()
    )
    return (await session.execute(insert.returning(raised_flags.c.reason))).first() is not None


async def clear_flag(session: AsyncSession, programme_id: uuid.UUID, reason: FlagReason) -> bool:
    """Whether this transaction cleared it (not one that ran at the same time)."""
    where = (raised_flags.c.programme_id == programme_id, raised_flags.c.reason == reason)
    deleted = await session.execute(raised_flags.delete().where(*where).returning(raised_flags.c.reason))
    return deleted.first() is not None


# --------------------------------------------------------------------------- read models


async def add_provider_user(session: AsyncSession, user_id: str, institution_id: uuid.UUID) -> None:
    await remove_provider_user(session, user_id, institution_id)  # portable "insert unless there"
    await session.execute(provider_users.insert().values(user_id=user_id, institution_id=institution_id))


async def remove_provider_user(session: AsyncSession, user_id: str, institution_id: uuid.UUID) -> None:
    where = (provider_users.c.user_id == user_id, provider_users.c.institution_id == institution_id)
    await session.execute(provider_users.delete().where(*where))


async def institutions_of(session: AsyncSession, user_id: str) -> set[uuid.UUID]:
    query = sa.select(provider_users.c.institution_id).where(provider_users.c.user_id == user_id)
    return set(await session.scalars(query))


async def save_programme(session: AsyncSession, programme_id: uuid.UUID, institution_id: uuid.UUID, title: str) -> None:
    values = {"institution_id": institution_id, "title": title}
    await upsert(session, programmes, {"programme_id": programme_id}, values)


async def programme_titles(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    wanted = [uuid.UUID(i) for i in ids]
    query = sa.select(programmes.c.programme_id, programmes.c.title).where(programmes.c.programme_id.in_(wanted))
    return {str(r.programme_id): r.title for r in await session.execute(query)}


async def save_assessment(session: AsyncSession, learner_id: str, assessed_on: date, level: Decimal) -> None:
    """The day's latest self-assessment of the learner (a second one on a day replaces the first)."""
    await upsert(session, assessments, {"learner_id": learner_id, "assessed_on": assessed_on}, {"level": level})


async def save_start(session: AsyncSession, enrolment_id: uuid.UUID, started_on: date) -> None:
    await upsert(session, study_starts, {"enrolment_id": enrolment_id}, {"started_on": started_on})


async def level_before(session: AsyncSession, learner_id: str, enrolment_id: uuid.UUID, by: date) -> Decimal | None:
    """The learner's latest self-assessment up to the start of the enrolment's studies (or `by`, the start unknown)."""
    started = await session.scalar(
        sa.select(study_starts.c.started_on).where(study_starts.c.enrolment_id == enrolment_id)
    )
    query = (
        sa.select(assessments.c.level)
        .where(assessments.c.learner_id == learner_id, assessments.c.assessed_on <= (started or by))
        .order_by(assessments.c.assessed_on.desc())
        .limit(1)
    )
    level: Any = await session.scalar(query)
    return None if level is None else Decimal(level)
