"""The learner's surveys of their studies: the list (to answer, answered, closed), and one survey's questionnaire as
a form in the page's language, pre-filled with the saved partial answer, to save and continue later or to send."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from web.gateway import ApiError
from web.messages import rule_message
from web.pages.common import App, Form, Learner, field_errors, learner
from web.rendering import language_of_request

router = APIRouter(dependencies=[Depends(learner)])
API = "/api/surveys/surveys"
SAVE, SEND = "save", "send"
Question = dict[str, Any]
Value = bool | int | str | list[str]
Entered = dict[str, str | list[str]]
"""What the form holds for each question, as the page shows it (radios' values, the boxes ticked, the text)."""


@router.get("/surveys", response_class=HTMLResponse)
async def surveys(request: Request, app: App, user: Learner) -> HTMLResponse:
    mine = await app.gateway.get(f"{API}/mine", user.access_token, params={"limit": 200})
    items: list[dict[str, Any]] = mine["items"]
    now = datetime.now(UTC)
    return app.pages.render(
        request,
        "surveys.html",
        to_answer=[s for s in items if _answerable(s, now)],
        answered=[s for s in items if s["status"] == "submitted"],
        closed=[s for s in items if s["status"] != "submitted" and not _answerable(s, now)],
        programmes=await _programmes(app, {s["programme_id"] for s in items}),
    )


@router.get("/surveys/{survey_id}", response_class=HTMLResponse)
async def survey(request: Request, app: App, user: Learner, survey_id: uuid.UUID) -> HTMLResponse:
    found = await _survey(request, app, user.access_token, survey_id)
    notice = next((k for k in ("saved", "sent") if k in request.query_params), "")
    return await _page(request, app, found, _shown(found["answers"]), {}, notice)


@router.post("/surveys/{survey_id}", response_class=HTMLResponse)
async def answer(request: Request, app: App, user: Learner, survey_id: uuid.UUID, form: Form) -> Response:
    """The button pressed decides: `save` keeps a draft (any subset of valid answers), `send` submits, once."""
    found = await _survey(request, app, user.access_token, survey_id)
    if not _answerable(found, datetime.now(UTC)):
        return RedirectResponse(f"/surveys/{survey_id}", status_code=303)
    questions: list[Question] = found["questionnaire"]["questions"]
    entered = _entered(questions, await request.form())
    answers, errors = _answers(questions, entered)
    sending = form.get("action") == SEND
    if not errors:
        try:
            await _send_answers(app, user.access_token, survey_id, answers, sending)
        except ApiError as error:
            if error.status == 409:  # sent meanwhile (another tab) or closed: the page says which
                return RedirectResponse(f"/surveys/{survey_id}", status_code=303)
            if error.status != 422:
                raise
            errors = field_errors(error.violations)
        else:
            done = "sent" if sending else "saved"
            return RedirectResponse(f"/surveys/{survey_id}?{done}=1", status_code=303)
    return await _page(request, app, found, entered, errors, "", status_code=422)


async def _survey(request: Request, app: App, token: str, survey_id: uuid.UUID) -> dict[str, Any]:
    params = {"lang": language_of_request(request)}
    found: dict[str, Any] = await app.gateway.get(f"{API}/{survey_id}", token, params=params)
    return found


async def _send_answers(app: App, token: str, survey_id: uuid.UUID, answers: dict[str, Value], sending: bool) -> None:
    body = {"answers": answers}
    if sending:
        await app.gateway.post(f"{API}/{survey_id}/submission", token, body)
        return
    await app.gateway.put(f"{API}/{survey_id}/draft", token, body)


async def _page(
    request: Request,
    app: App,
    found: dict[str, Any],
    entered: Entered,
    errors: Mapping[str, str],
    notice: str,
    status_code: int = 200,
) -> HTMLResponse:
    questions: list[Question] = found["questionnaire"]["questions"]
    programme = (await _programmes(app, {found["programme_id"]})).get(found["programme_id"])
    return app.pages.render(
        request,
        "survey.html",
        status_code=status_code,
        survey=found,
        programme=programme,
        questions=questions,
        labels={q["id"]: q["text"] for q in questions},
        revealed_by=_revealed_by(questions),
        values=entered,
        errors={field: rule_message(rule) for field, rule in errors.items()},
        read_only=not _answerable(found, datetime.now(UTC)),
        notice=notice,
        SAVE=SAVE,
        SEND=SEND,
    )


def _answerable(survey: Mapping[str, Any], now: datetime) -> bool:
    """Open, and not past its closing instant (the clock closes it within a minute; the API refuses it at once)."""
    return survey["status"] == "open" and datetime.fromisoformat(survey["closes_at"]) > now


async def _programmes(app: App, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The programmes' public pages, for their titles (a programme no longer in the catalogue is shown without)."""
    found: dict[str, dict[str, Any]] = {}
    for programme_id in ids:
        with contextlib.suppress(ApiError):
            found[programme_id] = await app.gateway.get(f"/api/catalog/public/programmes/{programme_id}")
    return found


def _revealed_by(questions: list[Question]) -> dict[str, dict[str, Question]]:
    """The conditional questions (answered exactly when an option of another is chosen), by that question and
    option: the page shows each under its option, as the design system's conditional reveal."""
    revealed: dict[str, dict[str, Question]] = {}
    for question in questions:
        condition = question.get("required_with")
        if condition:
            revealed.setdefault(condition["question"], {})[condition["option"]] = question
    return revealed


def _shown(answers: Mapping[str, Value]) -> Entered:
    """The saved answers as the form shows them."""
    shown: Entered = {}
    for question_id, value in answers.items():
        if isinstance(value, bool):
            shown[question_id] = "yes" if value else "no"
        elif isinstance(value, list):
            shown[question_id] = [str(v) for v in value]
        else:
            shown[question_id] = str(value)
    return shown


def _entered(questions: list[Question], form: FormData) -> Entered:
    """What the form holds for each question: the boxes ticked of a multiple choice, the text (its line ends as
    the API counts them: a browser sends each as two characters), the radio chosen."""
    entered: Entered = {}
    for question in questions:
        qid = question["id"]
        if question["kind"] == "choices":
            ticked = [v for v in form.getlist(qid) if isinstance(v, str)]
            if ticked:
                entered[qid] = ticked
            continue
        value = form.get(qid)
        if isinstance(value, str):
            entered[qid] = value.replace("\r\n", "\n") if question["kind"] == "text" else value
    return entered


def _answers(questions: list[Question], entered: Entered) -> tuple[dict[str, Value], dict[str, str]]:
    """The API's answers from the form, and what the page itself finds wrong (a text over its limit); a value the
    page did not offer goes to the API as it came, which names the rule it breaks."""
    answers: dict[str, Value] = {}
    errors: dict[str, str] = {}
    for question in questions:
        qid, value = question["id"], entered.get(question["id"])
        if value is None or not _applies(question, entered):
            continue  # a conditional question whose option is not chosen: its text (hidden) is not an answer
        if isinstance(value, list):
            answers[qid] = value
        elif question["kind"] == "text":
            if value.strip():
                answers[qid] = value.strip()
            if len(value.strip()) > (question.get("max_length") or len(value)):
                errors[qid] = "string_too_long"
        elif value:
            answers[qid] = _value(question["kind"], value)
    return answers, errors


def _applies(question: Question, entered: Entered) -> bool:
    condition = question.get("required_with")
    if not condition:
        return True
    chosen = entered.get(condition["question"])
    return isinstance(chosen, list) and condition["option"] in chosen


def _value(kind: str, value: str) -> Value:
    if kind == "yes_no" and value in ("yes", "no"):
        return value == "yes"
    if kind in ("stars", "level") and value.isdigit() and len(value) <= 2:
        return int(value)
    return value
