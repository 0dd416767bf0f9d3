"""Results for institutions and the agency, read from the tallies each answer updates; the public rating each
completion answer moves; the agency's quality flags (raised and cleared as every counting moves them) and exports;
the read models they need."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from prasmes_contracts.surveys import ProgrammeRatingChanged, QualityFlagCleared, QualityFlagRaised
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal
from prasmes_runtime.cache import ShortCache
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Forbidden, NotFound
from prasmes_runtime.outbox import record_event
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.db import results as db
from surveys.db import surveys as survey_rows
from surveys.domain.results import (
    MIN_SHOWN,
    CounterKey,
    Flag,
    Level,
    QualityRules,
    Results,
    Scope,
    answer_counters,
    flag_changes,
    invitation_counters,
    quality_flags,
    rating,
    results,
    scopes_of,
    tally,
)
from surveys.domain.surveys import Survey

TOO_FEW = f"shown to the institution only when at least {MIN_SHOWN} people answered, so that no one is singled out"


# --------------------------------------------------------------------------- the cache of what was read

Read = tuple[Results, uuid.UUID | None]
"""A scope's results and the institution it belongs to."""
scope_cache: ShortCache[Scope, Read] = ShortCache()
"""A scope's results, for 5 s (`prasmes_runtime.cache.ShortCache`)."""
member_cache: ShortCache[str, set[uuid.UUID]] = ShortCache()


# --------------------------------------------------------------------------- tallying (in the writer's transaction)


async def _count(
    session: AsyncSession, survey: Survey, keys: Iterable[CounterKey], rules: QualityRules, now: datetime
) -> Results:
    """One more for each of `keys` in every scope of the survey's enrolment (and those scopes' cache forgotten); the
    programme's flags as its counters now stand. Its results, read once, for the rating too."""
    e = survey.enrolment
    scopes = scopes_of(e)
    scope_cache.forget_on_commit(session, scopes)
    await db.add_to(session, scopes, tally(keys), e.institution_id)
    counts, _ = await db.counts(session, "programme", str(e.programme_id))
    outcome = results(counts)
    await publish_flags(session, e.programme_id, e.institution_id, outcome, rules, now)
    return outcome


async def count_invitation(session: AsyncSession, survey: Survey, rules: QualityRules) -> None:
    """An invitation moves the programme's dropout rate (who ended their studies, who of them discontinued)."""
    await _count(session, survey, invitation_counters(survey), rules, survey.invited_at)


async def count_answer(session: AsyncSession, survey: Survey, rules: QualityRules, now: datetime) -> None:
    """The answer's counters in every scope and its programme's flags; a completion answer moves its programme's
    rating, an event once the rating is public."""
    outcome = await _count(session, survey, answer_counters(survey, survey.digcomp_before), rules, now)
    if survey.kind == "completion":
        e = survey.enrolment
        await publish_rating(session, e.programme_id, e.institution_id, outcome, rules.min_raters, now)


async def programme_counted(
    session: AsyncSession, programme_id: uuid.UUID, institution_id: uuid.UUID, rules: QualityRules, now: datetime
) -> None:
    """After the programme's counters were added to in bulk (the demo's replay): its rating and its flags."""
    counts, _ = await db.counts(session, "programme", str(programme_id))
    outcome = results(counts)
    await publish_rating(session, programme_id, institution_id, outcome, rules.min_raters, now)
    await publish_flags(session, programme_id, institution_id, outcome, rules, now)


async def publish_rating(
    session: AsyncSession,
    programme_id: uuid.UUID,
    institution_id: uuid.UUID,
    outcome: Results,
    min_raters: int,
    now: datetime,
) -> None:
    """The programme's rating from its results, an event once it is public."""
    current = rating(programme_id, outcome, min_raters)
    if not current.public or current.mean is None:
        return
    event = ProgrammeRatingChanged(
        programme_id=programme_id,
        institution_id=institution_id,
        raters=current.raters,
        public=current.public,
        mean=current.mean,
        aspects=current.aspects,
        at=now.astimezone(UTC),
    )
    await record_event(session, event)


