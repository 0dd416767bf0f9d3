"""The learner's surveys: list, read one with its questionnaire in the requested language, save a draft, submit.
Only the learner of the enrolment: another's survey is a 404."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, PagingDep, refuse_unknown_query
from prasmes_runtime.schemas import Page, StrictTextModel, Text
from pydantic import BaseModel, Field

from surveys.api.common import Learner, SettingsDep
from surveys.domain.questionnaires import TEXT_LIMIT, Question, Questionnaire
from surveys.domain.surveys import Survey
from surveys.service import surveys

router = APIRouter(prefix="/surveys", tags=["surveys"], dependencies=[Depends(refuse_unknown_query)])
Language = Annotated[Literal["lv", "en"], Query(description="The questionnaire's language.")]
AnswerValue = (
    Annotated[bool, Field(strict=True)]
    | Annotated[int, Field(strict=True)]
    | Annotated[Text, Field(max_length=TEXT_LIMIT + 1)]
    | Annotated[list[Annotated[Text, Field(max_length=50)]], Field(max_length=20)]
)
"""Lengths are checked by the questionnaire (a text one over its limit is a 422 naming the question); this only
bounds what is parsed."""


class AnswersIn(StrictTextModel):
    answers: Annotated[dict[Annotated[str, Field(max_length=50)], AnswerValue], Field(max_length=30)]


class SurveyOut(BaseModel):
    id: uuid.UUID
    kind: str
    status: str
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    questionnaire_version: int
    invited_at: datetime
    closes_at: datetime
    saved_at: datetime | None
    submitted_at: datetime | None


class OptionOut(BaseModel):
    code: str
    text: str


class QuestionOut(BaseModel):
    id: str
    kind: str
    text: str
    required: bool
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    options: list[OptionOut] = []
    required_with: dict[str, str] | None = None


class QuestionnaireOut(BaseModel):
    kind: str
    version: int
    language: str
    title: str
    questions: list[QuestionOut]


class SurveyDetail(SurveyOut):
    questionnaire: QuestionnaireOut
    answers: dict[str, bool | int | str | list[str]]


def _out(survey: Survey) -> SurveyOut:
    return SurveyOut(
        id=survey.id,
        kind=survey.kind,
        status=survey.status,
        programme_id=survey.enrolment.programme_id,
        institution_id=survey.enrolment.institution_id,
        questionnaire_version=survey.questionnaire_version,
        invited_at=survey.invited_at,
        closes_at=survey.closes_at,
        saved_at=survey.saved_at,
        submitted_at=survey.submitted_at,
    )


def _question(q: Question, lang: str) -> QuestionOut:
    low, high = q.range if q.kind in ("stars", "level") else (None, None)
    return QuestionOut(
        id=q.id,
        kind=q.kind,
        text=q.text[lang],
        required=q.required,
        min=low,
        max=high,
        max_length=TEXT_LIMIT if q.kind == "text" else None,
        options=[OptionOut(code=o.code, text=o.text[lang]) for o in q.options],
        required_with=None
        if q.required_with is None
        else dict(zip(("question", "option"), q.required_with, strict=True)),
    )


def _questionnaire(q: Questionnaire, lang: str) -> QuestionnaireOut:
    questions = [_question(question, lang) for question in q.questions]
    return QuestionnaireOut(kind=q.kind, version=q.version, language=lang, title=q.title[lang], questions=questions)


def _detail(survey: Survey, lang: str) -> SurveyDetail:
    return SurveyDetail(
        **_out(survey).model_dump(), questionnaire=_questionnaire(survey.questionnaire, lang), answers=survey.answers
    )


@router.get("/mine", name="my_surveys")
async def my_surveys(learner: Learner, database: DatabaseDep, paging: PagingDep) -> Page[SurveyOut]:
    items, total = await surveys.my_surveys(database, learner.subject, paging.limit, paging.offset)
    return Page(items=[_out(s) for s in items], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{survey_id}", name="my_survey")
async def my_survey(
    learner: Learner, database: DatabaseDep, survey_id: uuid.UUID, lang: Language = "lv"
) -> SurveyDetail:
    return _detail(await surveys.my_survey(database, survey_id, learner.subject), lang)


@router.put("/{survey_id}/draft", name="save_survey_draft")
async def save_draft(
    learner: Learner,
    database: DatabaseDep,
    clock: ClockDep,
    survey_id: uuid.UUID,
    body: AnswersIn,
    lang: Language = "lv",
) -> SurveyDetail:
    """A partial answer, kept to be resumed (it replaces the earlier draft); until the survey closes."""
    survey = await surveys.save(database, survey_id, learner.subject, body.answers, clock.now())
    return _detail(survey, lang)


@router.post("/{survey_id}/submission", name="submit_survey")
async def submit(
    learner: Learner,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    survey_id: uuid.UUID,
    body: AnswersIn,
    lang: Language = "lv",
) -> SurveyDetail:
    """The complete answer, once: it cannot be changed after."""
    answers, now = body.answers, clock.now()
    survey = await surveys.submit(database, survey_id, learner.subject, answers, now, settings.quality_rules())
    return _detail(survey, lang)
