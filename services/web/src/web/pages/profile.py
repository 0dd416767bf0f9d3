"""The learner's profile and DigComp self-assessment: forms over accounts' PATCH /accounts/me/profile and
POST /accounts/me/digcomp (its history is kept, so every assessment is a new one)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import ApiError
from web.messages import rule_message
from web.pages.common import App, Form, Learner, field_errors, learner

router = APIRouter(dependencies=[Depends(learner)])
PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "preferred_language", "education_level",
                  "employment_status")  # fmt: skip
EDUCATION_LEVELS = ("basic", "secondary", "vocational", "bachelor", "master", "doctoral")
EMPLOYMENT_STATUSES = ("employed", "self_employed", "unemployed", "student", "retired", "other")
DIGCOMP_AREAS = ("information_and_data_literacy", "communication_and_collaboration", "digital_content_creation",
                 "safety", "problem_solving")  # fmt: skip
LEVELS = tuple(range(1, 9))


async def _account(app: App, user: Learner) -> dict[str, Any]:
    mine: dict[str, Any] = await app.gateway.get("/api/accounts/accounts/me", user.access_token)
    return mine


def _profile_page(request: Request, app: App, values: dict[str, Any], errors: dict[str, str]) -> HTMLResponse:
    return app.pages.render(
        request,
        "profile.html",
        status_code=422 if errors else 200,
        values=values,
        errors={field: rule_message(rule) for field, rule in errors.items()},
        education_levels=EDUCATION_LEVELS,
        employment_statuses=EMPLOYMENT_STATUSES,
    )


@router.get("/account/profile", response_class=HTMLResponse)
async def profile(request: Request, app: App, user: Learner) -> HTMLResponse:
    return _profile_page(request, app, (await _account(app, user))["profile"], {})


@router.post("/account/profile", response_class=HTMLResponse)
async def change_profile(request: Request, app: App, user: Learner, form: Form) -> Response:
    """What was filled in changes; a field left empty stays as it was (the API keeps no empty name)."""
    values = {field: form.get(field, "").strip() for field in PROFILE_FIELDS}
    changes = {field: value for field, value in values.items() if value}
    try:
        await app.gateway.patch("/api/accounts/accounts/me/profile", user.access_token, changes)
    except ApiError as error:
        if error.status != 422:
            raise
        return _profile_page(request, app, values, field_errors(error.violations))
    return RedirectResponse("/account?saved=profile", status_code=303)


@router.get("/account/digcomp", response_class=HTMLResponse)
async def digcomp(request: Request, app: App, user: Learner) -> HTMLResponse:
    history = await app.gateway.get("/api/accounts/accounts/me/digcomp", user.access_token)
    latest = history[-1]["levels"] if history else {}
    return app.pages.render(request, "digcomp.html", values=latest, errors={}, areas=DIGCOMP_AREAS, levels=LEVELS)


@router.post("/account/digcomp", response_class=HTMLResponse)
async def assess(request: Request, app: App, user: Learner, form: Form) -> Response:
    values = {area: form.get(area, "") for area in DIGCOMP_AREAS}
    errors = {area: "range_1_8" for area, value in values.items() if not value.isdigit() or int(value) not in LEVELS}
    if not errors:
        levels = {area: int(value) for area, value in values.items()}
        try:
            await app.gateway.post("/api/accounts/accounts/me/digcomp", user.access_token, {"levels": levels})
            return RedirectResponse("/account?saved=digcomp", status_code=303)
        except ApiError as error:
            if error.status != 422:
                raise
            errors = field_errors(error.violations)
    return app.pages.render(
        request,
        "digcomp.html",
        status_code=422,
        values=values,
        errors={field: rule_message(rule) for field, rule in errors.items()},
        areas=DIGCOMP_AREAS,
        levels=LEVELS,
    )
