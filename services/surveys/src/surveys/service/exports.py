"""The agency's exports: every submitted answer without the learner, and every scope's aggregates, as table rows."""

from __future__ import annotations

from decimal import Decimal

from prasmes_runtime.db import Database

from surveys.domain.questionnaires import ASPECTS, REASONS
from surveys.domain.results import CHECKS, Level, Results
from surveys.domain.surveys import Survey
from surveys.service import results

ANSWER_COLUMNS = [
    "kind",
    "questionnaire_version",
    "project_code",
    "institution_id",
    "programme_id",
    "group_id",
    "submitted_at",
    *ASPECTS,
    *CHECKS,
    "digcomp_before",
    "digcomp_after",
    "reasons",
    "other_reason",
    "improvement",
]
"""No survey, enrolment or learner id: an answer cannot be joined back to the person from the export."""


def _answer_row(survey: Survey) -> list[object]:
    a, e = survey.answers, survey.enrolment
    reasons = a.get("reasons")
    return [
        survey.kind,
        survey.questionnaire_version,
        e.project_code,
        str(e.institution_id),
        str(e.programme_id),
        str(e.group_id),
        survey.submitted_at.isoformat() if survey.submitted_at else None,
        *(a.get(k) for k in ASPECTS),
        *(None if (v := a.get(c)) is None else ("yes" if v else "no") for c in CHECKS),
        survey.digcomp_before,
        a.get("digcomp_after"),
        ";".join(reasons) if isinstance(reasons, list) else None,
        a.get("other_reason"),
        a.get("improvement"),
    ]


async def answer_rows(database: Database) -> list[list[object]]:
    return [_answer_row(s) async for s in results.submitted_answers(database)]


AGGREGATE_COLUMNS = [
    "level",
    "scope_id",
    "institution_id",
    "programme_title",
    "completion_invited",
    "completion_answered",
    "completion_response_rate",
    "discontinuation_invited",
    "discontinuation_answered",
    "discontinuation_response_rate",
    "dropout_rate",
    "mean",
    *(f"mean_{a}" for a in ASPECTS),
    *(f"{c}_no_percent" for c in CHECKS),
    "skill_gain_answers",
    "skill_gain_mean",
    *(f"reason_{r.code}_percent" for r in REASONS),
]


def _aggregate_row(level: Level, scope_id: str, institution: object, title: str | None, r: Results) -> list[object]:
    c, d = r.completion, r.discontinuation
    gain = c.skill_gain if c else None
    no: list[Decimal | None] = [(x.no if (x := c.checks.get(check)) else None) if c else None for check in CHECKS]
    return [
        level,
        scope_id,
        None if institution is None else str(institution),
        title,
        r.invited["completion"],
        r.answered["completion"],
        r.response_rate("completion"),
        r.invited["discontinuation"],
        r.answered["discontinuation"],
        r.response_rate("discontinuation"),
        r.dropout_rate,
        c.mean if c else None,
        *((c.aspects[a].mean if c and a in c.aspects else None) for a in ASPECTS),
        *no,
        gain.answers if gain else None,
        gain.mean if gain else None,
        *((d.reasons.get(x.code) if d else None) for x in REASONS),
    ]


async def aggregate_rows(database: Database) -> list[list[object]]:
    """The platform, every institution, every programme and every group (the agency sees every breakdown)."""
    rows: list[list[object]] = []
    for level in ("all", "institution", "programme", "group"):
        for scope_id, institution, title, outcome in await results.level_results(database, level):
            rows.append(_aggregate_row(level, scope_id, institution, title, outcome))
    return rows
