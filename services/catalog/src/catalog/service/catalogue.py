"""The public catalogue (no token needed) and the ratings read model surveys feeds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from prasmes_contracts.calls import CallOpened
from prasmes_contracts.surveys import ProgrammeRatingChanged
from prasmes_runtime.cache import ShortCache
from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db import catalogue as db
from catalog.db import groups as groups_db
from catalog.db import programmes as programmes_db
from catalog.db import providers as providers_db
from catalog.domain import catalogue as domain
from catalog.domain.catalogue import CatalogueEntry, CatalogueQuery, FundingCall, RatingSummary
from catalog.domain.groups import NO_OUTCOMES
from catalog.domain.programmes import Programme

# --------------------------------------------------------------------------- ratings (fed by surveys)


async def record_rating_summary(session: AsyncSession, summary: RatingSummary, clock: Clock) -> None:
    """The latest aggregate for one programme (surveys' ProgrammeRatingChanged)."""
    domain.validate_rating_summary(summary)
    await db.save_rating(session, summary, clock.now())


async def rating_changed(session: AsyncSession, event: ProgrammeRatingChanged, clock: Clock) -> None:
    """Surveys sends a programme's rating once it is public (enough completers rated it), then after every answer."""
    summary = RatingSummary(event.programme_id, event.raters, dict(event.aspects), event.mean)
    await record_rating_summary(session, summary, clock)


# --------------------------------------------------------------------------- calls (fed by calls)


async def call_opened(session: AsyncSession, event: CallOpened) -> None:
    """The funding project a call serves: its agreements' programmes are found by that project from now on."""
    await db.save_call(session, FundingCall(event.call_id, event.code, event.project_code, event.at))


# --------------------------------------------------------------------------- the public catalogue


async def _entries(session: AsyncSession, found: list[tuple[Programme, str]], today: date) -> list[CatalogueEntry]:
    ids = [p.id for p, _ in found]
    groups = await groups_db.upcoming_groups(session, ids, today)
    outcomes = await groups_db.outcome_counts(session, ids)
    ratings = await db.ratings(session, ids)
    projects = await db.funding_projects(session, ids)
    return [
        CatalogueEntry(
            programme=p,
            institution_name=name,
            groups=groups.get(p.id, []),
            rating=domain.public_rating(ratings.get(p.id)),
            outcomes=outcomes.get(p.id, NO_OUTCOMES),
            funding_projects=projects.get(p.id, []),
        )
        for p, name in found
    ]


SEARCH_SECONDS = 5.0
"""How long a search page is answered from memory. A change committed in this process is seen at once; one committed
by another (the worker's consumers counting an enrolment, a second api process) shows at most this much later. The
programme's own page is always read fresh, and an enrolment takes its place atomically whatever a page showed."""
_search_pages: ShortCache[tuple[CatalogueQuery, date, int], bytes] = ShortCache(SEARCH_SECONDS, entries=2_000)

Render = Callable[[list[CatalogueEntry], int], bytes]
"""The api's rendering of a page of entries and the total."""


async def search_page(database: Database, clock: Clock, query: CatalogueQuery, render: Render, cached: bool) -> bytes:
    """A page of the search as `render` writes it: from memory when the same search (on the same Riga day, with no
    commit in this process since) was answered in the last `SEARCH_SECONDS`, read from the database otherwise."""
    query.validate()
    today = today_in_riga(clock)

    async def read() -> bytes:
        async with database.session() as session:
            found, total = await db.search_programmes(session, query, today)
            return render(await _entries(session, found, today), total)

    if not cached:
        return await read()
    return await _search_pages.read(database, (query, today, database.commits), read)


async def public_programme(database: Database, clock: Clock, programme_id: uuid.UUID) -> CatalogueEntry:
    today = today_in_riga(clock)
    async with database.session() as session:
        programme = await programmes_db.programme_by_id(session, programme_id)
        if programme is None or not programme.published:
            raise NotFound(f"no published programme {programme_id}")
        names = await providers_db.institution_names(session, [programme.institution_id])
        (entry,) = await _entries(session, [(programme, names.get(programme.institution_id, ""))], today)
    return entry
