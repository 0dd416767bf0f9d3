"""The institution's teaching pages in-process, over a stand-in for the gateway: the enrolments with the names as
the API gives them, paged, sorted and filtered by the API's parameters; a step of the study record through its
confirmation page, the API's refusal of a date beside its field in the page's language; the survey results with
their figures in tables and the charts proxied as SVG; who may see the pages."""

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

INSTITUTION = "11111111-2222-4333-8444-555555555555"
GROUP = "22222222-3333-4444-8555-666666666666"
PROGRAMME = "33333333-4444-4555-8666-777777777777"
PAST_GROUP = "66666666-3333-4444-8555-666666666666"
"""A group with surveys that catalog no longer lists."""
ENROLMENT = "44444444-5555-4666-8777-888888888888"
CSRF = "the-session-csrf-token"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><title>stars</title></svg>'


def _enrolment(n: int = 0, state: str = "enrolled", **changes: Any) -> dict[str, Any]:
    return {
        "id": ENROLMENT if n == 0 else f"44444444-5555-4666-8777-{n:012d}",
        "application_id": "55555555-6666-4777-8888-999999999999",
        "programme_id": PROGRAMME,
        "group_id": GROUP,
        "institution_id": INSTITUTION,
        "state": state,
        "enrolled_at": "2026-12-01T10:00:00+00:00",
        "started_on": None,
        "ended_on": None,
        "reason": None,
        "hours_attended": None,
        "result": None,
        "learner_name": "Anna Bērziņa" if n == 0 else (None if n == 1 else f"Learner {n}"),
        "invoiced_amount": None,
        "invoiced_at": None,
        **changes,
    }


RESULTS: dict[str, Any] = {
    "scope": {"level": "institution", "id": INSTITUTION, "institution_id": INSTITUTION},
    "invited": {"completion": 20, "discontinuation": 5},
    "answered": {"completion": 16, "discontinuation": 4},
    "response_rate": {"completion": "80.0", "discontinuation": "80.0"},
    "dropout_rate": "20.0",
    "completion": {
        "answers": 16,
        "mean": "4.3",
        "aspects": {
            "teacher": {"answers": 16, "mean": "4.6", "distribution": {"1": 0, "2": 0, "3": 6, "4": 31, "5": 63}}
        },
        "checks": {"description_matched": {"answers": 16, "yes": "88", "no": "12"}},
        "skill_gain": None,
    },
    "discontinuation": {"answers": 4, "reasons": {"time": "75", "job_change": "25"}},
    "withheld": False,
    "min_shown": 3,
}


