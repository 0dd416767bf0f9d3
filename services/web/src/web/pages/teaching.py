"""An education institution's teaching: the enrolments per group, the study record (start, discontinuation,
completion) and the survey results with their charts.

Whose enrolments and results a page shows the API decides from the token: the institution is catalog's
`/providers/me`, the enrolments accounts' (names where the law lets the institution see them), the results
surveys' (a group's only when enough answered). Every step of the study record goes through a confirmation page
that says what it records; the API's refusal of a date is shown beside its field."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from web.gateway import ApiError
from web.messages import RULES, rule_message
from web.pages.common import (
    App,
    Form,
    InstitutionUser,
    PageNumber,
    chart_from_api,
    field_errors,
    institution,
    page_count,
)
from web.rendering import language_of_request
from web.session import User

router = APIRouter(dependencies=[Depends(institution)])
ENROLMENTS = "/api/accounts/provider/enrolments"
CATALOG = "/api/catalog/providers"
RESULTS = "/api/surveys/survey-results"
PAGE_SIZE = 20
COMMENTS_PAGE_SIZE = 10
SORTS = ("enrolled", "-enrolled", "name", "-name", "state")
STATES = ("enrolled", "studying", "completed", "discontinued")
Breakdown = Literal["programmes", "groups", "institutions"]
Chart = Literal["stars", "reasons"]
Short = Annotated[str, Query(max_length=40)]
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Step:
    """A step of the study record: the API's path, the form's fields (the date first), and the states it is for."""

    name: str
    api: str
    fields: tuple[str, ...]
    from_states: tuple[str, ...]
    final: bool


STEPS: dict[str, Step] = {
    "start": Step("start", "start", ("started_on",), ("enrolled",), False),
    "discontinuation": Step(
        "discontinuation", "discontinuation", ("discontinued_on", "reason"), ("enrolled", "studying"), True
    ),
    "completion": Step("completion", "completion", ("completed_on", "hours_attended", "result"), ("studying",), True),
    "invoice": Step("invoice", "invoice", (), ("completed", "discontinued"), True),
}


# --------------------------------------------------------------------------- what every page asks


async def _mine(app: App, user: User) -> dict[str, Any] | None:
    """The institution the user acts for (catalog decides from the token); None while they act for none."""
    try:
        me: dict[str, Any] = await app.gateway.get(f"{CATALOG}/me", user.access_token)
    except ApiError as error:
        if error.status in (403, 404):
            return None
        raise
    institution_: dict[str, Any] = me["institution"]
    return {**institution_, "role": me["membership"]["role"]}


async def _groups_and_titles(
    app: App, user: User, institution_id: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """The institution's groups by id, and its programmes' titles by id (for the groups' names)."""
    groups = await app.gateway.get(f"{CATALOG}/{institution_id}/groups", user.access_token)
    programmes = await app.gateway.get(f"{CATALOG}/{institution_id}/programmes", user.access_token)
    return {g["id"]: g for g in groups}, {p["id"]: p["title"] for p in programmes}


def _link(request: Request, **changes: str | int) -> str:
    """This page's address with some of its query changed (an empty value drops the parameter)."""
    query = dict(request.query_params) | {k: str(v) for k, v in changes.items()}
    return f"{request.url.path}?{urlencode({k: v for k, v in query.items() if v})}"


# --------------------------------------------------------------------------- the enrolments


@router.get("/institution/enrolments", response_class=HTMLResponse)
async def enrolments(
    request: Request,
    app: App,
    user: InstitutionUser,
    group: Short = "",
    state: Short = "",
    sort: Short = "enrolled",
    page: PageNumber = 1,
) -> HTMLResponse:
    mine = await _mine(app, user)
    if mine is None:
        return app.pages.render(request, "teaching_none.html")
    groups, titles = await _groups_and_titles(app, user, mine["id"])
    chosen = {
        "group": group if group in groups else "",
        "state": state if state in STATES else "",
        "sort": sort if sort in SORTS else "enrolled",
    }
    params: dict[str, str | int] = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE, "sort": chosen["sort"]}
    if chosen["group"]:
        params["group_id"] = chosen["group"]
    if chosen["state"]:
        params["state"] = chosen["state"]
    found = await app.gateway.get(ENROLMENTS, user.access_token, params=params)
    return app.pages.render(
        request,
        "teaching_enrolments.html",
        institution=mine,
        found=found,
        groups=groups,
        titles=titles,
        chosen=chosen,
        page=page,
        pages=page_count(found["total"], PAGE_SIZE),
        page_link=lambda n: _link(request, page=n),
        sort_link=lambda s: _link(request, sort=s, page=1),
        STATES=STATES,
    )