async def publish_flags(
    session: AsyncSession,
    programme_id: uuid.UUID,
    institution_id: uuid.UUID,
    outcome: Results,
    rules: QualityRules,
    now: datetime,
) -> None:
    """The programme's flags against those that stand: one newly crossing is kept and raised, one no longer crossing
    dropped and cleared, each with its event; one still crossing changes nothing (its row keeps the figure it was
    raised with). An event only from the transaction that changed the row: two countings at once raise a flag once."""
    changes = flag_changes(outcome, rules, await db.standing_flags(session, programme_id))
    at = now.astimezone(UTC)
    for flag in changes.raised:
        if await db.raise_flag(session, programme_id, institution_id, flag, at):
            await record_event(session, _flag_event(QualityFlagRaised, programme_id, institution_id, flag, at))
    for flag in changes.cleared:
        if await db.clear_flag(session, programme_id, flag.reason):
            await record_event(session, _flag_event(QualityFlagCleared, programme_id, institution_id, flag, at))


def _flag_event(
    event_class: type[QualityFlagRaised] | type[QualityFlagCleared],
    programme_id: uuid.UUID,
    institution_id: uuid.UUID,
    flag: Flag,
    at: datetime,
) -> QualityFlagRaised | QualityFlagCleared:
    return event_class(
        programme_id=programme_id,
        institution_id=institution_id,
        reason=flag.reason,
        value=flag.value,
        threshold=flag.threshold,
        over=flag.over,
        at=at,
    )


async def level_before(session: AsyncSession, survey: Survey) -> Decimal | None:
    by = survey.invited_at.date()
    return await db.level_before(session, survey.enrolment.learner_id, survey.enrolment.enrolment_id, by)


# --------------------------------------------------------------------------- access and reading


@dataclass(frozen=True)
class ScopeResults:
    scope: Scope
    institution_id: uuid.UUID | None
    results: Results
    withheld: bool
    """Some of it withheld from the institution (fewer than MIN_SHOWN answered a kind)."""


def _is_agency(user: Principal) -> bool:
    return user.has_any(roles.AGENCY)


async def _readable(database: Database, user: Principal, scope: Scope) -> tuple[Results, uuid.UUID | None, bool]:
    """The scope's results as the user may see them: all for the agency; for an institution's users, their own
    institution's scopes only, each kind's figures only when enough answered (a group with too few is refused)."""
    if scope.level == "all" and not _is_agency(user):
        raise Forbidden("the platform's results are for the agency")
    outcome, owner = await _read(database, scope)
    if scope.level != "all" and owner is None:
        if scope.level == "institution" and not _is_agency(user):
            await _member(database, user, uuid.UUID(scope.scope_id))
        raise NotFound(f"no survey results for {scope.level} {scope.scope_id}")
    if _is_agency(user):
        return outcome, owner, False
    assert owner is not None
    await _member(database, user, owner)
    shown = outcome.withheld_below(MIN_SHOWN)
    if scope.level == "group" and shown.completion is None and shown.discontinuation is None:
        raise Forbidden(f"a group's results are {TOO_FEW}")
    return shown, owner, shown != outcome


# Each read has a session of its own, given back as soon as it is done: a request that waits for another's read
# holds no connection meanwhile (requests holding connections while waiting for a read that needs one had starved
# the pool).


async def _read(database: Database, scope: Scope) -> Read:
    async def read() -> Read:
        async with database.session() as session:
            counts, owner = await db.counts(session, scope.level, scope.scope_id)
        return results(counts), owner

    return await scope_cache.read(database, scope, read)


async def _member(database: Database, user: Principal, institution_id: uuid.UUID) -> None:
    async def read() -> set[uuid.UUID]:
        async with database.session() as session:
            return await db.institutions_of(session, user.subject)

    institutions = await member_cache.read(database, user.subject, read)
    if institution_id not in institutions:
        raise Forbidden("these are another institution's results")


async def scope_results(database: Database, user: Principal, scope: Scope) -> ScopeResults:
    outcome, owner, withheld = await _readable(database, user, scope)
    return ScopeResults(scope, owner, outcome, withheld)


