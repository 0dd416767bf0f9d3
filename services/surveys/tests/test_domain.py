"""The questionnaires' rules and the aggregates, with the seed's figures (DOMAIN.md: studies and surveys)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from prasmes_runtime.errors import Conflict, InvalidInput
from surveys.domain.aggregates import completion_results, reason_shares
from surveys.domain.answers import checked
from surveys.domain.questionnaires import ASPECTS, COMPLETION_V1, DISCONTINUATION_V1, LANGUAGES, REASONS, TEXT_LIMIT
from surveys.domain.seed import (
    CHECKS_AND_LEVEL,
    KNOWLEDGE_SKILLS,
    OTHER_ASPECTS,
    SEED_ANSWERS,
    SEED_DISCONTINUATION_ANSWERS,
    SEED_REASONS,
    seed_completion_answers,
    seed_discontinuation_answers,
)
from surveys.domain.surveys import Enrolment, Survey, Timing

NOW = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)
COMPLETE = {a: 5 for a in ASPECTS} | CHECKS_AND_LEVEL


def test_the_seed_completion_answers_give_the_seed_means_and_distribution() -> None:
    results = completion_results(seed_completion_answers())
    assert results.answers == SEED_ANSWERS
    means = [results.aspects[a].mean for a in ASPECTS]
    assert means == [Decimal("4.4"), Decimal("4.5"), Decimal("4.6"), Decimal("4.5")]
    knowledge = results.aspects["knowledge_skills"].distribution
    assert [knowledge[s] for s in range(1, 6)] == [Decimal(p) for p in KNOWLEDGE_SKILLS]
    for aspect, distribution in OTHER_ASPECTS.items():
        assert [results.aspects[aspect].distribution[s] for s in range(1, 6)] == [Decimal(p) for p in distribution]
    assert results.mean == Decimal("4.5")


def test_the_seed_discontinuation_answers_give_the_seed_shares() -> None:
    answers = seed_discontinuation_answers()
    assert len(answers) == SEED_DISCONTINUATION_ANSWERS
    assert all(a["reasons"] for a in answers)
    shares = reason_shares(answers)
    assert shares == {r: Decimal(p) for r, p in SEED_REASONS.items()}
    assert sum(shares.values()) > 100  # several reasons per answer


def test_the_questionnaires_have_the_eleven_reasons_and_every_text_in_both_languages() -> None:
    assert [r.code for r in REASONS] == list(SEED_REASONS)
    for questionnaire in (COMPLETION_V1, DISCONTINUATION_V1):
        texts = [questionnaire.title, *(q.text for q in questionnaire.questions)]
        texts += [o.text for q in questionnaire.questions for o in q.options]
        assert all(set(t) == set(LANGUAGES) and all(t.values()) for t in texts)


@pytest.mark.parametrize(
    ("values", "field", "rule"),
    [
        ({"teacher": 0}, "answers.teacher", "stars_range"),
        ({"teacher": 6}, "answers.teacher", "stars_range"),
        ({"teacher": True}, "answers.teacher", "int_type"),
        ({"digcomp_after": 9}, "answers.digcomp_after", "level_range"),
        ({"description_matched": 1}, "answers.description_matched", "bool_type"),
        ({"improvement": "x" * (TEXT_LIMIT + 1)}, "answers.improvement", "string_too_long"),
        ({"mood": 3}, "answers.mood", "unknown_question"),
    ],
)
def test_a_bad_completion_value_is_named(values: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        checked(COMPLETION_V1, values, complete=False)
    assert [(v.field, v.rule) for v in caught.value.violations] == [(field, rule)]


@pytest.mark.parametrize(
    ("values", "field", "rule"),
    [
        ({"reasons": ["weather"]}, "answers.reasons", "unknown_option"),
        ({"reasons": ["time", "time"]}, "answers.reasons", "duplicate_option"),
        ({"reasons": []}, "answers.reasons", "too_short"),
        ({"reasons": ["other"]}, "answers.other_reason", "missing"),
        ({"reasons": ["time"], "other_reason": "x"}, "answers.other_reason", "not_applicable"),
    ],
)
def test_a_bad_discontinuation_answer_is_named(values: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        checked(DISCONTINUATION_V1, values, complete=True)
    assert [(v.field, v.rule) for v in caught.value.violations] == [(field, rule)]


def test_a_draft_may_be_partial_but_a_submission_names_every_missing_answer() -> None:
    assert checked(COMPLETION_V1, {"teacher": 4, "improvement": "  "}, complete=False) == {"teacher": 4}
    with pytest.raises(InvalidInput) as caught:
        checked(COMPLETION_V1, {"teacher": 4}, complete=True)
    missing = {v.field for v in caught.value.violations if v.rule == "missing"}
    assert missing == {f"answers.{q.id}" for q in COMPLETION_V1.questions if q.required and q.id != "teacher"}


def _survey() -> Survey:
    enrolment = Enrolment(uuid.uuid4(), "learner-1", "IMK", uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    return Survey.invite(enrolment, "completion", NOW, Timing(timedelta(days=7), timedelta(days=30)))


def test_a_survey_is_reminded_once_and_closes_by_the_clock() -> None:
    survey = _survey()
    assert not survey.due_reminder(NOW + timedelta(days=6))
    assert survey.due_reminder(NOW + timedelta(days=7))
    reminded = survey.remind(NOW + timedelta(days=7))
    assert not reminded.due_reminder(NOW + timedelta(days=8))
    assert not reminded.due_closing(NOW + timedelta(days=30))
    assert reminded.due_closing(NOW + timedelta(days=30, seconds=1))
    assert reminded.close().status == "closed"


def test_a_submitted_answer_cannot_change_and_a_closed_survey_names_its_closing_time() -> None:
    submitted = _survey().submit(COMPLETE, NOW)
    with pytest.raises(Conflict, match="already answered"):
        submitted.save({"teacher": 1}, NOW)
    late = _survey()
    with pytest.raises(Conflict, match=re.escape(late.closes_at.isoformat())):
        late.save({"teacher": 1}, late.closes_at + timedelta(seconds=1))
