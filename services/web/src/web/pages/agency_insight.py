"""The agency's oversight: provider registrations waiting, the quality flags from surveys, the statistics dashboard
and its rebuild, the exports.

Every figure and every rule is the owning service's: catalog decides a registration's deadline (one Latvian
working day), whether it is overdue and what the register and the signature check found; surveys which programmes
are flagged; statistics every figure and how far a rebuild has come. The pages show them, in Riga time, and ask
before anything changes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from datetime import date as Date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from prasmes_runtime.clock import RIGA

from web.gateway import ApiError, Unreachable
from web.messages import N_, rule_message
from web.pages.common import (
    AgencyUser,
    App,
    Form,
    PageNumber,
    Refused,
    agency,
    chart_from_api,
    field_errors,
    file_from_api,
    page_count,
    page_link,
    refusal_errors,
)
from web.rendering import language_of_request
from web.session import User

router = APIRouter(dependencies=[Depends(agency)])
CATALOG = "/api/catalog"
SURVEYS = "/api/surveys/survey-results"
STATISTICS = "/api/statistics"
PAGE_SIZE = 20
STATES = ("pending", "approved", "rejected")
REJECTION_REASONS = {
    "register_mismatch": N_("The register of education institutions says otherwise"),
    "statement_invalid": N_("The signed statement is not valid"),
    "not_an_education_institution": N_("Not an education institution"),
    "duplicate": N_("Registered already"),
    "other": N_("Another reason"),
}
FLAG_REASONS = {
    "low_rating": N_("Low rating"),
    "high_dropout": N_("High dropout"),
    "description_mismatch": N_("The description did not match"),
}
QUALITY_SORTS = ("flags", "rating", "-dropout", "-mismatch", "title")
PROJECT_CODE = r"^[0-9A-Za-z_-]{1,30}$"
Series = Literal["accounts_opened", "applications_submitted", "granted", "started", "completed"]
Export = Literal["csv", "xlsx"]


def _admin_only(user: User) -> None:
    if not user.agency_admin:
        raise Refused("only an agency administrator rebuilds the statistics")


# --------------------------------------------------------------------------- registrations


def deadline(registration: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """A pending registration's deadline: the end of its due day in Riga (catalog names the day), the time left."""
    due_on = registration.get("decision_due_on")
    if registration.get("status") != "pending" or not due_on:
        return None
    due_at = datetime.combine(Date.fromisoformat(due_on) + timedelta(days=1), time.min, tzinfo=RIGA)
    left = max(timedelta(0), due_at - now)
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    return {"day": due_on, "overdue": bool(registration.get("overdue")), "hours": hours, "minutes": minutes}


def statement_signed(statement: Mapping[str, Any] | None) -> bool:
    return bool(statement) and statement["signatures"] > 0 and statement["timestamps"] > 0  # type: ignore[index]


@router.get("/agency/registrations", response_class=HTMLResponse)
async def registrations(
    request: Request,
    app: App,
    user: AgencyUser,
    state: Annotated[str, Query(max_length=20)] = "pending",
    overdue: Annotated[str, Query(max_length=5)] = "",
    page: PageNumber = 1,
) -> HTMLResponse:
    chosen = {"state": state if state in STATES else "", "overdue": overdue == "true"}
    params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    if chosen["overdue"]:
        params["overdue"] = "true"
    elif chosen["state"]:
        params["status"] = chosen["state"]
    answer = await app.gateway.raw(f"{CATALOG}/providers", user.access_token, params=params)
    items: list[dict[str, Any]] = answer.json()
    total = int(answer.headers.get("x-total-count", len(items)))
    now = datetime.now(UTC)
    return app.pages.render(
        request,
        "agency_registrations.html",
        items=[{**i, "deadline": deadline(i, now), "signed": statement_signed(i.get("statement"))} for i in items],
        total=total,
        chosen=chosen,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        page_link=page_link(request),
    )


