"""The public catalogue's search over published programmes, and the ratings read model (fed by surveys)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime, upsert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.common import metadata
from catalog.db.groups import study_groups, upcoming
from catalog.db.programmes import programme_from_row, programme_qualifications, programmes, with_spec
from catalog.db.providers import institutions
from catalog.domain.catalogue import CatalogueQuery, CatalogueSort, RatingSummary
from catalog.domain.common import search_key
from catalog.domain.programmes import Programme, ProgrammeStatus

programme_ratings = sa.Table(
    "programme_ratings",
    metadata,
    sa.Column("programme_id", sa.Uuid(), primary_key=True),
    sa.Column("raters", sa.Integer(), nullable=False),
    sa.Column("averages", sa.Text(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)


# --------------------------------------------------------------------------- ratings


async def save_rating(session: AsyncSession, summary: RatingSummary, at: datetime) -> None:
    values = {
        "raters": summary.raters,
        "averages": json.dumps({k: str(v) for k, v in summary.averages.items()}),
        "updated_at": at,
    }
    await upsert(session, programme_ratings, {"programme_id": summary.programme_id}, values)


async def ratings(session: AsyncSession, programme_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RatingSummary]:
    if not programme_ids:
        return {}
    query = sa.select(programme_ratings).where(programme_ratings.c.programme_id.in_(list(programme_ids)))
    return {
        r.programme_id: RatingSummary(
            r.programme_id, r.raters, {k: Decimal(v) for k, v in json.loads(r.averages).items()}
        )
        for r in await session.execute(query)
    }


# --------------------------------------------------------------------------- the search


def _group_filter(query: CatalogueQuery, today: date) -> sa.ColumnElement[bool]:
    conditions = [study_groups.c.programme_id == programmes.c.id, upcoming(today)]
    if query.city:
        conditions.append(study_groups.c.city_key == search_key(query.city))
    if query.starts_from:
        conditions.append(study_groups.c.start_date >= query.starts_from)
    if query.starts_until:
        conditions.append(study_groups.c.start_date <= query.starts_until)
    if query.free_places:
        conditions.append(study_groups.c.free_places > 0)
    return sa.exists().where(*conditions)


def _public_filter(query: CatalogueQuery, today: date) -> list[sa.ColumnElement[bool]]:
    conditions = [programmes.c.status == ProgrammeStatus.PUBLISHED.value]
    conditions += [programmes.c.search_text.contains(word, autoescape=True) for word in query.words]
    if query.digcomp_levels:
        conditions.append(programmes.c.digcomp_level.in_(query.digcomp_levels))
    if query.form:
        conditions.append(programmes.c.form == query.form.value)
    if query.qualification:
        conditions.append(
            sa.exists().where(
                programme_qualifications.c.programme_id == programmes.c.id,
                programme_qualifications.c.qualification == query.qualification,
            )
        )
    if query.filters_groups:
        conditions.append(_group_filter(query, today))
    return conditions


def _order(query: CatalogueQuery, today: date) -> list[sa.ColumnElement[Any]]:
    earliest = (
        sa.select(sa.func.min(study_groups.c.start_date))
        .where(study_groups.c.programme_id == programmes.c.id, upcoming(today))
        .scalar_subquery()
    )
    by: dict[CatalogueSort, list[sa.ColumnElement[Any]]] = {
        CatalogueSort.TITLE: [programmes.c.title_key],
        CatalogueSort.COST: [programmes.c.cost_per_participant],
        CatalogueSort.COST_DESC: [programmes.c.cost_per_participant.desc()],
        CatalogueSort.HOURS: [programmes.c.total_hours],
        CatalogueSort.HOURS_DESC: [programmes.c.total_hours.desc()],
        CatalogueSort.START: [earliest.is_(None), earliest],
        CatalogueSort.NEWEST: [programmes.c.published_at.desc()],
    }
    return [*by[query.sort], programmes.c.title_key, programmes.c.id]


async def search_programmes(
    session: AsyncSession, query: CatalogueQuery, today: date
) -> tuple[list[tuple[Programme, str]], int]:
    """One page of published programmes (with their institution's name) and the total that match."""
    conditions = _public_filter(query, today)
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(programmes).where(*conditions)) or 0)
    if total <= query.offset:
        return [], total
    page = (
        with_spec(institutions.c.name.label("institution_name"))
        .join(institutions, institutions.c.id == programmes.c.institution_id)
        .where(*conditions)
        .order_by(*_order(query, today))
        .limit(query.limit)
        .offset(query.offset)
    )
    rows = (await session.execute(page)).all()
    return [(programme_from_row(r), r.institution_name) for r in rows], total
