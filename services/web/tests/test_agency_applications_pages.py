"""The agency's applications, decisions, funding projects and allocation pages in-process, over a stand-in for the
gateway: the filters and sort go to accounts as its query; one API call for the list; approve and reject only after
a confirmation page; the reason's refusal beside its field; allocation only for an administrator (a 403 page for an
officer who posts it), its progress and then its result with the seed and the ranking rules."""

from __future__ import annotations

import json
import re
import time
from base64 import b64encode
from collections.abc import AsyncIterator
from typing import Any

import httpx
import itsdangerous
import pytest
from fastapi import FastAPI
from web.app import SESSION_COOKIE
from web.gateway import ApiError

APPLICATION_ID = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
RUN_ID = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
CSRF = "the-session-csrf-token"
RULES = ["+3 when the learner is unemployed", "ties: a lottery"]


def _project(code: str = "IMK", mode: str = "first_come", allocated: bool = False) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"Project {code}",
        "grant_per_person": "500.00",
        "window_opens_at": "2026-01-01T00:00:00+00:00",
        "window_closes_at": "2026-02-01T00:00:00+00:00",
        "enrolment_deadline": "2026-06-30",
        "allocation_mode": mode,
        "min_age": 18,
        "employment_statuses": None,
        "allocated_at": "2026-02-02T10:00:00+00:00" if allocated else None,
        "lottery_seed": "abc123" if allocated else None,
        "budget": {"budget": "10000.00", "reserved": "1500.00", "spent": "500.00", "available": "8000.00"},
        "learning_needs": [],
        "ranking_rules": RULES if mode == "window_then_rank" else None,
    }


def _application(state: str = "submitted", project: str = "IMK") -> dict[str, Any]:
    return {
        "id": APPLICATION_ID,
        "project_code": project,
        "state": state,
        "submitted_at": "2026-01-10T09:00:00+00:00",
        "learning_need_code": "DATA",
        "learning_need": "Datu analīze",
        "programme_id": None,
        "group_id": None,
        "decided_at": None,
        "reason": None,
        "grant": {"reserved": "0.00", "spent": "0.00", "released": "0.00", "available": "0.00"},
        "learner_name": "Anna Ozola",
        "birth_date": "1980-05-01",
    }


def _run(done: bool) -> dict[str, Any]:
    return {
        "id": RUN_ID,
        "project_code": "RANK",
        "seed": "f00dfeed",
        "total": 400,
        "ranked": 400 if done else 100,
        "approved": 20,
        "rejected": 380 if done else 80,
        "requested_at": "2026-02-02T10:00:00+00:00",
        "finished_at": "2026-02-02T10:00:05+00:00" if done else None,
        "done": done,
        "rules_version": 1,
        "rules": RULES,
    }


