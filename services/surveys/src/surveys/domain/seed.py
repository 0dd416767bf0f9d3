"""The seed's survey figures as answers (DOMAIN.md): 1 446 completion answers whose stars are distributed as the
seed's slide shows, and 69 discontinuation answers whose reasons have the seed's shares. The tests check the
aggregates against them; the benchmark and the demo fill a platform with them."""

from __future__ import annotations

from decimal import Decimal

from surveys.domain.answers import Answers, checked
from surveys.domain.questionnaires import ASPECTS, COMPLETION_V1, DISCONTINUATION_V1

SEED_ANSWERS = 1446
SEED_COMPLETERS = 2096
"""1 446 answers were 69 % of the completers."""
KNOWLEDGE_SKILLS = (1, 2, 9, 31, 57)
"""The seed slide's distribution of 1..5 stars for knowledge and skills gained, in percent."""
OTHER_ASPECTS = {
    "content_quality": (1, 1, 7, 28, 63),
    "teacher": (1, 1, 5, 22, 71),
    "learning_process": (1, 2, 7, 27, 63),
}
"""DOMAIN.md gives only these aspects' means (4.5 / 4.6 / 4.5), not their distributions: these are illustrative
distributions with those means, not the seed's."""
SEED_REASONS = {
    "content": 42,
    "learning_difficulty": 36,
    "time": 32,
    "personal": 29,
    "teacher": 25,
    "job_change": 16,
    "motivation": 16,
    "organisation": 13,
    "employer_support": 4,
    "technical_means": 1,
    "other": 7,
}
SEED_DISCONTINUATION_ANSWERS = 69
SEED_DISCONTINUED = 246
"""69 answers were 28 % of those who discontinued."""
CHECKS_AND_LEVEL = {
    "description_matched": True,
    "prior_knowledge_right": False,
    "equipment_right": True,
    "digcomp_after": 5,
}


def counts(percentages: tuple[int, ...] | list[int], total: int) -> list[int]:
    """Whole counts of `total` nearest the percentages, adding up to `total` (largest remainder)."""
    exact = [Decimal(p * total) / 100 for p in percentages]
    whole = [int(e) for e in exact]
    for i in sorted(range(len(exact)), key=lambda i: exact[i] - whole[i], reverse=True)[: total - sum(whole)]:
        whole[i] += 1
    return whole


def seed_completion_answers(total: int = SEED_ANSWERS) -> list[Answers]:
    """The seed's 1 446 completion answers, or `total` answers with the same distributions of stars (`counts`)."""
    distributions = {"knowledge_skills": KNOWLEDGE_SKILLS, **OTHER_ASPECTS}
    stars = {
        a: [s for s, n in zip(range(1, 6), counts(d, total), strict=True) for _ in range(n)]
        for a, d in distributions.items()
    }
    return [
        checked(COMPLETION_V1, {a: stars[a][i] for a in ASPECTS} | CHECKS_AND_LEVEL, complete=True)
        for i in range(total)
    ]


def seed_discontinuation_answers(total: int = SEED_DISCONTINUATION_ANSWERS) -> list[Answers]:
    """The seed's 69 discontinuation answers, or `total` of them: each reason chosen by its share of the answers
    (rounded), handed out in turn. An answer left without a reason (only a few answers in all) takes the most
    chosen one, since an answer names at least one."""
    chosen: list[list[str]] = [[] for _ in range(total)]
    start = 0
    for reason, share in SEED_REASONS.items():
        n = round(Decimal(share * total) / 100)
        for j in range(n):
            chosen[(start + j) % total].append(reason)
        start += n
    for reasons in chosen:
        if not reasons:
            reasons.append(next(iter(SEED_REASONS)))
    return [
        checked(
            DISCONTINUATION_V1, {"reasons": c} | ({"other_reason": "Pārcēlos"} if "other" in c else {}), complete=True
        )
        for c in chosen
    ]
