"""Results as tallies: each invitation and each answer adds one to a few counters of every scope it belongs to (the
whole platform, its institution, its programme, its group), so a scope's results are read from a few dozen counters
however many answers it has. The results, the public rating and the quality flags are computed from those counts.

A counter is (kind, metric, bucket): ("completion", "answered", ""), ("completion", "stars:teacher", "4"),
("completion", "check:description_matched", "no"), ("completion", "gain", "1.4"),
("discontinuation", "reason:time", ""), ...
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from surveys.domain.aggregates import ONE_DECIMAL, STARS, AspectResult, aspect_result, percent, shares_of
from surveys.domain.questionnaires import ASPECTS, Kind
from surveys.domain.surveys import Enrolment, Survey

Level = Literal["all", "institution", "programme", "group"]
LEVELS: tuple[Level, ...] = ("all", "institution", "programme", "group")
KINDS: tuple[Kind, ...] = ("completion", "discontinuation")
CHECKS = ("description_matched", "prior_knowledge_right", "equipment_right")
MIN_SHOWN = 3
"""A breakdown is shown to its institution only when at least this many answered (no one is singled out)."""

CounterKey = tuple[str, str, str]
"""(kind, metric, bucket)."""


@dataclass(frozen=True)
class Scope:
    level: Level
    scope_id: str
    """The institution's, programme's or group's id; "" for the whole platform."""


def scopes_of(enrolment: Enrolment) -> tuple[Scope, ...]:
    return (
        Scope("all", ""),
        Scope("institution", str(enrolment.institution_id)),
        Scope("programme", str(enrolment.programme_id)),
        Scope("group", str(enrolment.group_id)),
    )


def invitation_counters(survey: Survey) -> list[CounterKey]:
    return [(survey.kind, "invited", "")]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def skill_gain(after: int | None, before: Decimal | None) -> Decimal | None:
    """After minus before (the mean of accounts' five DigComp areas before the studies), one decimal."""
    if after is None or before is None:
        return None
    return (Decimal(after) - before).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def answer_counters(survey: Survey, digcomp_before: Decimal | None) -> list[CounterKey]:
    """The counters a submitted answer adds one to."""
    kind, answers = survey.kind, survey.answers
    keys: list[CounterKey] = [(kind, "answered", "")]
    if kind == "discontinuation":
        chosen = answers.get("reasons")
        return keys + [(kind, f"reason:{r}", "") for r in (set(chosen) if isinstance(chosen, list) else ())]
    keys += [(kind, f"stars:{a}", str(s)) for a in ASPECTS if (s := _int(answers.get(a))) is not None]
    keys += [(kind, f"check:{c}", "yes" if v else "no") for c in CHECKS if isinstance(v := answers.get(c), bool)]
    after = _int(answers.get("digcomp_after"))
    if after is not None:
        keys.append((kind, "digcomp_after", str(after)))
    gain = skill_gain(after, digcomp_before)
    if gain is not None:
        keys.append((kind, "gain", str(gain)))
    return keys


# --------------------------------------------------------------------------- from the counts


@dataclass(frozen=True)
class CheckResult:
    answers: int
    yes: Decimal
    no: Decimal
    """Shares in whole percent."""


@dataclass(frozen=True)
class GainResult:
    answers: int
    mean: Decimal
    distribution: dict[str, int]
    """Gain (one decimal, signed) -> how many answers."""


@dataclass(frozen=True)
class CompletionBlock:
    answers: int
    aspects: dict[str, AspectResult]
    checks: dict[str, CheckResult]
    skill_gain: GainResult | None

    @property
    def mean(self) -> Decimal | None:
        if not self.aspects:
            return None
        total = sum((a.exact for a in self.aspects.values()), Decimal(0))
        return (total / len(self.aspects)).quantize(ONE_DECIMAL, ROUND_HALF_UP)