class FakeGateway:
    """The gateway as the pages call it: answers by path, every call kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.application = _application()
        self.refusal: ApiError | None = None
        self.run: dict[str, Any] | None = None

    async def public(self, path: str, seconds: float = 60) -> Any:
        self.calls.append(("PUBLIC", path, None))
        return [_project(), _project("RANK", "window_then_rank")]

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        self.calls.append(("GET", path, params))
        if path == "/api/notifications/notifications/unread-count":
            return {"unread": 0}
        if path == "/api/accounts/agency/applications":
            if self.refusal:
                raise self.refusal
            return {"items": [self.application] * 2, "total": 60, "limit": 25, "offset": 0}
        if path == f"/api/accounts/agency/applications/{APPLICATION_ID}":
            return self.application
        if path == "/api/accounts/funding-projects":
            return [_project(), _project("RANK", "window_then_rank")]
        if path.endswith("/ledger"):
            item = {"application_id": APPLICATION_ID, "kind": "reserve", "amount": "500.00", "cause": "approved",
                    "at": "2026-01-11T10:00:00+00:00"}  # fmt: skip
            return {"items": [item], "total": 1, "limit": 20, "offset": 0,
                    "sums": {"reserve": "500.00", "spend": "0.00", "release": "250.00"}}  # fmt: skip
        if path.endswith("/allocation-run"):
            if self.run is None:
                raise ApiError(404, {"error": "not_found"})
            return self.run
        if path == f"/api/accounts/funding-projects/RANK/allocations/{RUN_ID}":
            assert self.run is not None
            return self.run
        if path.startswith("/api/accounts/funding-projects/"):
            code = path.rsplit("/", 1)[-1]
            return _project(code, "window_then_rank" if code == "RANK" else "first_come")
        raise AssertionError(path)

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("POST", path, json))
        if self.refusal:
            raise self.refusal
        if path.endswith("/allocations"):
            self.run = _run(False)
            return self.run
        return self.application

    async def raw(self, path: str, token: str | None = None, params: Any = None) -> httpx.Response:
        self.calls.append(("RAW", path, params))
        headers = {"content-type": "text/csv; charset=utf-8", "content-disposition": 'attachment; filename="a.csv"'}
        return httpx.Response(200, content=b"application_id\n1\n", headers=headers)


@pytest.fixture
def gateway(web_app: FastAPI) -> FakeGateway:
    fake = FakeGateway()
    object.__setattr__(web_app.state.parts, "gateway", fake)
    return fake


def _cookie(web_app: FastAPI, role: str) -> str:
    user = {"subject": "s", "name": "Ilze", "roles": [role], "locale": "en", "access_token": "t",
            "id_token": "", "expires_at": time.time() + 3600}  # fmt: skip
    data = b64encode(json.dumps({"user": user, "csrf": CSRF}).encode())
    return itsdangerous.TimestampSigner(web_app.state.parts.settings.resolved_session_secret()).sign(data).decode()


async def _client(web_app: FastAPI, role: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    cookies = {SESSION_COOKIE: _cookie(web_app, role), "lang": "en"}
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test", cookies=cookies) as client:
        yield client


@pytest.fixture
async def officer(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(web_app, "agency_officer"):
        yield client


@pytest.fixture
async def admin(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(web_app, "agency_admin"):
        yield client


@pytest.fixture
async def learner(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(web_app, "learner"):
        yield client


PAGES = [
    "/agency/applications",
    f"/agency/applications/{APPLICATION_ID}",
    f"/agency/applications/{APPLICATION_ID}/approve",
    f"/agency/applications/{APPLICATION_ID}/reject",
    "/agency/projects",
    "/agency/projects/IMK",
    "/agency/applications.csv",
]


@pytest.mark.parametrize("page", PAGES)
async def test_the_pages_are_the_agencys(web: httpx.AsyncClient, learner: httpx.AsyncClient, page: str) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303 and httpx.URL(answer.headers["location"]).params["next"] == page
    assert (await learner.get(page)).status_code == 403


@pytest.mark.parametrize(
    "form",
    [f"/agency/applications/{APPLICATION_ID}/approve", f"/agency/applications/{APPLICATION_ID}/reject",
     "/agency/projects/RANK/allocation"],
)  # fmt: skip
async def test_the_forms_refuse_a_missing_or_wrong_csrf_token(
    admin: httpx.AsyncClient, gateway: FakeGateway, form: str
) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        assert (await admin.post(form, data=data)).status_code == 403
    assert not [c for c in gateway.calls if c[0] == "POST"]


async def test_the_list_sends_its_filters_and_sort_to_accounts_in_one_call(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    answer = await officer.get(
        "/agency/applications?project=IMK&state=approved&q=Anna&from=2026-01-01&sort=-name&page=2"
    )
    assert answer.status_code == 200
    (call,) = [c for c in gateway.calls if c[1] == "/api/accounts/agency/applications"]
    assert call[2] == {"project_code": "IMK", "state": "approved", "q": "Anna", "submitted_from": "2026-01-01",
                       "sort": "-name", "limit": "25", "offset": "25"}  # fmt: skip
    page = answer.text
    assert "60 applications" in page and "Anna Ozola" in page
    assert 'href="/agency/applications.csv?project=IMK&amp;state=approved&amp;q=Anna' in page
    assert "/agency/applications.xlsx?" in page
    assert re.search(r'<option value="-name" selected>', page)
    assert 'rel="next"' in page and "page=3" in page


async def test_an_unknown_sort_or_state_is_no_filter(officer: httpx.AsyncClient, gateway: FakeGateway) -> None:
    await officer.get("/agency/applications?state=bogus&sort=cost")
    (call,) = [c for c in gateway.calls if c[1] == "/api/accounts/agency/applications"]
    assert call[2] == {"sort": "submitted", "limit": "25", "offset": "0"}


async def test_a_refused_filter_is_shown_beside_its_field(officer: httpx.AsyncClient, gateway: FakeGateway) -> None:
    violations = [{"field": "query.submitted_to", "rule": "not_before_from", "message": "before"}]
    gateway.refusal = ApiError(422, {"error": "invalid_input", "errors": violations})
    answer = await officer.get("/agency/applications?from=2026-02-01&to=2026-01-01")
    assert answer.status_code == 422
    assert '<p id="to-error" class="govuk-error-message">' in answer.text
    assert 'href="#to"' in answer.text


async def test_the_export_streams_the_apis_file_with_the_same_filters(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    answer = await officer.get("/agency/applications.csv?project=IMK&q=Anna")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == 'attachment; filename="a.csv"'
    (call,) = [c for c in gateway.calls if c[0] == "RAW"]
    assert call[1:] == (
        "/api/accounts/agency/applications.csv",
        {"project_code": "IMK", "q": "Anna", "sort": "submitted"},
    )


async def test_approval_goes_through_a_confirmation_that_says_what_it_changes(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    one = (await officer.get(f"/agency/applications/{APPLICATION_ID}")).text
    assert f'href="/agency/applications/{APPLICATION_ID}/approve"' in one and "Anna Ozola" in one
    confirm = (await officer.get(f"/agency/applications/{APPLICATION_ID}/approve")).text
    assert "A grant of" in confirm and re.search(r"7\D?500,00|7\D?500\.00", confirm)
    assert "The learner is told" in confirm and not [c for c in gateway.calls if c[0] == "POST"]
    answer = await officer.post(f"/agency/applications/{APPLICATION_ID}/approve", data={"csrf_token": CSRF})
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=approved")
    assert ("POST", f"/api/accounts/agency/applications/{APPLICATION_ID}/approval", None) in gateway.calls


async def test_an_approval_refused_as_decided_is_a_409_page_naming_why(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.refusal = ApiError(409, {"error": "conflict", "current": {"state": "approved"}})
    gateway.application = _application("approved")
    answer = await officer.post(f"/agency/applications/{APPLICATION_ID}/approve", data={"csrf_token": CSRF})
    assert answer.status_code == 409 and "govuk-error-summary" in answer.text


async def test_a_rejection_needs_a_reason_from_the_list_and_words_for_the_learner(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    form = (await officer.get(f"/agency/applications/{APPLICATION_ID}/reject")).text
    assert len(re.findall(r'name="reason_code" type="radio"', form)) == 5
    missing = await officer.post(f"/agency/applications/{APPLICATION_ID}/reject", data={"csrf_token": CSRF})
    assert missing.status_code == 422
    assert 'id="reason-code-error"' in missing.text and 'id="reason-error"' in missing.text
    assert not [c for c in gateway.calls if c[0] == "POST"]
    data = {"csrf_token": CSRF, "reason_code": "incomplete", "reason": " Nav norādīta vajadzība "}
    answer = await officer.post(f"/agency/applications/{APPLICATION_ID}/reject", data=data)
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=rejected")
    body = {"reason_code": "incomplete", "reason": "Nav norādīta vajadzība"}
    assert ("POST", f"/api/accounts/agency/applications/{APPLICATION_ID}/rejection", body) in gateway.calls


async def test_a_ranked_projects_application_is_not_decided_one_by_one(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.application = _application(project="RANK")
    page = (await officer.get(f"/agency/applications/{APPLICATION_ID}")).text
    assert "/approve" not in page and "decided together by the allocation" in page


async def test_the_projects_show_their_live_ledger(officer: httpx.AsyncClient, gateway: FakeGateway) -> None:
    listed = (await officer.get("/agency/projects")).text
    assert 'href="/agency/projects/IMK"' in listed and "Window closed" in listed
    one = (await officer.get("/agency/projects/IMK")).text
    assert "Released" in one and "250" in one and "1 entry, newest first" in one
    assert f'href="/agency/applications/{APPLICATION_ID}"' in one


async def test_an_officer_is_not_offered_allocation_and_is_refused_it(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await officer.get("/agency/projects/RANK")).text
    assert "/agency/projects/RANK/allocation" not in page and "an agency administrator allocates it" in page
    assert (await officer.get("/agency/projects/RANK/allocation")).status_code == 403
    refused = await officer.post("/agency/projects/RANK/allocation", data={"csrf_token": CSRF})
    assert refused.status_code == 403 and not [c for c in gateway.calls if c[0] == "POST"]


async def test_an_admin_confirms_the_allocation_then_follows_its_progress_to_the_result(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    project = (await admin.get("/agency/projects/RANK")).text
    assert 'href="/agency/projects/RANK/allocation"' in project
    confirm = (await admin.get("/agency/projects/RANK/allocation")).text
    assert "+3 when the learner is unemployed" in confirm and "A lottery seed is drawn now" in confirm
    started = await admin.post("/agency/projects/RANK/allocation", data={"csrf_token": CSRF})
    assert started.status_code == 303 and started.headers["location"] == f"/agency/projects/RANK/allocation/{RUN_ID}"
    assert ("POST", "/api/accounts/funding-projects/RANK/allocations", None) in gateway.calls
    running = (await admin.get(started.headers["location"])).text
    assert 'aria-live="polite"' in running and "/static/agency_applications.js" in running
    assert "100 of 400 (25 %)" in running and "Refresh to see how far it has come" in running
    gateway.run = _run(True)
    fragment = (await admin.get(f"{started.headers['location']}/progress")).text
    assert 'data-done="true"' in fragment and "f00dfeed" in fragment and "380" in fragment
    assert "<html" not in fragment


async def test_a_second_allocation_shows_the_run_there_is(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.run = _run(True)
    gateway.refusal = ApiError(409, {"error": "conflict", "current": {"allocation_id": RUN_ID}})
    again = await admin.post("/agency/projects/RANK/allocation", data={"csrf_token": CSRF})
    assert again.status_code == 303 and again.headers["location"] == f"/agency/projects/RANK/allocation/{RUN_ID}"