@router.get("/institution/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def record(request: Request, app: App, user: InstitutionUser, enrolment_id: uuid.UUID) -> HTMLResponse:
    notice = request.query_params.get("recorded", "")
    conflict = request.query_params.get("conflict", "")
    return await _record_page(request, app, user, enrolment_id, notice=notice, conflict=conflict)


async def _record_page(
    request: Request,
    app: App,
    user: User,
    enrolment_id: uuid.UUID,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    allowed: list[str] | None = None,
    notice: str = "",
    conflict: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    enrolment = await app.gateway.get(f"{ENROLMENTS}/{enrolment_id}", user.access_token)
    mine = await _mine(app, user)
    group, title = None, None
    if mine is not None:
        groups, titles = await _groups_and_titles(app, user, mine["id"])
        group, title = groups.get(enrolment["group_id"]), titles.get(enrolment["programme_id"])
    return app.pages.render(
        request,
        "teaching_record.html",
        status_code=status_code,
        enrolment=enrolment,
        institution=mine,
        group=group,
        title=title,
        values=values or {},
        errors=errors or {},
        allowed=allowed or [],
        notice=notice if notice in STEPS else "",
        conflict=conflict if conflict in STEPS else "",
        steps=[s for s in STEPS.values() if enrolment["state"] in s.from_states],
        admin=bool(mine and mine["role"] == "provider_admin"),
    )


@router.post("/institution/enrolments/{enrolment_id}/{step}", response_class=HTMLResponse)
async def record_step(
    request: Request,
    app: App,
    user: InstitutionUser,
    enrolment_id: uuid.UUID,
    step: Literal["start", "discontinuation", "completion", "invoice"],
    form: Form,
) -> Response:
    """Without `confirmed`, the confirmation page of what the step records; with it, the step itself."""
    chosen = STEPS[step]
    values = {name: form.get(name, "").strip() for name in chosen.fields}
    errors = _own_checks(chosen, values)
    if errors:
        return await _record_page(request, app, user, enrolment_id, values, errors, status_code=422)
    if form.get("confirmed") != "yes":
        enrolment = await app.gateway.get(f"{ENROLMENTS}/{enrolment_id}", user.access_token)
        return app.pages.render(request, "teaching_confirm.html", enrolment=enrolment, step=chosen, values=values)
    try:
        await app.gateway.post(f"{ENROLMENTS}/{enrolment_id}/{chosen.api}", user.access_token, _body(chosen, values))
    except ApiError as error:
        if error.status == 409:  # recorded meanwhile (another tab, a colleague), or nothing to invoice
            return RedirectResponse(f"/institution/enrolments/{enrolment_id}?conflict={step}", status_code=303)
        if error.status != 422:
            raise
        shown, days = _refusal(error, chosen)
        return await _record_page(request, app, user, enrolment_id, values, shown, days, status_code=422)
    return RedirectResponse(f"/institution/enrolments/{enrolment_id}?recorded={step}", status_code=303)


def _own_checks(step: Step, values: Mapping[str, str]) -> dict[str, str]:
    """What the page itself sees is not a date or a number (the API decides every rule about the days)."""
    errors: dict[str, str] = {}
    if step.fields:
        day = values[step.fields[0]]
        if not day:
            errors[step.fields[0]] = rule_message("missing")
        else:
            try:
                date.fromisoformat(day)
            except ValueError:
                errors[step.fields[0]] = rule_message("date")
    if "hours_attended" in values and not values["hours_attended"].isdigit():
        errors["hours_attended"] = RULES["study_record:hours"]
    if "result" in values and not values["result"]:
        errors["result"] = rule_message("missing")
    return errors


def _body(step: Step, values: Mapping[str, str]) -> dict[str, Any] | None:
    if not step.fields:
        return None
    body: dict[str, Any] = {name: values[name] for name in step.fields if values[name]}
    if "hours_attended" in body:
        body["hours_attended"] = int(body["hours_attended"])
    return body


def _refusal(error: ApiError, step: Step) -> tuple[dict[str, str], list[str]]:
    """The API's refusal as the page shows it beside its field: the rule's message in the page's language (the
    study record's own for its date rules), and the days allowed as the API's message names them (the first and
    the last), which the page writes as its language writes dates."""
    shown: dict[str, str] = {}
    for field, rule in field_errors(error.violations).items():
        key = field if field in step.fields else (step.fields[0] if step.fields else "form")
        shown.setdefault(key, RULES.get(f"study_record:{rule}") or rule_message(rule))
    days = [d for v in error.violations for d in DAY.findall(str(v.get("message", "")))]
    return shown, days[:2]


# --------------------------------------------------------------------------- the survey results


@router.get("/institution/survey-results", response_class=HTMLResponse)
async def survey_results(request: Request, app: App, user: InstitutionUser, page: PageNumber = 1) -> HTMLResponse:
    mine = await _mine(app, user)
    if mine is None:
        return app.pages.render(request, "teaching_none.html")
    return await _results_page(request, app, user, "institutions", uuid.UUID(mine["id"]), page, mine)


@router.get("/institution/survey-results/{breakdown}/{scope_id}", response_class=HTMLResponse)
async def scope_results(
    request: Request, app: App, user: InstitutionUser, breakdown: Breakdown, scope_id: uuid.UUID, page: PageNumber = 1
) -> HTMLResponse:
    return await _results_page(request, app, user, breakdown, scope_id, page, await _mine(app, user))


async def _results_page(
    request: Request,
    app: App,
    user: User,
    breakdown: Breakdown,
    scope_id: uuid.UUID,
    page: int,
    mine: dict[str, Any] | None,
) -> HTMLResponse:
    base = f"{RESULTS}/{breakdown}/{scope_id}"
    found, too_few = None, False
    try:
        found = await app.gateway.get(base, user.access_token)
    except ApiError as error:
        if error.status == 403 and breakdown == "groups":
            too_few = True  # surveys shows a group's results only when enough answered
        elif error.status != 404:
            raise
    comments = None
    if found is not None and (found["completion"] or found["discontinuation"]):
        params = {"limit": COMMENTS_PAGE_SIZE, "offset": (page - 1) * COMMENTS_PAGE_SIZE}
        with contextlib.suppress(ApiError):  # no kind with enough answers: no comments either
            comments = await app.gateway.get(f"{base}/comments", user.access_token, params=params)
    groups: dict[str, dict[str, Any]] = {}
    titles: dict[str, dict[str, str]] = {}
    surveyed: list[dict[str, Any]] = []
    if mine is not None:
        groups, titles = await _groups_and_titles(app, user, mine["id"])
        surveyed = await _surveyed_groups(app, user, mine["id"], scope_id if breakdown == "programmes" else None)
    return app.pages.render(
        request,
        "teaching_results.html",
        institution=mine,
        breakdown=breakdown,
        scope_id=str(scope_id),
        found=found,
        too_few=too_few,
        comments=comments,
        groups=groups,
        titles=titles,
        surveyed=surveyed,
        page=page,
        pages=page_count((comments or {}).get("total", 0), COMMENTS_PAGE_SIZE),
        page_link=lambda n: _link(request, page=n),
        charts=f"/institution/survey-results/{breakdown}/{scope_id}/charts",
    )


async def _surveyed_groups(
    app: App, user: User, institution_id: str, programme_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """The institution's groups that have surveys (surveys' list: also a group catalog no longer lists), of one
    programme or all, each saying whether its results are shown."""
    try:
        found: list[dict[str, Any]] = await app.gateway.get(
            f"{RESULTS}/institutions/{institution_id}/groups", user.access_token
        )
    except ApiError:
        return []
    return [g for g in found if programme_id is None or g["programme_id"] == str(programme_id)]


@router.get("/institution/survey-results/{breakdown}/{scope_id}/charts/{name}.svg")
async def chart(
    request: Request, app: App, user: InstitutionUser, breakdown: Breakdown, scope_id: uuid.UUID, name: Chart
) -> Response:
    """Surveys' chart of the scope, served from here: the page loads nothing from another origin."""
    params = {"lang": language_of_request(request)}
    path = f"{RESULTS}/{breakdown}/{scope_id}/charts/{name}.svg"
    return chart_from_api(await app.gateway.raw(path, user.access_token, params=params))
