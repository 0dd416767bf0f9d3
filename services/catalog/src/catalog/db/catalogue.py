"""The public catalogue's search over published programmes, and the ratings read model (fed by surveys)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UNDECLARED, UtcDateTime, upsert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.common import metadata
from catalog.db.groups import study_groups, upcoming
from catalog.db.programmes import (
    agreement_programmes,
    agreements,
    programme_from_row,
    programme_qualifications,
    programmes,
    with_spec,
)
from catalog.db.providers import institutions
from catalog.domain.catalogue import CatalogueQuery, CatalogueSort, FundingCall, RatingSummary
from catalog.domain.common import search_key
from catalog.domain.programmes import AgreementStatus, Programme, ProgrammeStatus

programme_ratings = sa.Table(
    "programme_ratings",
    metadata,
    sa.Column("programme_id", sa.Uuid(), primary_key=True),
    sa.Column("raters", sa.Integer(), nullable=False),
    sa.Column("averages", sa.Text(), nullable=False),
    sa.Column("overall", sa.Numeric(2, 1), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.Uuid(), primary_key=True),
    sa.Column("code", sa.String(30), nullable=False),
    sa.Column("project_code", sa.String(30), nullable=False, index=True),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
)
"""Calls' CallOpened: the funding project of each call. Agreements keep their call id only, and may arrive before
their call: a programme's projects are joined at query time, so a call known later finds its programmes."""


# --------------------------------------------------------------------------- ratings


async def save_rating(session: AsyncSession, summary: RatingSummary, at: datetime) -> None:
    values = {
        "raters": summary.raters,
        "averages": json.dumps({k: str(v) for k, v in summary.averages.items()}),
        "overall": summary.overall,
        "updated_at": at,
    }
    await upsert(session, programme_ratings, {"programme_id": summary.programme_id}, values)


async def ratings(session: AsyncSession, programme_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, RatingSummary]:
    if not programme_ids:
        return {}
    query = sa.select(programme_ratings).where(programme_ratings.c.programme_id.in_(list(programme_ids)))
    return {
        r.programme_id: RatingSummary(
            r.programme_id,
            r.raters,
            {k: Decimal(v) for k, v in json.loads(r.averages).items()},
            None if r.overall is None else Decimal(r.overall),
        )
        for r in await session.execute(query)
    }


# --------------------------------------------------------------------------- calls and their funding projects


async def save_call(session: AsyncSession, call: FundingCall) -> None:
    values = {"code": call.code, "project_code": call.project_code, "opened_at": call.opened_at}
    await upsert(session, calls, {"call_id": call.call_id}, values)


def _signed_under_calls() -> sa.Select[tuple[uuid.UUID, str]]:
    """(programme id, project code) of every signed agreement whose call is known."""
    joined = agreement_programmes.join(agreements, agreements.c.offer_id == agreement_programmes.c.offer_id).join(
        calls, calls.c.call_id == agreements.c.call_id
    )
    return (
        sa.select(agreement_programmes.c.programme_id, calls.c.project_code)
        .select_from(joined)
        .where(agreements.c.status == AgreementStatus.SIGNED.value)
    )


