"""Applying for studies, in the design system's question-page pattern: the funding project, then the learning need
in the learner's words, then a summary to check before anything is sent; and enrolling once a grant is approved."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import ApiError
from web.messages import rule_message
from web.pages.common import App, Form, Learner, field_errors, learner

router = APIRouter(dependencies=[Depends(learner)])
Code = Annotated[str, Query(max_length=20, pattern=r"^[A-Z0-9_-]{2,20}$")]
WORDS_MAX = 500
WISH_FIELDS = ("programme", "project", "group_id", "learning_need_code", "learning_need")
"""What the application's three pages carry from one to the next."""


async def _programme(app: App, programme_id: uuid.UUID | str) -> dict[str, Any]:
    found: dict[str, Any] = await app.gateway.get(f"/api/catalog/public/programmes/{programme_id}")
    return found


async def _has_account(app: App, user: Learner) -> bool:
    try:
        await app.gateway.get("/api/accounts/accounts/me", user.access_token)
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


@router.get("/projects", response_class=HTMLResponse)
async def projects(request: Request, app: App, user: Learner) -> Response:
    """The funding projects, and for each whether the learner may apply to it now, and why not where not."""
    if not await _has_account(app, user):
        return RedirectResponse("/account", status_code=303)
    eligibility = await app.gateway.get("/api/accounts/accounts/me/eligibility", user.access_token)
    return app.pages.render(request, "projects.html", projects=eligibility, rule_message=rule_message)


@router.get("/apply", response_class=HTMLResponse)
async def choose_project(request: Request, app: App, user: Learner, programme: uuid.UUID) -> Response:
    """The projects the learner may apply to first; the others with the reasons they may not."""
    if not await _has_account(app, user):
        return RedirectResponse("/account", status_code=303)
    eligibility = await app.gateway.get("/api/accounts/accounts/me/eligibility", user.access_token)
    return app.pages.render(
        request,
        "apply_project.html",
        programme=await _programme(app, programme),
        projects=[p for p in eligibility if p["eligible"]],
        others=[p for p in eligibility if not p["eligible"]],
        rule_message=rule_message,
    )


@router.get("/apply/details", response_class=HTMLResponse)
async def details(request: Request, app: App, user: Learner, programme: uuid.UUID, project: Code) -> HTMLResponse:
    return await _details_page(request, app, str(programme), project, values={}, errors={})


async def _details_page(
    request: Request, app: App, programme_id: str, code: str, values: dict[str, str], errors: dict[str, str]
) -> HTMLResponse:
    project = await app.gateway.get(f"/api/accounts/funding-projects/{code}")
    return app.pages.render(
        request,
        "apply_details.html",
        status_code=422 if errors else 200,
        programme=await _programme(app, programme_id),
        project=project,
        values=values,
        errors={field: rule_message(rule) for field, rule in errors.items()},
    )


def _wish(form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The application's body from the form, and what is wrong with it before the API is asked."""
    values = {k: form.get(k, "").strip() for k in WISH_FIELDS}
    errors: dict[str, str] = {}
    if not values["learning_need"]:
        errors["learning_need"] = "missing"
    elif len(values["learning_need"]) > WORDS_MAX:
        errors["learning_need"] = "too_long"
    return values, errors


@router.post("/apply/check", response_class=HTMLResponse)
async def check(request: Request, app: App, user: Learner, form: Form) -> HTMLResponse:
    values, errors = _wish(form)
    if errors:
        return await _details_page(request, app, values["programme"], values["project"], values, errors)
    project = await app.gateway.get(f"/api/accounts/funding-projects/{values['project']}")
    return app.pages.render(
        request,
        "apply_check.html",
        programme=await _programme(app, values["programme"]),
        project=project,
        values=values,
    )


@router.post("/apply/submit")
async def submit(request: Request, app: App, user: Learner, form: Form) -> Response:
    values, errors = _wish(form)
    if errors:
        return await _details_page(request, app, values["programme"], values["project"], values, errors)
    body = {
        "project_code": values["project"],
        "learning_need": values["learning_need"],
        "programme_id": values["programme"],
    }
    body |= {k: values[k] for k in ("learning_need_code", "group_id") if values[k]}
    try:
        await app.gateway.post("/api/accounts/applications", user.access_token, body)
    except ApiError as error:
        if error.status == 409:
            return RedirectResponse("/applications?already=1", status_code=303)
        if error.status != 422:
            raise
        problems = field_errors(error.violations) or {"project": str(error.body.get("error", ""))}
        return await _details_page(request, app, values["programme"], values["project"], values, problems)
    return RedirectResponse("/applications?submitted=1", status_code=303)


@router.post("/applications/{application_id}/enrolment")
async def enrol(request: Request, app: App, user: Learner, application_id: uuid.UUID, form: Form) -> Response:
    group = form.get("group_id", "")
    try:
        await app.gateway.post(
            f"/api/accounts/applications/{application_id}/enrolment", user.access_token, {"group_id": group}
        )
    except ApiError as error:
        if error.status not in (404, 409, 422):
            raise
        return RedirectResponse(f"/applications?enrolment_failed={application_id}", status_code=303)
    return RedirectResponse("/applications?enrolled=1", status_code=303)
