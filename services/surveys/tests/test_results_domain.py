"""Results from tallies: the seed's answers, counted one by one as the service counts them, give the seed's figures
(the same as the aggregates over the answers themselves); the public rating's threshold; the quality flags and
what a counting changes of those that stand."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from surveys.domain.aggregates import completion_results, reason_shares
from surveys.domain.answers import Answers
from surveys.domain.questionnaires import ASPECTS, Kind
from surveys.domain.results import (
    Flag,
    QualityRules,
    answer_counters,
    figure,
    flag_changes,
    invitation_counters,
    quality_flags,
    rating,
    results,
    skill_gain,
)
from surveys.domain.seed import SEED_REASONS, seed_completion_answers, seed_discontinuation_answers
from surveys.domain.surveys import Enrolment, Survey, Timing

NOW = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)
TIMING = Timing(timedelta(days=7), timedelta(days=30))
ENROLMENT = Enrolment(uuid.uuid4(), "learner", "IMK", uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
RULES = QualityRules(
    rating_below=Decimal("4.0"),
    dropout_above=Decimal(25),
    mismatch_above=Decimal(20),
    min_ended=10,
    min_raters=10,
)


def _submitted(kind: Kind, answers: Answers) -> Survey:
    return Survey.invite(ENROLMENT, kind, NOW, TIMING).submit(answers, NOW)


def _tallied(kind: Kind, every: list[Answers], invited: int | None = None) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for answers in every:
        counts.update(answer_counters(_submitted(kind, answers), None))
    survey = Survey.invite(ENROLMENT, kind, NOW, TIMING)
    for _ in range(len(every) if invited is None else invited):
        counts.update(invitation_counters(survey))
    return counts


def test_the_seed_answers_tallied_one_by_one_give_the_seed_figures() -> None:
    completion, discontinuation = seed_completion_answers(), seed_discontinuation_answers()
    counts = _tallied("completion", completion, invited=2096) + _tallied("discontinuation", discontinuation, 246)
    outcome = results(counts)
    block = outcome.completion
    assert block is not None and block.answers == 1446
    assert [block.aspects[a].mean for a in ASPECTS] == [Decimal(x) for x in ("4.4", "4.5", "4.6", "4.5")]
    direct = completion_results(completion)
    assert {a: r.distribution for a, r in block.aspects.items()} == {
        a: r.distribution for a, r in direct.aspects.items()
    }
    assert outcome.discontinuation is not None
    assert outcome.discontinuation.reasons == {r: Decimal(p) for r, p in SEED_REASONS.items()}
    assert outcome.discontinuation.reasons == reason_shares(discontinuation)
    assert outcome.response_rate("completion") == Decimal("69.0")  # the seed: 1 446 answers, 69 % of completers
    assert outcome.response_rate("discontinuation") == Decimal("28.0")  # 69 answers, 28 % of those who left


def test_skill_gain_is_after_minus_before_and_none_without_either() -> None:
    assert skill_gain(5, Decimal("3.4")) == Decimal("1.6")
    assert skill_gain(2, Decimal("3.0")) == Decimal("-1.0")
    assert skill_gain(None, Decimal("3.0")) is None and skill_gain(5, None) is None
    answers = seed_completion_answers()[0]
    keys = answer_counters(_submitted("completion", answers), Decimal("3.5"))
    assert ("completion", "gain", str(Decimal(answers["digcomp_after"]) - Decimal("3.5"))) in keys  # type: ignore[arg-type]


def test_a_rating_is_public_from_the_minimum_of_raters() -> None:
    nine = results(_tallied("completion", seed_completion_answers()[:9]))
    ten = results(_tallied("completion", seed_completion_answers()[:10]))
    programme = uuid.uuid4()
    assert rating(programme, nine, 10).public is False and rating(programme, nine, 10).mean is None
    public = rating(programme, ten, 10)
    assert public.public and public.raters == 10 and set(public.aspects) == set(ASPECTS)


def test_quality_flags_name_the_figure_and_the_threshold() -> None:
    poor: Answers = dict.fromkeys(ASPECTS, 3) | {
        "description_matched": False,
        "prior_knowledge_right": True,
        "equipment_right": True,
        "digcomp_after": 4,
    }
    counts = _tallied("completion", [poor] * 10) + _tallied("discontinuation", [{"reasons": ["time"]}] * 5)
    flags = {f.reason: f for f in quality_flags(results(counts), RULES)}
    assert flags["low_rating"].value == Decimal("3.0") and flags["low_rating"].over == 10
    assert flags["high_dropout"].value == Decimal("33.3") and flags["high_dropout"].over == 15
    assert flags["description_mismatch"].value == Decimal(100)
    good = _tallied("completion", seed_completion_answers()[-40:])
    assert quality_flags(results(good), RULES) == []
    few = _tallied("completion", [poor] * 9)  # under the minimum: not judged
    assert quality_flags(results(few), RULES) == []


POOR: Answers = dict.fromkeys(ASPECTS, 3) | {
    "description_matched": False,
    "prior_knowledge_right": True,
    "equipment_right": True,
    "digcomp_after": 4,
}


def test_a_figure_is_there_once_someone_is_behind_it_whether_it_crosses_or_not() -> None:
    nobody = results(Counter())
    assert [figure(nobody, r) for r in ("low_rating", "high_dropout", "description_mismatch")] == [None] * 3
    two = results(_tallied("completion", [POOR] * 2) + _tallied("discontinuation", [], invited=1))
    assert figure(two, "low_rating") == (Decimal("3.0"), 2)
    assert figure(two, "high_dropout") == (Decimal("33.3"), 3)
    assert figure(two, "description_mismatch") == (Decimal(100), 2)
    assert quality_flags(two, RULES) == []  # too few to judge


def test_a_flag_crossing_now_is_raised_once_and_cleared_once_back_within_the_rule() -> None:
    poor = results(_tallied("completion", [POOR] * 10))
    first = flag_changes(poor, RULES, [])
    assert first.cleared == []
    assert first.raised == [
        Flag("low_rating", Decimal("3.0"), Decimal("4.0"), 10),
        Flag("description_mismatch", Decimal("100.0"), Decimal(20), 10),
    ]
    assert str(first.raised[1].value) == "100.0"  # one decimal, as the events carry it
    still = flag_changes(results(_tallied("completion", [POOR] * 11)), RULES, first.raised)
    assert still.raised == [] and still.cleared == []
    better = [dict(POOR) | dict.fromkeys(ASPECTS, 5) | {"description_matched": True}] * 40
    back = flag_changes(results(_tallied("completion", [POOR] * 10 + better)), RULES, first.raised)
    assert back.raised == []
    assert back.cleared == [
        Flag("low_rating", Decimal("4.6"), Decimal("4.0"), 50),
        Flag("description_mismatch", Decimal("20.0"), Decimal(20), 50),  # 20 %: not above
    ]


def test_a_flag_whose_figure_is_gone_is_cleared_with_the_figure_it_was_kept_with() -> None:
    stricter = QualityRules(Decimal("4.0"), Decimal(25), Decimal(20), min_ended=10, min_raters=50)
    kept = Flag("high_dropout", Decimal("40.0"), Decimal(30), 12)
    changes = flag_changes(results(Counter()), stricter, [kept])
    assert changes.raised == []
    assert changes.cleared == [Flag("high_dropout", Decimal("40.0"), Decimal(25), 12)]  # the rule's threshold now
