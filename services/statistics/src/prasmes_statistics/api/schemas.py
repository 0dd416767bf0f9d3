"""The statistics API's answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from prasmes_statistics.domain.figures import DEFINITIONS_LV, Dashboard, Definition, SurveyFigures


class DefinitionOut(BaseModel):
    code: str
    unit: str
    label: dict[str, str]
    definition: str
    explanation: dict[str, str] = Field(description="What the figure counts, by language (lv, en).")


class SummaryOut(BaseModel):
    as_of: datetime
    figures: dict[str, int]
    """accounts_opened; applications (the projects' persons who applied, summed); granted; started, discontinued and
    completed (the projects' distinct persons, summed); survey_answers."""


class ProjectOut(BaseModel):
    project_code: str
    figures: dict[str, int | Decimal]
    rounds: dict[str, dict[str, int]] = Field(
        description="Call code -> the round's applicants, granted, started, completed; '' outside any call's "
        "application period."
    )


class CallOut(BaseModel):
    call_id: str
    code: str
    project_code: str
    phase: str | None
    figures: dict[str, int]


class SurveysOut(BaseModel):
    answers: dict[str, int]
    response_rate: dict[str, Decimal | None]
    mean_rating: dict[str, Decimal | None]
    stars: dict[str, dict[int, int]]
    reasons: dict[str, int]


class DashboardOut(BaseModel):
    as_of: datetime
    accounts_opened: int
    applications_total: int
    projects: list[ProjectOut]
    calls: list[CallOut]
    surveys: SurveysOut
    surveys_by_project: dict[str, SurveysOut]
    definitions: list[DefinitionOut]


class FunnelStageOut(BaseModel):
    stage: str
    value: int


class FunnelOut(BaseModel):
    as_of: datetime
    project_code: str
    stages: list[FunnelStageOut]
    discontinued: int


class PointOut(BaseModel):
    day: date
    new: int
    total: int


class SeriesOut(BaseModel):
    as_of: datetime
    figure: str
    project_code: str | None
    points: list[PointOut]


def definition_out(found: Definition) -> DefinitionOut:
    explanation = {"lv": DEFINITIONS_LV[found.code], "en": found.definition}
    return DefinitionOut(
        code=found.code, unit=found.unit.value, label=found.label, definition=found.definition, explanation=explanation
    )


def surveys_out(found: SurveyFigures) -> SurveysOut:
    return SurveysOut(
        answers=found.answers,
        response_rate=found.response_rate,
        mean_rating=found.mean_rating,
        stars=found.stars,
        reasons=found.reasons,
    )


def dashboard_out(found: Dashboard, definitions: list[DefinitionOut]) -> DashboardOut:
    return DashboardOut(
        as_of=found.as_of,
        accounts_opened=found.accounts_opened,
        applications_total=found.applications_total,
        projects=[ProjectOut(project_code=p.project_code, figures=p.figures, rounds=p.rounds) for p in found.projects],
        calls=[
            CallOut(call_id=c.call_id, code=c.code, project_code=c.project_code, phase=c.phase, figures=c.figures)
            for c in found.calls
        ],
        surveys=surveys_out(found.surveys),
        surveys_by_project={p: surveys_out(s) for p, s in found.surveys_by_project.items()},
        definitions=definitions,
    )