class FakeGateway:
    """The gateway as the pages call it: answers by path, every call kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.enrolment = _enrolment()
        self.refusal: ApiError | None = None
        self.member = True
        self.group_results: ApiError | None = None

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        self.calls.append(("GET", path, params))
        if path == "/api/notifications/notifications/unread-count":
            return {"unread": 0}
        if path == "/api/catalog/providers/me":
            if not self.member:
                raise ApiError(404, {"error": "not_found"})
            return {"institution": {"id": INSTITUTION, "name": "Rīgas Datorikas mācību centrs"},
                    "membership": {"role": "provider_admin"}}  # fmt: skip
        if path == f"/api/catalog/providers/{INSTITUTION}/groups":
            return [{"id": GROUP, "programme_id": PROGRAMME, "city": "Rīga", "start_date": "2026-11-30",
                     "end_date": "2027-01-29"}]  # fmt: skip
        if path == f"/api/catalog/providers/{INSTITUTION}/programmes":
            return [{"id": PROGRAMME, "title": {"lv": "Datu analīze", "en": "Data analysis"}}]
        if path == "/api/accounts/provider/enrolments":
            items = [_enrolment(n) for n in range(3)]
            return {"items": items, "total": 45, "limit": params["limit"], "offset": params["offset"]}
        if path == f"/api/accounts/provider/enrolments/{ENROLMENT}":
            return self.enrolment
        if path == f"/api/surveys/survey-results/institutions/{INSTITUTION}/groups":
            return [{"id": GROUP, "programme_id": PROGRAMME, "shown": True},
                    {"id": PAST_GROUP, "programme_id": PROGRAMME, "shown": False}]  # fmt: skip
        if path.startswith("/api/surveys/survey-results/groups/") and self.group_results:
            raise self.group_results
        if path.endswith("/comments"):
            texts = {"improvement": "Vairāk prakses"}
            items = [{"kind": "completion", "programme_id": PROGRAMME, "group_id": GROUP, "texts": texts,
                      "submitted_at": "2026-11-20T10:00:00+00:00"}]  # fmt: skip
            return {"items": items, "total": 25, **params}
        if path.startswith("/api/surveys/survey-results/"):
            return RESULTS
        raise AssertionError(path)

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("POST", path, json))
        if self.refusal:
            raise self.refusal
        return self.enrolment

    async def raw(self, path: str, token: str | None = None, params: Any = None) -> httpx.Response:
        self.calls.append(("RAW", path, params))
        return httpx.Response(200, content=SVG, headers={"content-type": "image/svg+xml"})


@pytest.fixture
def gateway(web_app: FastAPI) -> FakeGateway:
    fake = FakeGateway()
    object.__setattr__(web_app.state.parts, "gateway", fake)
    return fake


def _cookie(web_app: FastAPI, roles: list[str]) -> str:
    user = {"subject": "s", "name": "Līga", "roles": roles, "locale": "en", "access_token": "t", "id_token": "",
            "expires_at": time.time() + 3600}  # fmt: skip
    data = b64encode(json.dumps({"user": user, "csrf": CSRF}).encode())
    return itsdangerous.TimestampSigner(web_app.state.parts.settings.resolved_session_secret()).sign(data).decode()


async def _client(web_app: FastAPI, roles: list[str], lang: str = "en") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    cookies = {SESSION_COOKIE: _cookie(web_app, roles), "lang": lang}
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test", cookies=cookies) as client:
        yield client


@pytest.fixture
async def staff(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(web_app, ["provider_admin"]):
        yield client


PAGES = ["/institution/enrolments", f"/institution/enrolments/{ENROLMENT}", "/institution/survey-results",
         f"/institution/survey-results/programmes/{PROGRAMME}"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
async def test_the_pages_are_the_institutions(web: httpx.AsyncClient, web_app: FastAPI, page: str) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303 and httpx.URL(answer.headers["location"]).params["next"] == page
    async for learner in _client(web_app, ["learner"]):
        assert (await learner.get(page)).status_code == 403


@pytest.mark.parametrize("step", ["start", "completion", "discontinuation", "invoice"])
async def test_the_record_forms_refuse_a_missing_or_wrong_csrf_token(staff: httpx.AsyncClient, step: str) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        assert (await staff.post(f"/institution/enrolments/{ENROLMENT}/{step}", data=data)).status_code == 403


async def test_the_enrolments_show_the_names_as_the_api_gives_them_per_group_and_forward_paging(
    staff: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await staff.get(f"/institution/enrolments?group={GROUP}&state=studying&sort=-name&page=2")).text
    params = {"limit": 20, "offset": 20, "sort": "-name", "group_id": GROUP, "state": "studying"}
    assert ("GET", "/api/accounts/provider/enrolments", params) in gateway.calls
    assert "Anna Bērziņa" in page and "Learner 2" in page and "A learner without a name in their profile" in page
    assert "Data analysis: Rīga, 30 November 2026 – 29 January 2027</caption>" in page
    assert f'href="/institution/enrolments/{ENROLMENT}"' in page and "45 enrolments" in page
    assert re.search(r'href="/institution/enrolments\?group=[^"]*page=3"', page)
    assert re.search(r'<option value="-name" selected>', page)


async def test_unknown_filters_are_not_forwarded(staff: httpx.AsyncClient, gateway: FakeGateway) -> None:
    other = "99999999-3333-4444-8555-666666666666"  # not one of the institution's groups
    await staff.get(f"/institution/enrolments?group={other}&state=lost&sort=birth_date")
    (params,) = [p for m, path, p in gateway.calls if path == "/api/accounts/provider/enrolments"]
    assert params == {"limit": 20, "offset": 0, "sort": "enrolled"}


async def test_a_user_of_no_institution_is_told_so(staff: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.member = False
    answer = await staff.get("/institution/enrolments")
    assert answer.status_code == 200 and "You do not act for an education institution yet" in answer.text
    assert not [c for c in gateway.calls if c[1].startswith("/api/accounts")]


async def test_a_completion_goes_through_its_confirmation_page_then_to_the_api(
    staff: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.enrolment = _enrolment(state="studying", started_on="2026-11-30")
    record = (await staff.get(f"/institution/enrolments/{ENROLMENT}")).text
    assert 'action="/institution/enrolments/' + ENROLMENT + '/completion"' in record
    assert '/start"' not in record  # started already
    form = {"csrf_token": CSRF, "completed_on": "2026-12-02", "hours_attended": "120", "result": "passed"}
    confirm = await staff.post(f"/institution/enrolments/{ENROLMENT}/completion", data=form)
    assert confirm.status_code == 200 and not [c for c in gateway.calls if c[0] == "POST"]
    assert "Record the completion of the studies?" in confirm.text and "2 December 2026" in confirm.text
    assert "This cannot be undone" in confirm.text and 'name="confirmed" value="yes"' in confirm.text
    done = await staff.post(f"/institution/enrolments/{ENROLMENT}/completion", data={**form, "confirmed": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith("?recorded=completion")
    body = {"completed_on": "2026-12-02", "hours_attended": 120, "result": "passed"}
    assert [c for c in gateway.calls if c[0] == "POST"] == [
        ("POST", f"/api/accounts/provider/enrolments/{ENROLMENT}/completion", body)
    ]
    shown = await staff.get(done.headers["location"])
    assert "The completion is recorded." in shown.text


async def test_the_apis_refusal_of_a_date_is_shown_beside_its_field_in_the_pages_language(
    web_app: FastAPI, gateway: FakeGateway
) -> None:
    message = "the studies can start from 2026-11-23 (a week before the group starts) until 2026-12-02 (today)"
    violations = [{"field": "body.started_on", "rule": "not_in_future", "message": message}]
    gateway.refusal = ApiError(422, {"error": "invalid_input", "errors": violations})
    form = {"csrf_token": CSRF, "started_on": "2026-12-09", "confirmed": "yes"}
    async for client in _client(web_app, ["provider_staff"], "lv"):
        answer = await client.post(f"/institution/enrolments/{ENROLMENT}/start", data=form)
        assert answer.status_code == 422
        page = answer.text
        assert '<p id="started-on-error" class="govuk-error-message">' in page
        error = page[page.index('id="started-on-error"') : page.index("</p>", page.index('id="started-on-error"'))]
        assert "2026. gada 23. novembris" in error and "2026. gada 2. decembris" in error  # the days, in Latvian
        assert 'value="2026-12-09"' in page and 'href="#started-on"' in page
        assert "The birth date" not in page  # the study record's own message, not the account form's


async def test_a_date_that_is_not_one_is_refused_before_the_confirmation(
    staff: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    answer = await staff.post(f"/institution/enrolments/{ENROLMENT}/start", data={"csrf_token": CSRF, "started_on": ""})
    assert answer.status_code == 422 and "This field is required" in answer.text
    assert not [c for c in gateway.calls if c[0] == "POST"]


async def test_a_step_recorded_meanwhile_shows_the_record_as_it_is(
    staff: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.refusal = ApiError(409, {"error": "conflict", "current": {"state": "studying"}})
    form = {"csrf_token": CSRF, "started_on": "2026-12-01", "confirmed": "yes"}
    answer = await staff.post(f"/institution/enrolments/{ENROLMENT}/start", data=form)
    assert answer.status_code == 303 and answer.headers["location"].endswith("?conflict=start")


async def test_the_survey_results_show_the_figures_in_tables_and_the_charts(
    staff: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await staff.get("/institution/survey-results?page=2")).text
    assert ("GET", f"/api/surveys/survey-results/institutions/{INSTITUTION}", None) in gateway.calls
    comments = (f"/api/surveys/survey-results/institutions/{INSTITUTION}/comments", {"limit": 10, "offset": 10})
    assert ("GET", *comments) in gateway.calls
    charts = f"/institution/survey-results/institutions/{INSTITUTION}/charts"
    assert f'src="{charts}/stars.svg"' in page and f'src="{charts}/reasons.svg"' in page
    assert re.search(r"The teacher(&#39;|')s work and competence</th>\s*<td[^>]*>4.6</td>", page)
    assert "63 %" in page and "Finding the time" in page and "75 %" in page and "20.0 %" in page
    assert "Vairāk prakses" in page and 'href="/institution/survey-results?page=3"' in page
    assert f'href="/institution/survey-results/programmes/{PROGRAMME}"' in page
    assert f'href="/institution/survey-results/groups/{GROUP}"' in page
    assert "Data analysis: a group no longer listed <span" in page and "(fewer than 3 answered: not shown)" in page
    assert f'href="/institution/survey-results/groups/{PAST_GROUP}"' not in page


async def test_a_programmes_results_link_to_its_groups(staff: httpx.AsyncClient, gateway: FakeGateway) -> None:
    page = (await staff.get(f"/institution/survey-results/programmes/{PROGRAMME}")).text
    assert "Survey results: Data analysis" in page and f'href="/institution/survey-results/groups/{GROUP}"' in page
    assert 'id="per-programme"' not in page


async def test_a_group_with_too_few_answers_says_so(staff: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.group_results = ApiError(403, {"error": "forbidden"})
    answer = await staff.get(f"/institution/survey-results/groups/{GROUP}")
    assert answer.status_code == 200 and "Fewer than 3 learners of this group answered" in answer.text
    past = (await staff.get(f"/institution/survey-results/groups/{PAST_GROUP}")).text
    assert "Survey results: Data analysis: a group no longer listed" in past and 'id="per-group"' not in past


async def test_the_charts_are_proxied_as_svg_in_the_pages_language(
    staff: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    answer = await staff.get(f"/institution/survey-results/programmes/{PROGRAMME}/charts/reasons.svg")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    assert answer.content == SVG
    path = f"/api/surveys/survey-results/programmes/{PROGRAMME}/charts/reasons.svg"
    assert ("RAW", path, {"lang": "en"}) in gateway.calls
    assert (await staff.get(f"/institution/survey-results/platform/{PROGRAMME}/charts/stars.svg")).status_code in (
        400,
        404,
        422,
    )