@dataclass(frozen=True)
class DiscontinuationBlock:
    answers: int
    reasons: dict[str, Decimal]
    """Reason -> share of the answers that chose it, whole percent (several per answer: may add up over 100)."""


@dataclass(frozen=True)
class Results:
    invited: dict[str, int]
    answered: dict[str, int]
    completion: CompletionBlock | None
    discontinuation: DiscontinuationBlock | None
    """None when no one answered (or, for an institution's view, fewer than MIN_SHOWN)."""

    def response_rate(self, kind: str) -> Decimal | None:
        invited = self.invited.get(kind, 0)
        if not invited:
            return None
        return (Decimal(100 * self.answered.get(kind, 0)) / invited).quantize(ONE_DECIMAL, ROUND_HALF_UP)

    @property
    def ended(self) -> int:
        return sum(self.invited.values())

    @property
    def dropout_rate(self) -> Decimal | None:
        """Discontinued of all who ended their studies (each is invited to one survey), one decimal percent."""
        if not self.ended:
            return None
        share = Decimal(100 * self.invited.get("discontinuation", 0)) / self.ended
        return share.quantize(ONE_DECIMAL, ROUND_HALF_UP)

    def withheld_below(self, minimum: int) -> Results:
        """The blocks with fewer than `minimum` answers taken out (the counts stay)."""
        completion = self.completion if self.answered.get("completion", 0) >= minimum else None
        discontinuation = self.discontinuation if self.answered.get("discontinuation", 0) >= minimum else None
        return Results(self.invited, self.answered, completion, discontinuation)