async def funding_projects(session: AsyncSession, programme_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each programme's funding projects, sorted: those of the calls of its signed agreements."""
    if not programme_ids:
        return {}
    query = _signed_under_calls().where(agreement_programmes.c.programme_id.in_(list(programme_ids))).distinct()
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    for programme_id, project_code in await session.execute(query):
        found[programme_id].add(project_code)
    return {programme_id: sorted(codes) for programme_id, codes in found.items()}


def _project_filter(projects: Sequence[str]) -> sa.ColumnElement[bool]:
    signed = _signed_under_calls().where(
        agreement_programmes.c.programme_id == programmes.c.id, calls.c.project_code.in_(list(projects))
    )
    return signed.exists()


# --------------------------------------------------------------------------- the search index

TRIGRAM = 3
"""An index of trigrams answers a word of three characters or more; a shorter one is matched on the rows it
left (or, alone, on every published programme)."""

programme_search = sa.table("programme_search", sa.column("programme_id", sa.Uuid()), sa.column("search_text"))
"""SQLite: the FTS5 (trigram) table revision 0005 made and its triggers keep in step with `programmes`."""

SEARCH_INDEX = frozenset(
    {
        "ix_programmes_search_trgm",  # PostgreSQL: GIN (search_text gin_trgm_ops)
        "programme_search",  # SQLite: the FTS5 table, and its shadow tables below
        *(f"programme_search_{shadow}" for shadow in ("data", "idx", "content", "docsize", "config")),
    }
)
"""What revision 0005 made for the word search that `metadata` cannot declare: migration checks skip these names."""
metadata.info[UNDECLARED] = SEARCH_INDEX


NO_SCAN = sa.text("SET LOCAL enable_seqscan = off")
"""PostgreSQL costs a `LIKE` as one operator whatever the text's length, so when a word is common ("datu" is in
every programme of the bench) it prefers scanning 5 000 texts (30 ms) to the GIN index and a recheck of the
rows it gives (1 ms). The search's read-only transaction tells it not to scan (`LOCAL`: until the transaction
ends; the other tables of the search are read by their indexes either way)."""


async def _prefer_the_index(session: AsyncSession, query: CatalogueQuery, dialect: str) -> None:
    if dialect == "postgresql" and any(len(w) >= TRIGRAM for w in query.words):
        await session.execute(NO_SCAN)


def _word_match(dialect: str, words: Sequence[str]) -> list[sa.ColumnElement[bool]]:
    """Every word a substring of the programme's search text. The words a trigram index answers select the
    programmes in a statement of their own (SQLite: a phrase query of the FTS5 table per word; PostgreSQL: the
    `LIKE`s through the GIN index, in a MATERIALIZED CTE so that the planner cannot move them onto a scan in the
    order of the sort); a shorter word is then matched on the rows that are left."""
    indexed = [w for w in words if len(w) >= TRIGRAM]
    short = [w for w in words if len(w) < TRIGRAM] if indexed else list(words)
    conditions = [programmes.c.search_text.contains(word, autoescape=True) for word in short]
    if indexed:
        conditions.insert(0, programmes.c.id.in_(_indexed_match(dialect, indexed)))
    return conditions


def _indexed_match(dialect: str, words: Sequence[str]) -> sa.Select[tuple[uuid.UUID]]:
    if dialect == "sqlite":
        phrases = " AND ".join(f'"{word}"' for word in words)  # words are \w+: no quote to escape
        return sa.select(programme_search.c.programme_id).where(programme_search.c.search_text.match(phrases))
    texts = programmes.alias("texts")
    likes = [texts.c.search_text.contains(word, autoescape=True) for word in words]
    found = sa.select(texts.c.id).where(*likes).cte("word_matches").prefix_with("MATERIALIZED", dialect="postgresql")
    return sa.select(found.c.id)


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


def _public_filter(query: CatalogueQuery, today: date, dialect: str) -> list[sa.ColumnElement[bool]]:
    conditions = [programmes.c.status == ProgrammeStatus.PUBLISHED.value, *_word_match(dialect, query.words)]
    if query.digcomp_levels:
        conditions.append(programmes.c.digcomp_level.in_(query.digcomp_levels))
    if query.form:
        conditions.append(programmes.c.form == query.form.value)
    if query.languages:
        conditions.append(programmes.c.language.in_(query.languages))
    if query.projects:
        conditions.append(_project_filter(query.projects))
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
        CatalogueSort.START: [earliest.asc().nulls_last()],
        CatalogueSort.NEWEST: [programmes.c.published_at.desc()],
    }
    keys = [*by[query.sort], programmes.c.title_key, programmes.c.id]
    return list({id(key): key for key in keys}.values())  # once each: by title, the index's order exactly


async def search_programmes(
    session: AsyncSession, query: CatalogueQuery, today: date
) -> tuple[list[tuple[Programme, str]], int]:
    """One page of published programmes (with their institution's name) and the total that match: the page is
    chosen on the narrow `programmes` rows, and only its programmes are read in full."""
    dialect = session.get_bind().dialect.name
    await _prefer_the_index(session, query, dialect)
    ids, total = await _page_ids(session, query, today, _public_filter(query, today, dialect))
    if not ids:
        return [], total
    page = (
        with_spec(institutions.c.name.label("institution_name"))
        .join(institutions, institutions.c.id == programmes.c.institution_id)
        .where(programmes.c.id.in_(ids))
    )
    found = {r.id: (programme_from_row(r), r.institution_name) for r in (await session.execute(page)).all()}
    return [found[i] for i in ids if i in found], total


async def _page_ids(
    session: AsyncSession, query: CatalogueQuery, today: date, conditions: list[sa.ColumnElement[bool]]
) -> tuple[list[uuid.UUID], int]:
    """The ids of the page, in order, and the total. A filter that reads rows (words, groups) is evaluated
    once, the total counted beside the page (a window over the matches); one that indexes answer alone is
    counted from the index, and the page read in the index's order."""
    chosen = sa.select(programmes.c.id).where(*conditions).order_by(*_order(query, today))
    chosen = chosen.limit(query.limit).offset(query.offset)
    if query.words or query.filters_groups:
        rows = (await session.execute(chosen.add_columns(sa.func.count().over().label("total")))).all()
        if rows or not query.offset:
            return [r.id for r in rows], rows[0].total if rows else 0
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(programmes).where(*conditions)) or 0)
    if total <= query.offset:
        return [], total
    return list((await session.scalars(chosen)).all()), total