async def comments(
    database: Database, user: Principal, scope: Scope, limit: int, offset: int
) -> tuple[list[Survey], int]:
    """The free texts of the scope's answers, newest first, under the same rule as its figures: of the kinds whose
    figures the user sees."""
    outcome, _, _ = await _readable(database, user, scope)
    async with database.session() as session:
        blocks = {"completion": outcome.completion, "discontinuation": outcome.discontinuation}
        kinds = [k for k, block in blocks.items() if block is not None or _is_agency(user)]
        if not kinds:
            raise Forbidden(f"comments are {TOO_FEW}")
        return await survey_rows.commented(session, scope.level, scope.scope_id, kinds, limit, offset)


@dataclass(frozen=True)
class GroupScope:
    """A group of the institution with surveys: its programme, and whether the institution may see its results."""

    group_id: uuid.UUID
    programme_id: uuid.UUID
    shown: bool


async def institution_groups(database: Database, user: Principal, institution_id: uuid.UUID) -> list[GroupScope]:
    """The institution's groups that have surveys (the pages link to their results; a group the catalog no longer
    lists included), for its own users and the agency. A group is `shown` when a kind has at least MIN_SHOWN
    answers, as its results are; how many answered is not said (a small group's count is its results)."""
    if not _is_agency(user):
        await _member(database, user, institution_id)
    async with database.session() as session:
        rows = await survey_rows.groups_of_institution(session, institution_id)
    most: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for programme_id, group_id, _, answered in rows:
        most[(programme_id, group_id)] = max(most.get((programme_id, group_id), 0), int(answered or 0))
    return [GroupScope(g, p, n >= MIN_SHOWN or _is_agency(user)) for (p, g), n in most.items()]


# --------------------------------------------------------------------------- the agency


@dataclass(frozen=True)
class FlaggedProgramme:
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    title: str | None
    results: Results
    flags: list[Flag]


async def flagged(database: Database, rules: QualityRules) -> list[FlaggedProgramme]:
    """Programmes with a low rating, a high dropout rate or a high share of "the description did not match"."""
    async with database.session() as session:
        every = await db.counts_of_level(session, "programme")
        found = []
        for scope_id, (counts, institution) in every.items():
            outcome = results(counts)
            if flags := quality_flags(outcome, rules):
                found.append((scope_id, institution, outcome, flags))
        titles = await db.programme_titles(session, [f[0] for f in found])
    ordered = sorted(found, key=lambda f: (-len(f[3]), f[0]))
    return [FlaggedProgramme(uuid.UUID(p), i, titles.get(p), r, fl) for p, i, r, fl in ordered]


async def level_results(database: Database, level: Level) -> list[tuple[str, uuid.UUID | None, str | None, Results]]:
    """Every scope of a level with its results (and a programme's title): the agency's aggregates export."""
    async with database.session() as session:
        every = await db.counts_of_level(session, level)
        titles = await db.programme_titles(session, every) if level == "programme" else {}
    return [(s, i, titles.get(s), results(c)) for s, (c, i) in sorted(every.items())]


async def submitted_answers(database: Database) -> AsyncIterator[Survey]:
    async with database.session() as session:
        async for survey in survey_rows.submitted(session):
            yield survey


# --------------------------------------------------------------------------- read models (consumers)


async def provider_user_added(session: AsyncSession, user_id: str, institution_id: uuid.UUID) -> None:
    member_cache.forget_on_commit(session, [user_id])
    await db.add_provider_user(session, user_id, institution_id)


async def provider_user_removed(session: AsyncSession, user_id: str, institution_id: uuid.UUID) -> None:
    member_cache.forget_on_commit(session, [user_id])
    await db.remove_provider_user(session, user_id, institution_id)


async def programme_registered(
    session: AsyncSession, programme_id: uuid.UUID, institution: uuid.UUID, title: str
) -> None:
    await db.save_programme(session, programme_id, institution, title)


async def assessed(session: AsyncSession, learner_id: str, assessed_on: date, level: Decimal) -> None:
    await db.save_assessment(session, learner_id, assessed_on, level)


async def studies_started(session: AsyncSession, enrolment_id: uuid.UUID, started_on: date) -> None:
    await db.save_start(session, enrolment_id, started_on)