async def _registration(app: App, user: User, institution_id: uuid.UUID) -> dict[str, Any]:
    """The registration with the register's extract (None: the register lists it no more) and its statement."""
    found: dict[str, Any] = await app.gateway.get(f"{CATALOG}/providers/{institution_id}", user.access_token)
    found["deadline"] = deadline(found, datetime.now(UTC))
    try:
        found["register"] = await app.gateway.get(
            f"{CATALOG}/registers/institutions/{found['register_number']}", user.access_token
        )
    except ApiError as error:
        if error.status != 404:
            raise
        found["register"] = None
    statement = await app.gateway.get(f"{CATALOG}/documents/{found['statement_document_id']}", user.access_token)
    found["statement"], found["signed"] = statement, statement_signed(statement)
    return found


@router.get("/agency/registrations/{institution_id}", response_class=HTMLResponse)
async def registration(request: Request, app: App, user: AgencyUser, institution_id: uuid.UUID) -> HTMLResponse:
    found = await _registration(app, user, institution_id)
    done = request.query_params.get("done", "")
    return app.pages.render(
        request,
        "agency_registrations_one.html",
        item=found,
        done=done if done in ("approved", "rejected") else "",
        reasons=REJECTION_REASONS,
        errors={},
        form={},
    )


@router.get("/agency/registrations/{institution_id}/statement")
async def statement(app: App, user: AgencyUser, institution_id: uuid.UUID) -> Response:
    """The signed statement as catalog keeps it, downloaded from here (its type and file name kept)."""
    found = await app.gateway.get(f"{CATALOG}/providers/{institution_id}", user.access_token)
    path = f"{CATALOG}/documents/{found['statement_document_id']}/content"
    return file_from_api(await app.gateway.raw(path, user.access_token), f"{found['statement_document_id']}")


@router.get("/agency/registrations/{institution_id}/approve", response_class=HTMLResponse)
async def approve_confirm(request: Request, app: App, user: AgencyUser, institution_id: uuid.UUID) -> HTMLResponse:
    found = await _registration(app, user, institution_id)
    return app.pages.render(request, "agency_registrations_approve.html", item=found, errors={})


@router.post("/agency/registrations/{institution_id}/approve", response_model=None)
async def approve(
    request: Request, app: App, user: AgencyUser, form: Form, institution_id: uuid.UUID
) -> HTMLResponse | RedirectResponse:
    try:
        await app.gateway.post(f"{CATALOG}/providers/{institution_id}/approve", user.access_token, None)
    except ApiError as error:
        if error.status != 409:
            raise
        found = await _registration(app, user, institution_id)
        return app.pages.render(
            request, "agency_registrations_approve.html", item=found, errors={"form": "decided"}, status_code=409
        )
    return RedirectResponse(f"/agency/registrations/{institution_id}?done=approved", status_code=303)


def _messages(errors: Mapping[str, str]) -> dict[str, str]:
    """Each field's rule as the message the page shows beside it (translated by the template)."""
    return {field: rule_message(f"registrations:{rule}") for field, rule in errors.items()}