def _by_metric(counts: Mapping[CounterKey, int], kind: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (k, metric, bucket), n in counts.items():
        if k == kind:
            out.setdefault(metric, {})[bucket] = n
    return out


def _gain(buckets: Mapping[str, int]) -> GainResult | None:
    total = sum(buckets.values())
    if not total:
        return None
    mean = sum((Decimal(b) * n for b, n in buckets.items()), Decimal(0)) / total
    ordered = dict(sorted(buckets.items(), key=lambda item: Decimal(item[0])))
    return GainResult(total, mean.quantize(ONE_DECIMAL, ROUND_HALF_UP), ordered)


def _completion(metrics: Mapping[str, Mapping[str, int]]) -> CompletionBlock | None:
    answers = sum(metrics.get("answered", {}).values())
    if not answers:
        return None
    aspects = {
        a: aspect_result({s: metrics[f"stars:{a}"].get(str(s), 0) for s in STARS})
        for a in ASPECTS
        if sum(metrics.get(f"stars:{a}", {}).values())
    }
    checks = {}
    for c in CHECKS:
        yes, no = (metrics.get(f"check:{c}", {}).get(b, 0) for b in ("yes", "no"))
        if yes + no:
            checks[c] = CheckResult(yes + no, percent(yes, yes + no), percent(no, yes + no))
    return CompletionBlock(answers, aspects, checks, _gain(metrics.get("gain", {})))


def _discontinuation(metrics: Mapping[str, Mapping[str, int]]) -> DiscontinuationBlock | None:
    answers = sum(metrics.get("answered", {}).values())
    if not answers:
        return None
    chosen = {m.removeprefix("reason:"): sum(b.values()) for m, b in metrics.items() if m.startswith("reason:")}
    return DiscontinuationBlock(answers, shares_of(chosen, answers))


def results(counts: Mapping[CounterKey, int]) -> Results:
    per_kind = {kind: _by_metric(counts, kind) for kind in KINDS}
    return Results(
        invited={k: sum(per_kind[k].get("invited", {}).values()) for k in KINDS},
        answered={k: sum(per_kind[k].get("answered", {}).values()) for k in KINDS},
        completion=_completion(per_kind["completion"]),
        discontinuation=_discontinuation(per_kind["discontinuation"]),
    )


def tally(keys: Iterable[CounterKey]) -> Counter[CounterKey]:
    """Counts of counter keys (answers tallied in memory: the tests' and the benchmark's reference)."""
    return Counter(keys)


# --------------------------------------------------------------------------- public rating, quality flags


@dataclass(frozen=True)
class Rating:
    programme_id: uuid.UUID
    raters: int
    public: bool
    mean: Decimal | None
    aspects: dict[str, Decimal]
    """Each aspect's mean, one decimal; empty while not public."""


def rating(programme_id: uuid.UUID, outcome: Results, min_raters: int) -> Rating:
    """Public once at least `min_raters` completers answered; its figures follow every answer after that."""
    block = outcome.completion
    raters = block.answers if block else 0
    if block is None or raters < min_raters:
        return Rating(programme_id, raters, False, None, {})
    return Rating(programme_id, raters, True, block.mean, {a: r.mean for a, r in block.aspects.items()})


FlagReason = Literal["low_rating", "high_dropout", "description_mismatch"]
FLAG_REASONS: tuple[FlagReason, ...] = ("low_rating", "high_dropout", "description_mismatch")


@dataclass(frozen=True)
class QualityRules:
    rating_below: Decimal
    dropout_above: Decimal
    mismatch_above: Decimal
    min_ended: int
    """A dropout or mismatch share is judged only over at least this many people."""
    min_raters: int

    def threshold(self, reason: FlagReason) -> Decimal:
        if reason == "low_rating":
            return self.rating_below
        return self.dropout_above if reason == "high_dropout" else self.mismatch_above

    def crosses(self, reason: FlagReason, value: Decimal, over: int) -> bool:
        if reason == "low_rating":
            return over >= self.min_raters and value < self.rating_below
        return over >= self.min_ended and value > self.threshold(reason)


@dataclass(frozen=True)
class Flag:
    reason: FlagReason
    value: Decimal
    threshold: Decimal
    over: int
    """How many people the figure is over."""


def figure(outcome: Results, reason: FlagReason) -> tuple[Decimal, int] | None:
    """The figure a rule judges and how many people it is over, as it stands, crossing or not (None: no one yet)."""
    block = outcome.completion
    if reason == "low_rating":
        mean = block.mean if block is not None else None
        return None if block is None or mean is None else (mean, block.answers)
    if reason == "high_dropout":
        dropout = outcome.dropout_rate
        return None if dropout is None else (dropout, outcome.ended)
    matched = block.checks.get("description_matched") if block is not None else None
    return None if matched is None else (matched.no, matched.answers)


def quality_flags(outcome: Results, rules: QualityRules) -> list[Flag]:
    flags: list[Flag] = []
    for reason in FLAG_REASONS:
        found = figure(outcome, reason)
        if found is not None and rules.crosses(reason, *found):
            flags.append(Flag(reason, found[0], rules.threshold(reason), found[1]))
    return flags


@dataclass(frozen=True)
class FlagChanges:
    raised: list[Flag]
    """Crossing now, not standing before."""
    cleared: list[Flag]
    """Standing before, not crossing now: with the figure as it stands (the one kept when there is none now) and the
    rule's threshold."""


def _one_decimal(flag: Flag) -> Flag:
    return replace(flag, value=flag.value.quantize(ONE_DECIMAL, ROUND_HALF_UP))


def flag_changes(outcome: Results, rules: QualityRules, standing: Iterable[Flag]) -> FlagChanges:
    """The programme's flags now against those that stood; a flag still crossing is no change. Figures one decimal."""
    now = {f.reason: f for f in quality_flags(outcome, rules)}
    before = {f.reason: f for f in standing}
    raised = [_one_decimal(f) for reason, f in now.items() if reason not in before]
    cleared = []
    for reason, kept in before.items():
        if reason not in now:
            value, over = figure(outcome, reason) or (kept.value, kept.over)
            cleared.append(_one_decimal(Flag(reason, value, rules.threshold(reason), over)))
    return FlagChanges(raised, cleared)
