"""The public's pages: the catalogue search, a programme, the platform's statistics, the accessibility statement."""

from __future__ import annotations

import math
import uuid
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from web.gateway import ApiError, Unreachable
from web.pages.common import PUBLIC, App, PageNumber, local_path
from web.rendering import LANGUAGE_COOKIE, language_of_request
from web.session import user_of

router = APIRouter(dependencies=PUBLIC)
PAGE_SIZE = 20
SORTS = ("title", "start", "cost", "-cost", "hours", "-hours", "-published")
FORMS = ("in_person", "remote", "hybrid")
LEVELS = tuple(range(1, 9))
LANGUAGES = ("lv", "en", "ru")
"""The languages of studies a learner may filter by (what the catalogue's programmes are taught in)."""
PROJECT_CODE = r"^[A-Z0-9_-]{2,20}$"
Text = Annotated[str, Query(max_length=200)]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, app: App) -> HTMLResponse:
    return app.pages.render(request, "home.html")


@router.get("/catalogue", response_class=HTMLResponse)
async def catalogue(
    request: Request,
    app: App,
    q: Text = "",
    project: Annotated[list[str], Query(max_length=10)] = [],  # noqa: B006
    language: Annotated[list[str], Query(max_length=10)] = [],  # noqa: B006
    digcomp_level: Annotated[list[int], Query(max_length=8)] = [],  # noqa: B006
    city: Text = "",
    form: Text = "",
    starts_from: Text = "",
    starts_until: Text = "",
    free_places: Text = "",
    sort: Text = "title",
    page: PageNumber = 1,
) -> HTMLResponse:
    projects = await app.gateway.public("/api/accounts/funding-projects")
    codes = [p["code"] for p in projects]
    chosen = {
        "q": q.strip(),
        "project": [code for code in project if code in codes],
        "language": [code for code in language if code in LANGUAGES],
        "digcomp_level": [level for level in digcomp_level if level in LEVELS],
        "city": city.strip(),
        "form": form if form in FORMS else "",
        "starts_from": _day(starts_from),
        "starts_until": _day(starts_until),
        "free_places": free_places == "on",
        "sort": sort if sort in SORTS else "title",
    }
    found = await app.gateway.get("/api/catalog/public/programmes", params=_search_params(chosen, page))
    pages = max(1, math.ceil(found["total"] / PAGE_SIZE))
    return app.pages.render(
        request,
        "catalogue.html",
        chosen=chosen,
        found=found,
        page=page,
        pages=pages,
        page_link=lambda n: _page_link(request, n),
        project_options=[(code, code) for code in codes],
        level_options=[(level, level) for level in LEVELS],
    )


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat() if value else ""
    except ValueError:
        return ""


def _search_params(chosen: dict[str, Any], page: int) -> list[tuple[str, str]]:
    params = [("limit", str(PAGE_SIZE)), ("offset", str((page - 1) * PAGE_SIZE)), ("sort", chosen["sort"])]
    params += [("digcomp_level", str(level)) for level in chosen["digcomp_level"]]
    params += [("project", code) for code in chosen["project"]] + [("language", code) for code in chosen["language"]]
    for name in ("q", "city", "form", "starts_from", "starts_until"):
        if chosen[name]:
            params.append((name, chosen[name]))
    if chosen["free_places"]:
        params.append(("free_places", "true"))
    return params


def _page_link(request: Request, number: int) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [("page", str(number))]
    return f"{request.url.path}?{urlencode(query)}"


@router.get("/programmes/{programme_id}", response_class=HTMLResponse)
async def programme(request: Request, app: App, programme_id: uuid.UUID) -> HTMLResponse:
    try:
        found = await app.gateway.get(f"/api/catalog/public/programmes/{programme_id}")
    except ApiError as error:
        if error.status == 404:
            return app.pages.render(request, "not_found.html", status_code=404)
        raise
    return app.pages.render(request, "programme.html", programme=found, approved=await _approved(request, app))


async def _approved(request: Request, app: App) -> list[dict[str, Any]]:
    """The signed-in learner's approved applications: on a programme's page they may enrol in one of its groups."""
    user = user_of(request)
    if user is None or not user.learner:
        return []
    mine = await app.gateway.get("/api/accounts/applications", user.access_token)
    return [a for a in mine if a["state"] == "approved"]


@router.get("/statistics", response_class=HTMLResponse)
async def statistics(request: Request, app: App) -> HTMLResponse:
    try:
        summary = await app.gateway.get("/api/statistics/summary")
        funnels = await app.gateway.get("/api/statistics/funnels")
    except (ApiError, Unreachable):
        summary, funnels = None, []  # the page's own empty state: no statistics (yet)
    return app.pages.render(request, "statistics.html", summary=summary, funnels=funnels)


@router.get("/statistics/charts/funnel/{project}.svg")
async def funnel_chart(request: Request, app: App, project: Annotated[str, Path(pattern=PROJECT_CODE)]) -> Response:
    """A project's funnel as statistics draws it, served from here: the page loads nothing from another origin."""
    params = {"project": project, "language": language_of_request(request)}
    return _svg(await app.gateway.raw("/api/statistics/charts/funnel.svg", params=params))


@router.get("/statistics/charts/accounts.svg")
async def accounts_chart(request: Request, app: App) -> Response:
    params = {"language": language_of_request(request)}
    return _svg(await app.gateway.raw("/api/statistics/charts/series/accounts_opened.svg", params=params))


def _svg(answer: httpx.Response) -> Response:
    return Response(answer.content, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


@router.get("/accessibility", response_class=HTMLResponse)
async def accessibility(request: Request, app: App) -> HTMLResponse:
    return app.pages.render(request, "accessibility.html")


@router.get("/language")
async def language(
    to: Annotated[str, Query(max_length=2)], back: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    """Switches the language (a link, so that it works without JavaScript) and comes back to the same page."""
    response = RedirectResponse(local_path(back), status_code=303)
    if to in ("lv", "en"):
        response.set_cookie(LANGUAGE_COOKIE, to, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response
