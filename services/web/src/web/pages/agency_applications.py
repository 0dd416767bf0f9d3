"""The agency's learner applications (filters, decisions, the fair allocation of a window) and funding projects with
their live ledger.

Accounts decides everything: what an officer may see of an application, the grant an approval reserves, the
ranking rules and the lottery of an allocation, every figure of a project's budget. An allocation runs in accounts
in the background; its page follows the run (a script asks for its progress, without it a refresh link does)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.gateway import ApiError
from web.messages import N_, rule_message
from web.pages.common import (
    AgencyUser,
    App,
    Form,
    PageNumber,
    Refused,
    agency,
    field_errors,
    file_from_api,
    page_count,
    page_link,
    refusal_errors,
)
from web.session import User

router = APIRouter(dependencies=[Depends(agency)])
ACCOUNTS = "/api/accounts"
PAGE_SIZE = 25
LEDGER_SIZE = 20
Short = Annotated[str, Query(max_length=100)]
Code = Annotated[str, Path(pattern=r"^[A-Z0-9_-]{2,20}$")]
STATES = (
    "submitted",
    "approved",
    "rejected",
    "withdrawn",
    "lapsed",
    "enrolled",
    "studying",
    "completed",
    "discontinued",
)
SORTS = {
    "submitted": N_("Submitted, oldest first"),
    "-submitted": N_("Submitted, newest first"),
    "-decided": N_("Decided, latest first"),
    "name": N_("Learner's name, A to Z"),
    "-name": N_("Learner's name, Z to A"),
    "state": N_("State"),
}
REJECTION_REASONS = {
    "not_eligible": N_("The learner is not eligible"),
    "incomplete": N_("The application is incomplete"),
    "duplicate": N_("A duplicate of another application"),
    "budget_exhausted": N_("The project's budget is exhausted"),
    "other": N_("Another reason"),
}
FILTER_FIELDS = {"project_code": "project", "submitted_from": "from", "submitted_to": "to", "q": "q", "state": "state"}
"""The API's filter names by the page's."""


def _messages(errors: Mapping[str, str]) -> dict[str, str]:
    return {field: rule_message(f"applications:{rule}") for field, rule in errors.items()}


def _filters(project: str, state: str, q: str, from_: str, to: str, sort: str) -> dict[str, str]:
    """The filters as chosen (an unknown state or sort is no filter)."""
    return {
        "project": project.strip(),
        "state": state if state in STATES else "",
        "q": q.strip(),
        "from": from_.strip(),
        "to": to.strip(),
        "sort": sort if sort in SORTS else "submitted",
    }


def _api_query(chosen: Mapping[str, str]) -> dict[str, str]:
    query = {api: chosen[page] for api, page in FILTER_FIELDS.items() if chosen[page]}
    return {**query, "sort": chosen["sort"]}


async def _projects(app: App) -> list[dict[str, Any]]:
    """The funding projects for the filter (kept a minute in this process: they change seldom)."""
    try:
        found: list[dict[str, Any]] = await app.gateway.public(f"{ACCOUNTS}/funding-projects")
    except ApiError:
        return []
    return found


@router.get("/agency/applications", response_class=HTMLResponse)
async def applications(
    request: Request,
    app: App,
    user: AgencyUser,
    project: Short = "",
    state: Short = "",
    q: Short = "",
    from_: Annotated[str, Query(alias="from", max_length=10)] = "",
    to: Annotated[str, Query(max_length=10)] = "",
    sort: Short = "submitted",
    page: PageNumber = 1,
) -> HTMLResponse:
    chosen = _filters(project, state, q, from_, to, sort)
    query = _api_query(chosen)
    params = {**query, "limit": str(PAGE_SIZE), "offset": str((page - 1) * PAGE_SIZE)}
    errors: dict[str, str] = {}
    found: dict[str, Any] = {"items": [], "total": 0}
    try:
        found = await app.gateway.get(f"{ACCOUNTS}/agency/applications", user.access_token, params=params)
    except ApiError as error:
        if error.status != 422:
            raise
        api_errors = field_errors(error.violations)
        errors = {FILTER_FIELDS.get(f, f): m for f, m in _messages(api_errors).items()}
    total = int(found["total"])
    return app.pages.render(
        request,
        "agency_applications.html",
        items=found["items"],
        total=total,
        chosen=chosen,
        projects=await _projects(app),
        states=STATES,
        sorts=SORTS,
        errors=errors,
        export_query=urlencode({k: v for k, v in chosen.items() if v}),
        page=page,
        pages=page_count(total, PAGE_SIZE),
        page_link=page_link(request),
        status_code=422 if errors else 200,
    )


async def _export(request: Request, app: App, user: User, kind: str) -> Response:
    chosen = _filters(*(request.query_params.get(k, "") for k in ("project", "state", "q", "from", "to", "sort")))
    answer = await app.gateway.raw(
        f"{ACCOUNTS}/agency/applications.{kind}", user.access_token, params=_api_query(chosen)
    )
    return file_from_api(answer, f"applications.{kind}")


@router.get("/agency/applications.csv")
async def applications_csv(request: Request, app: App, user: AgencyUser) -> Response:
    return await _export(request, app, user, "csv")


@router.get("/agency/applications.xlsx")
async def applications_xlsx(request: Request, app: App, user: AgencyUser) -> Response:
    return await _export(request, app, user, "xlsx")


# --------------------------------------------------------------------------- one application


async def _application(app: App, user: User, application_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    """The application as accounts lets the agency see it, and its project (with its live budget)."""
    found: dict[str, Any] = await app.gateway.get(f"{ACCOUNTS}/agency/applications/{application_id}", user.access_token)
    project: dict[str, Any] = await app.gateway.get(f"{ACCOUNTS}/funding-projects/{found['project_code']}")
    return found, project


def _decidable(application: Mapping[str, Any], project: Mapping[str, Any]) -> bool:
    """An officer decides one by one only a submitted application of a first come, first served project."""
    return bool(application["state"] == "submitted" and project["allocation_mode"] == "first_come")


@router.get("/agency/applications/{application_id}", response_class=HTMLResponse)
async def application(request: Request, app: App, user: AgencyUser, application_id: uuid.UUID) -> HTMLResponse:
    found, project = await _application(app, user, application_id)
    done = request.query_params.get("done", "")
    return app.pages.render(
        request,
        "agency_applications_one.html",
        item=found,
        project=project,
        decidable=_decidable(found, project),
        reasons=REJECTION_REASONS,
        done=done if done in ("approved", "rejected") else "",
    )


@router.get("/agency/applications/{application_id}/approve", response_class=HTMLResponse)
async def approve_confirm(request: Request, app: App, user: AgencyUser, application_id: uuid.UUID) -> HTMLResponse:
    found, project = await _application(app, user, application_id)
    return app.pages.render(
        request, "agency_applications_approve.html", item=found, project=project, left=_left(project), errors={}
    )


def _left(project: Mapping[str, Any]) -> Decimal:
    """What stays available of the project's budget after one more grant."""
    return Decimal(str(project["budget"]["available"])) - Decimal(str(project["grant_per_person"]))


