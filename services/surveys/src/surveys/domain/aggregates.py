"""The results of many answers: the mean per aspect (one decimal for display) and the distribution of stars per
aspect in percent, from completion answers; the share of each reason, from discontinuation answers (several
reasons per answer: the shares can add up to more than 100 %). Decimal arithmetic, rounded half up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from surveys.domain.answers import Value
from surveys.domain.questionnaires import ASPECTS, REASONS

ONE_DECIMAL = Decimal("0.1")
STARS = (1, 2, 3, 4, 5)


def percent(part: int, whole: int) -> Decimal:
    return (Decimal(100 * part) / whole).quantize(Decimal(1), ROUND_HALF_UP) if whole else Decimal(0)


@dataclass(frozen=True)
class AspectResult:
    exact: Decimal
    mean: Decimal
    """One decimal, for display."""
    distribution: dict[int, Decimal]
    """Stars -> share of the answers in percent (whole percent)."""


@dataclass(frozen=True)
class CompletionResults:
    answers: int
    aspects: dict[str, AspectResult]

    @property
    def mean(self) -> Decimal:
        """The mean of the four aspects' exact means, one decimal."""
        return _mean_of(self.aspects)


def _mean_of(aspects: Mapping[str, AspectResult]) -> Decimal:
    if not aspects:
        return Decimal(0)
    return (sum((a.exact for a in aspects.values()), Decimal(0)) / len(aspects)).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def aspect_result(counts: Mapping[int, int]) -> AspectResult:
    """From the count of answers per star value."""
    total = sum(counts.get(s, 0) for s in STARS)
    mean = Decimal(sum(s * counts.get(s, 0) for s in STARS)) / total if total else Decimal(0)
    return AspectResult(
        exact=mean,
        mean=mean.quantize(ONE_DECIMAL, ROUND_HALF_UP),
        distribution={s: percent(counts.get(s, 0), total) for s in STARS},
    )


def completion_results(answers: Iterable[Mapping[str, Value]]) -> CompletionResults:
    """Each aspect over the answers that rated it."""
    given = list(answers)
    stars: dict[str, Counter[int]] = {a: Counter() for a in ASPECTS}
    for answer in given:
        for aspect in ASPECTS:
            value = answer.get(aspect)
            if isinstance(value, int) and not isinstance(value, bool):
                stars[aspect][value] += 1
    return CompletionResults(len(given), {a: aspect_result(s) for a, s in stars.items()})


def reason_shares(answers: Iterable[Mapping[str, Value]]) -> dict[str, Decimal]:
    """Reason code -> the share of answers that chose it, in whole percent (every reason, 0 when none chose it)."""
    given = list(answers)
    counts: Counter[str] = Counter()
    for answer in given:
        chosen = answer.get("reasons")
        if isinstance(chosen, list):
            counts.update(set(chosen))
    return shares_of(counts, len(given))


def shares_of(chosen: Mapping[str, int], answers: int) -> dict[str, Decimal]:
    """Reason code -> share in whole percent, from how many answers chose each."""
    return {r.code: percent(chosen.get(r.code, 0), answers) for r in REASONS}
