"""Development only: the seed's survey answers replayed for the demo's programme, so that `make run` shows the
seed's results, charts and a public rating. Safe to run again: the seed's enrolments are known by their ids."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from prasmes_runtime.db import Database

from surveys.db import results as tallies
from surveys.db import surveys as db
from surveys.domain.answers import Answers
from surveys.domain.questionnaires import Kind
from surveys.domain.results import CounterKey, QualityRules, answer_counters, invitation_counters, scopes_of
from surveys.domain.seed import (
    SEED_COMPLETERS,
    SEED_DISCONTINUED,
    seed_completion_answers,
    seed_discontinuation_answers,
)
from surveys.domain.surveys import Enrolment, Survey, Timing
from surveys.service.results import programme_counted

SEED = uuid.UUID("5f1d7a52-3c2e-4d57-9a84-2f4f0a6c2025")
"""The namespace of the seed's enrolment ids: the same programme gets the same enrolments every run."""


@dataclass(frozen=True)
class Replay:
    invited: int
    answered: int
    already_done: bool


def _surveys(
    place: Enrolment, kind: Kind, invited: int, answers: list[Answers], now: datetime, timing: Timing
) -> list[Survey]:
    made = []
    for i in range(invited):
        enrolment_id = uuid.uuid5(SEED, f"{place.programme_id}/{kind}/{i}")
        enrolment = Enrolment(
            enrolment_id,
            f"demo-{enrolment_id.hex[:12]}",
            place.project_code,
            place.programme_id,
            place.group_id,
            place.institution_id,
        )
        survey = Survey.invite(enrolment, kind, now, timing)
        made.append(survey.submit(answers[i], now) if i < len(answers) else survey)
    return made


async def replay_seed(
    database: Database, place: Enrolment, now: datetime, timing: Timing, rules: QualityRules
) -> Replay:
    """The seed's 2 096 completers (1 446 answered) and 246 who discontinued (69 answered) in the place's group;
    the programme's rating and flags from the counters as they then stand."""
    now = now.astimezone(UTC)
    every = _surveys(place, "completion", SEED_COMPLETERS, seed_completion_answers(), now, timing) + _surveys(
        place, "discontinuation", SEED_DISCONTINUED, seed_discontinuation_answers(), now, timing
    )
    answered = sum(s.status == "submitted" for s in every)
    async with database.transaction() as session:
        if await db.exists(session, every[0].enrolment.enrolment_id):
            return Replay(len(every), answered, already_done=True)
        await db.add_many(session, every)
        added: Counter[CounterKey] = Counter()
        for survey in every:
            added.update(invitation_counters(survey))
            if survey.status == "submitted":
                added.update(answer_counters(survey, None))
        await tallies.add_to(session, scopes_of(place), added, place.institution_id)
        await programme_counted(session, place.programme_id, place.institution_id, rules, now)
    return Replay(len(every), answered, already_done=False)