@router.post("/agency/applications/{application_id}/approve", response_model=None)
async def approve(
    request: Request, app: App, user: AgencyUser, form: Form, application_id: uuid.UUID
) -> HTMLResponse | RedirectResponse:
    try:
        await app.gateway.post(f"{ACCOUNTS}/agency/applications/{application_id}/approval", user.access_token, None)
    except ApiError as error:
        if error.status != 409:
            raise
        found, project = await _application(app, user, application_id)
        refusal = "budget_exhausted" if found["state"] == "submitted" else "decided"
        errors = {"form": rule_message(f"applications:{refusal}")}
        return app.pages.render(
            request,
            "agency_applications_approve.html",
            item=found,
            project=project,
            left=_left(project),
            errors=errors,
            status_code=409,
        )
    return RedirectResponse(f"/agency/applications/{application_id}?done=approved", status_code=303)


def _rejection(form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    chosen = {"reason_code": form.get("reason_code", ""), "reason": form.get("reason", "").strip()}
    errors: dict[str, str] = {}
    if chosen["reason_code"] not in REJECTION_REASONS:
        errors["reason_code"] = "applications:reason_code"
    if not chosen["reason"]:
        errors["reason"] = "applications:reason"
    return chosen, {f: rule_message(r) for f, r in errors.items()}


@router.get("/agency/applications/{application_id}/reject", response_class=HTMLResponse)
async def reject_confirm(request: Request, app: App, user: AgencyUser, application_id: uuid.UUID) -> HTMLResponse:
    found, project = await _application(app, user, application_id)
    return app.pages.render(
        request,
        "agency_applications_reject.html",
        item=found,
        project=project,
        reasons=REJECTION_REASONS,
        form={},
        errors={},
    )


@router.post("/agency/applications/{application_id}/reject", response_model=None)
async def reject(
    request: Request, app: App, user: AgencyUser, form: Form, application_id: uuid.UUID
) -> HTMLResponse | RedirectResponse:
    chosen, errors = _rejection(form)
    if not errors:
        try:
            path = f"{ACCOUNTS}/agency/applications/{application_id}/rejection"
            await app.gateway.post(path, user.access_token, chosen)
            return RedirectResponse(f"/agency/applications/{application_id}?done=rejected", status_code=303)
        except ApiError as error:
            decided = {"form": rule_message("applications:decided")}
            errors = refusal_errors(error, lambda found: _messages(field_errors(found)), decided)
    found, project = await _application(app, user, application_id)
    return app.pages.render(
        request,
        "agency_applications_reject.html",
        item=found,
        project=project,
        reasons=REJECTION_REASONS,
        form=chosen,
        errors=errors,
        status_code=409 if "form" in errors else 422,
    )


# --------------------------------------------------------------------------- funding projects


def window(project: Mapping[str, Any], now: datetime) -> str:
    """Where the project's application window stands: not_open, open or closed."""
    opens = datetime.fromisoformat(project["window_opens_at"])
    closes = datetime.fromisoformat(project["window_closes_at"])
    return "not_open" if now < opens else "open" if now < closes else "closed"


def allocatable(project: Mapping[str, Any], now: datetime) -> bool:
    """What accounts would allocate now: a window_then_rank project whose window closed, not yet allocated."""
    ranked = project["allocation_mode"] == "window_then_rank"
    return ranked and window(project, now) == "closed" and not project.get("allocated_at")


def _with_window(project: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {**project, "window": window(project, now), "allocatable": allocatable(project, now)}


@router.get("/agency/projects", response_class=HTMLResponse)
async def projects(request: Request, app: App, user: AgencyUser) -> HTMLResponse:
    found: list[dict[str, Any]] = await app.gateway.get(f"{ACCOUNTS}/funding-projects", user.access_token)
    now = datetime.now(UTC)
    return app.pages.render(request, "agency_projects.html", items=[_with_window(p, now) for p in found])


async def _run_of(app: App, user: User, code: str) -> dict[str, Any] | None:
    try:
        run: dict[str, Any] = await app.gateway.get(
            f"{ACCOUNTS}/funding-projects/{code}/allocation-run", user.access_token
        )
    except ApiError as error:
        if error.status != 404:
            raise
        return None
    return run


@router.get("/agency/projects/{code}", response_class=HTMLResponse)
async def project(request: Request, app: App, user: AgencyUser, code: Code, page: PageNumber = 1) -> HTMLResponse:
    found: dict[str, Any] = await app.gateway.get(f"{ACCOUNTS}/funding-projects/{code}", user.access_token)
    params = {"limit": str(LEDGER_SIZE), "offset": str((page - 1) * LEDGER_SIZE)}
    ledger: dict[str, Any] = await app.gateway.get(
        f"{ACCOUNTS}/funding-projects/{code}/ledger", user.access_token, params=params
    )
    return app.pages.render(
        request,
        "agency_projects_one.html",
        project=_with_window(found, datetime.now(UTC)),
        ledger=ledger,
        run=await _run_of(app, user, code),
        admin=user.agency_admin,
        page=page,
        pages=page_count(int(ledger["total"]), LEDGER_SIZE),
        page_link=page_link(request),
    )


def _admin_only(user: User) -> None:
    if not user.agency_admin:
        raise Refused("only an agency administrator allocates a window")


@router.get("/agency/projects/{code}/allocation", response_class=HTMLResponse)
async def allocation_confirm(request: Request, app: App, user: AgencyUser, code: Code) -> HTMLResponse:
    _admin_only(user)
    found: dict[str, Any] = await app.gateway.get(f"{ACCOUNTS}/funding-projects/{code}", user.access_token)
    waiting: dict[str, Any] = await app.gateway.get(
        f"{ACCOUNTS}/agency/applications",
        user.access_token,
        params={"project_code": code, "state": "submitted", "limit": "1"},
    )
    return app.pages.render(
        request,
        "agency_projects_allocation.html",
        project=_with_window(found, datetime.now(UTC)),
        waiting=int(waiting["total"]),
        rules=found.get("ranking_rules") or [],
        errors={},
    )


@router.post("/agency/projects/{code}/allocation", response_model=None)
async def allocation(
    request: Request, app: App, user: AgencyUser, form: Form, code: Code
) -> HTMLResponse | RedirectResponse:
    _admin_only(user)
    try:
        run: dict[str, Any] = await app.gateway.post(
            f"{ACCOUNTS}/funding-projects/{code}/allocations", user.access_token, None
        )
    except ApiError as error:
        if error.status != 409:
            raise
        current = await _run_of(app, user, code)
        if current is not None:  # allocated already: its progress or result is what there is to see
            return RedirectResponse(f"/agency/projects/{code}/allocation/{current['id']}", status_code=303)
        found: dict[str, Any] = await app.gateway.get(f"{ACCOUNTS}/funding-projects/{code}", user.access_token)
        return app.pages.render(
            request,
            "agency_projects_allocation.html",
            project=_with_window(found, datetime.now(UTC)),
            waiting=0,
            rules=found.get("ranking_rules") or [],
            errors={"form": rule_message("applications:not_allocatable")},
            status_code=409,
        )
    return RedirectResponse(f"/agency/projects/{code}/allocation/{run['id']}", status_code=303)


async def _run(app: App, user: User, code: str, allocation_id: uuid.UUID) -> dict[str, Any]:
    run: dict[str, Any] = await app.gateway.get(
        f"{ACCOUNTS}/funding-projects/{code}/allocations/{allocation_id}", user.access_token
    )
    total = max(int(run["total"]), 1)
    return {**run, "percent": min(100, round(100 * int(run["ranked"]) / total))}


@router.get("/agency/projects/{code}/allocation/{allocation_id}", response_class=HTMLResponse)
async def allocation_run(
    request: Request, app: App, user: AgencyUser, code: Code, allocation_id: uuid.UUID
) -> HTMLResponse:
    found: dict[str, Any] = await app.gateway.get(f"{ACCOUNTS}/funding-projects/{code}", user.access_token)
    return app.pages.render(
        request, "agency_projects_run.html", project=found, run=await _run(app, user, code, allocation_id)
    )


@router.get("/agency/projects/{code}/allocation/{allocation_id}/progress", response_class=HTMLResponse)
async def allocation_progress(
    request: Request, app: App, user: AgencyUser, code: Code, allocation_id: uuid.UUID
) -> HTMLResponse:
    """The run's progress as a fragment of its page: the page's script asks for it every second or so."""
    return app.pages.render(
        request, "agency_projects_progress.html", code=code, run=await _run(app, user, code, allocation_id)
    )