def _rejection(form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    chosen = {"reason_code": form.get("reason_code", ""), "reason": form.get("reason", "").strip()}
    errors: dict[str, str] = {}
    if chosen["reason_code"] not in REJECTION_REASONS:
        errors["reason_code"] = "choose_reason"
    if not chosen["reason"]:
        errors["reason"] = "reason_needed"
    elif len(chosen["reason"]) > 2000:
        errors["reason"] = "too_long_2000"
    return chosen, errors


@router.post("/agency/registrations/{institution_id}/reject/confirm", response_class=HTMLResponse)
async def reject_confirm(
    request: Request, app: App, user: AgencyUser, form: Form, institution_id: uuid.UUID
) -> HTMLResponse:
    """The reason checked, then what the rejection will change, before anything is sent."""
    chosen, errors = _rejection(form)
    found = await _registration(app, user, institution_id)
    if errors:
        return app.pages.render(
            request,
            "agency_registrations_one.html",
            item=found,
            done="",
            reasons=REJECTION_REASONS,
            errors=_messages(errors),
            form=chosen,
            status_code=422,
        )
    return app.pages.render(
        request, "agency_registrations_reject.html", item=found, form=chosen, reasons=REJECTION_REASONS, errors={}
    )


@router.post("/agency/registrations/{institution_id}/reject", response_model=None)
async def reject(
    request: Request, app: App, user: AgencyUser, form: Form, institution_id: uuid.UUID
) -> HTMLResponse | RedirectResponse:
    chosen, errors = _rejection(form)
    if not errors:
        try:
            await app.gateway.post(f"{CATALOG}/providers/{institution_id}/reject", user.access_token, chosen)
            return RedirectResponse(f"/agency/registrations/{institution_id}?done=rejected", status_code=303)
        except ApiError as error:
            errors = refusal_errors(error, field_errors, {"form": "decided"})
    found = await _registration(app, user, institution_id)
    return app.pages.render(
        request,
        "agency_registrations_one.html",
        item=found,
        done="",
        reasons=REJECTION_REASONS,
        errors=_messages(errors),
        form=chosen,
        status_code=409 if errors.get("form") else 422,
    )


# --------------------------------------------------------------------------- quality flags


@router.get("/agency/quality", response_class=HTMLResponse)
async def quality(
    request: Request,
    app: App,
    user: AgencyUser,
    sort: Annotated[str, Query(max_length=20)] = "flags",
    reason: Annotated[str, Query(max_length=30)] = "",
    page: PageNumber = 1,
) -> HTMLResponse:
    chosen = {"sort": sort if sort in QUALITY_SORTS else "flags", "reason": reason if reason in FLAG_REASONS else ""}
    params = {"sort": chosen["sort"], "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    if chosen["reason"]:
        params["reason"] = chosen["reason"]
    answer = await app.gateway.raw(f"{SURVEYS}/quality-flags", user.access_token, params=params)
    items: list[dict[str, Any]] = answer.json()
    total = int(answer.headers.get("x-total-count", len(items)))
    return app.pages.render(
        request,
        "agency_quality.html",
        items=items,
        total=total,
        chosen=chosen,
        reasons=FLAG_REASONS,
        sorts=QUALITY_SORTS,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        page_link=page_link(request),
    )


@router.get("/agency/quality/programmes/{programme_id}", response_class=HTMLResponse)
async def programme_results(request: Request, app: App, user: AgencyUser, programme_id: uuid.UUID) -> HTMLResponse:
    found = await app.gateway.get(f"{SURVEYS}/programmes/{programme_id}", user.access_token)
    flags = await app.gateway.get(f"{SURVEYS}/quality-flags", user.access_token)
    flagged = next((f for f in flags if f["programme_id"] == str(programme_id)), None)
    return app.pages.render(
        request,
        "agency_quality_programme.html",
        results=found,
        flagged=flagged,
        programme_id=programme_id,
        reasons=FLAG_REASONS,
    )


@router.get("/agency/quality/programmes/{programme_id}/charts/{name}.svg")
async def programme_chart(
    request: Request, app: App, user: AgencyUser, programme_id: uuid.UUID, name: Literal["stars", "reasons"]
) -> Response:
    path = f"{SURVEYS}/programmes/{programme_id}/charts/{name}.svg"
    params = {"language": language_of_request(request)}
    return chart_from_api(await app.gateway.raw(path, user.access_token, params=params))


@router.get("/agency/quality/exports/{table}.{fmt}")
async def quality_export(app: App, user: AgencyUser, table: Literal["answers", "aggregates"], fmt: Export) -> Response:
    answer = await app.gateway.raw(f"{SURVEYS}/exports/{table}.{fmt}", user.access_token)
    return file_from_api(answer, f"{table}.{fmt}")


# --------------------------------------------------------------------------- statistics


async def _rebuild(app: App, user: User) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await app.gateway.get(f"{STATISTICS}/rebuilds/current", user.access_token)
    except (ApiError, Unreachable):
        return None  # the dashboard still shows; only the rebuild's state is missing
    found["percent"] = 100 if found["total"] <= 0 else min(100, found["read"] * 100 // found["total"])
    return found


def _by_code(definitions: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {d["code"]: d for d in definitions}


PROJECT_SERIES = ("applications_submitted", "granted", "completed")


async def _series(app: App, project: str | None) -> dict[str, list[dict[str, Any]]]:
    """A project's daily series (or the accounts' for the whole platform): the tables beside their charts."""
    params = {"project": project} if project else None
    figures = PROJECT_SERIES if project else ("accounts_opened",)
    found = await asyncio.gather(*(app.gateway.get(f"{STATISTICS}/series/{f}", params=params) for f in figures))
    return {figure: answer["points"] for figure, answer in zip(figures, found, strict=True)}


@router.get("/agency/statistics", response_class=HTMLResponse)
async def statistics(request: Request, app: App, user: AgencyUser) -> HTMLResponse:
    try:
        dashboard, anomalies, funnels, accounts = await asyncio.gather(
            app.gateway.get(f"{STATISTICS}/dashboard", user.access_token),
            app.gateway.get(f"{STATISTICS}/anomalies", user.access_token),
            app.gateway.get(f"{STATISTICS}/funnels"),
            _series(app, None),
        )
        codes = [p["project_code"] for p in dashboard["projects"]]
        series = dict(zip(codes, await asyncio.gather(*(_series(app, c) for c in codes)), strict=True))
    except Unreachable:  # the page's own empty state: statistics does not answer now (a rebuild still shows)
        dashboard, anomalies, funnels, accounts, series = None, [], [], {"accounts_opened": []}, {}
    rebuild = await _rebuild(app, user)
    return app.pages.render(
        request,
        "agency_statistics.html",
        dashboard=dashboard,
        definitions=_by_code(dashboard["definitions"] if dashboard else []),
        anomalies=anomalies,
        funnels={f["project_code"]: f for f in funnels},
        series=series,
        accounts=accounts["accounts_opened"],
        rebuild=rebuild,
        started=request.query_params.get("rebuild") == "started",
    )


@router.get("/agency/statistics/rebuild/progress", response_class=HTMLResponse)
async def rebuild_progress(request: Request, app: App, user: AgencyUser) -> HTMLResponse:
    """The rebuild's progress as a fragment of the page: its script asks for it every second or so."""
    return app.pages.render(request, "agency_statistics_progress.html", rebuild=await _rebuild(app, user))


@router.get("/agency/statistics/rebuild", response_class=HTMLResponse)
async def rebuild_confirm(request: Request, app: App, user: AgencyUser) -> HTMLResponse:
    _admin_only(user)
    return app.pages.render(request, "agency_statistics_rebuild.html", rebuild=await _rebuild(app, user))


@router.post("/agency/statistics/rebuild")
async def rebuild(app: App, user: AgencyUser, form: Form) -> RedirectResponse:
    _admin_only(user)
    await app.gateway.post(f"{STATISTICS}/rebuilds", user.access_token, None)
    return RedirectResponse("/agency/statistics?rebuild=started#rebuild", status_code=303)


@router.get("/agency/statistics/charts/funnel/{project}.svg")
async def funnel_chart(
    request: Request, app: App, user: AgencyUser, project: Annotated[str, Path(pattern=PROJECT_CODE)]
) -> Response:
    params = {"project": project, "language": language_of_request(request)}
    return chart_from_api(await app.gateway.raw(f"{STATISTICS}/charts/funnel.svg", params=params))


@router.get("/agency/statistics/charts/series/{figure}.svg")
async def series_chart(
    request: Request,
    app: App,
    user: AgencyUser,
    figure: Series,
    project: Annotated[str, Query(pattern=PROJECT_CODE)] = "",
) -> Response:
    params = {"language": language_of_request(request)} | ({"project": project} if project else {})
    return chart_from_api(await app.gateway.raw(f"{STATISTICS}/charts/series/{figure}.svg", params=params))


@router.get("/agency/statistics/exports/{table}.{fmt}")
async def statistics_export(
    app: App, user: AgencyUser, table: Literal["dashboard", "anomalies"], fmt: Export
) -> Response:
    answer = await app.gateway.raw(f"{STATISTICS}/exports/{table}.{fmt}", user.access_token)
    return file_from_api(answer, f"{table}.{fmt}")
