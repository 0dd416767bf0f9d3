"""The surveys and notices pages in-process, over a stand-in for the gateway: each question kind as its component,
pre-filled with the saved answer; the form's answers as the API takes them; the API's refusal beside its question;
a sent survey read-only; the notices paged, marked unread, marked read from the list and when opened."""

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
from web.pages.common import unread_count
from web.session import User

SURVEY_ID = "0b9c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"
PROGRAMME_ID = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
NOTICE_ID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
CSRF = "the-session-csrf-token"
QUESTIONS: list[dict[str, Any]] = [
    {"id": "teacher", "kind": "stars", "text": "The teacher's work", "required": True, "min": 1, "max": 5},
    {"id": "description_matched", "kind": "yes_no", "text": "Did it match?", "required": True},
    {"id": "digcomp_after", "kind": "level", "text": "Your skills after", "required": True, "min": 1, "max": 8},
    {
        "id": "reasons",
        "kind": "choices",
        "text": "Why did you stop?",
        "required": True,
        "options": [{"code": "time", "text": "Finding the time"}, {"code": "other", "text": "Other"}],
    },
    {
        "id": "other_reason",
        "kind": "text",
        "text": "Another reason",
        "required": False,
        "max_length": 2000,
        "required_with": {"question": "reasons", "option": "other"},
    },
    {"id": "improvement", "kind": "text", "text": "What should be improved?", "required": False, "max_length": 2000},
]


def _survey(status: str = "open", answers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": SURVEY_ID,
        "kind": "completion",
        "status": status,
        "programme_id": PROGRAMME_ID,
        "institution_id": PROGRAMME_ID,
        "questionnaire_version": 1,
        "invited_at": "2026-12-01T10:00:00+00:00",
        "closes_at": "2099-12-31T10:00:00+00:00",
        "saved_at": None,
        "submitted_at": "2026-12-02T10:00:00+00:00" if status == "submitted" else None,
        "questionnaire": {
            "kind": "completion",
            "version": 1,
            "language": "en",
            "title": "Study evaluation survey",
            "questions": QUESTIONS,
        },
        "answers": answers or {},
    }


class FakeGateway:
    """The gateway as the pages call it: answers by path, every call kept."""

    def __init__(self, survey: dict[str, Any]) -> None:
        self.survey = survey
        self.calls: list[tuple[str, str, Any]] = []
        self.refusal: ApiError | None = None
        self.notices = [_notice(i) for i in range(12)]

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        self.calls.append(("GET", path, params))
        if path == "/api/surveys/surveys/mine":
            return {"items": [self.survey], "total": 1, "limit": 200, "offset": 0}
        if path.startswith("/api/surveys/surveys/"):
            return self.survey
        if path.startswith("/api/catalog/public/programmes/"):
            return {"id": PROGRAMME_ID, "title": {"lv": "Datu analīze", "en": "Data analysis"}}
        if path == "/api/notifications/notifications/unread-count":
            return {"unread": sum(1 for n in self.notices if not n["read_at"])}
        if path == "/api/notifications/notifications":
            offset, limit = params["offset"], params["limit"]
            return {"items": self.notices[offset : offset + limit], "total": len(self.notices), **params}
        raise AssertionError(path)

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("POST", path, json))
        if self.refusal:
            raise self.refusal
        if path.endswith("/read"):
            return {**self.notices[0], "read_at": "2026-12-02T11:00:00+00:00"}
        return self.survey

    async def put(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("PUT", path, json))
        return self.survey


def _notice(i: int) -> dict[str, Any]:
    reference = {"type": "survey", "id": SURVEY_ID, "path": f"/surveys/{SURVEY_ID}"} if i == 0 else None
    return {
        "id": NOTICE_ID if i == 0 else f"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e{i:02d}",
        "kind": "survey_invited" if i == 0 else "grant_spent",
        "title": {"lv": f"Paziņojums {i}", "en": f"Notice {i}"},
        "body": {"lv": f"Teksts {i}", "en": f"Text {i}"},
        "created_at": "2026-12-02T10:00:00+00:00",
        "read_at": None if i % 2 == 0 else "2026-12-02T10:30:00+00:00",
        "reference": reference,
    }


@pytest.fixture
def gateway(web_app: FastAPI) -> FakeGateway:
    fake = FakeGateway(_survey(answers={"teacher": 4, "description_matched": False, "improvement": "More"}))
    object.__setattr__(web_app.state.parts, "gateway", fake)
    return fake


def _session_cookie(web_app: FastAPI) -> str:
    user = {"subject": "s", "name": "Jānis", "roles": ["learner"], "locale": "en", "access_token": "t",
            "id_token": "", "expires_at": time.time() + 3600}  # fmt: skip
    data = b64encode(json.dumps({"user": user, "csrf": CSRF}).encode())
    return itsdangerous.TimestampSigner(web_app.state.parts.settings.resolved_session_secret()).sign(data).decode()


@pytest.fixture
async def signed_in(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    cookies = {SESSION_COOKIE: _session_cookie(web_app), "lang": "en"}
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test", cookies=cookies) as client:
        yield client


@pytest.mark.parametrize("page", ["/surveys", f"/surveys/{SURVEY_ID}", "/notices", f"/notices/{NOTICE_ID}"])
async def test_the_pages_are_the_learners_own(web: httpx.AsyncClient, page: str) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303 and httpx.URL(answer.headers["location"]).params["next"] == page


@pytest.mark.parametrize("form", [f"/surveys/{SURVEY_ID}", f"/notices/{NOTICE_ID}/read"])
async def test_the_forms_refuse_a_missing_or_wrong_csrf_token(signed_in: httpx.AsyncClient, form: str) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        assert (await signed_in.post(form, data=data)).status_code == 403


async def test_each_question_kind_is_its_component_prefilled_with_the_saved_answer(
    signed_in: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await signed_in.get(f"/surveys/{SURVEY_ID}")).text
    assert ("GET", f"/api/surveys/surveys/{SURVEY_ID}", {"lang": "en"}) in gateway.calls
    assert "Data analysis" in page and '<h1 class="govuk-heading-l">Study evaluation survey</h1>' in page
    assert len(re.findall(r'name="teacher" type="radio"', page)) == 5 and "4 stars" in page
    assert re.search(r'id="teacher-4" name="teacher" type="radio" value="4" checked', page)
    assert len(re.findall(r'name="digcomp_after" type="radio"', page)) == 8
    assert re.search(r'name="description_matched" type="radio" value="no" checked', page)
    assert len(re.findall(r'name="reasons" type="checkbox"', page)) == 2
    assert 'data-aria-controls="conditional-reasons-2"' in page  # "other" reveals its text
    assert re.search(r'<textarea [^>]*name="improvement"[^>]*maxlength="2000"[^>]*>More</textarea>', page)
    assert 'value="send"' in page and 'value="save"' in page


async def test_saving_sends_the_answers_as_the_api_takes_them(
    signed_in: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    form = {"csrf_token": CSRF, "action": "save", "teacher": "5", "description_matched": "yes",
            "digcomp_after": "", "other_reason": "hidden", "improvement": " Line 1\r\nLine 2 "}  # fmt: skip
    answer = await signed_in.post(f"/surveys/{SURVEY_ID}", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == f"/surveys/{SURVEY_ID}?saved=1"
    put = [body for method, _, body in gateway.calls if method == "PUT"]
    assert put == [{"answers": {"teacher": 5, "description_matched": True, "improvement": "Line 1\nLine 2"}}]
    page = await signed_in.get(answer.headers["location"])
    assert "Your answers are saved" in page.text


async def test_ticked_boxes_and_their_revealed_text_are_sent_together(
    signed_in: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    form = {"csrf_token": CSRF, "action": "send", "reasons": ["time", "other"], "other_reason": "Moved away"}
    answer = await signed_in.post(f"/surveys/{SURVEY_ID}", data=form)
    assert answer.headers["location"] == f"/surveys/{SURVEY_ID}?sent=1"
    (body,) = [body for method, path, body in gateway.calls if path.endswith("/submission")]
    assert body == {"answers": {"reasons": ["time", "other"], "other_reason": "Moved away"}}


async def test_a_refused_answer_is_shown_beside_its_question_and_what_was_entered_is_kept(
    signed_in: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    violations = [{"field": "answers.digcomp_after", "rule": "missing", "message": "must be answered"}]
    gateway.refusal = ApiError(422, {"error": "invalid_input", "errors": violations})
    form = {"csrf_token": CSRF, "action": "send", "teacher": "2", "improvement": "Slower"}
    answer = await signed_in.post(f"/surveys/{SURVEY_ID}", data=form)
    assert answer.status_code == 422
    page = answer.text
    assert '<p id="digcomp-after-error" class="govuk-error-message">' in page
    assert re.search(r'<a href="#digcomp-after">Your skills after: This field is required</a>', page)
    assert re.search(r'aria-describedby="digcomp-after-hint digcomp-after-error"', page)
    assert re.search(r'value="2" checked', page) and ">Slower</textarea>" in page
    assert "<title>Error: " in page


async def test_a_sent_survey_is_read_only(signed_in: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.survey = _survey("submitted", {"teacher": 3, "reasons": ["time"], "description_matched": True})
    page = (await signed_in.get(f"/surveys/{SURVEY_ID}?sent=1")).text
    assert '<form method="post" action="/surveys/' not in page and "Thank you: your answers are sent" in page
    assert "3 stars" in page and "Finding the time" in page and "Not answered" in page
    answer = await signed_in.post(f"/surveys/{SURVEY_ID}", data={"csrf_token": CSRF, "action": "send"})
    assert answer.status_code == 303 and not [c for c in gateway.calls if c[0] != "GET"]
    listed = (await signed_in.get("/surveys")).text
    assert "Sent on 2 December 2026, 12:00" in listed and "You have no survey to answer" in listed


async def test_the_notices_are_paged_with_the_unread_marked(signed_in: httpx.AsyncClient, gateway: FakeGateway) -> None:
    first = (await signed_in.get("/notices")).text
    assert "You have 6 unread notices." in first and first.count('class="app-result"') == 10
    assert first.count(">Unread</strong>") == 5 and first.count(">Mark as read<") == 5
    assert 'href="/notices?page=2"' in first
    second = (await signed_in.get("/notices?page=2")).text
    assert "Notice 11" in second and "Notice 1<" not in second
    assert ("GET", "/api/notifications/notifications", {"limit": 10, "offset": 10}) in gateway.calls


async def test_a_notice_is_marked_read_from_the_list_and_when_opened(
    signed_in: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    answer = await signed_in.post(f"/notices/{NOTICE_ID}/read", data={"csrf_token": CSRF, "page": "2"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/notices?page=2#notice-{NOTICE_ID}"
    opened = await signed_in.get(f"/notices/{NOTICE_ID}")
    assert opened.status_code == 200 and "Notice 0" in opened.text
    assert f'href="/surveys/{SURVEY_ID}"' in opened.text
    reads = [path for method, path, _ in gateway.calls if method == "POST"]
    assert reads == [f"/api/notifications/notifications/{NOTICE_ID}/read"] * 2


async def test_the_unread_count_for_the_layout(web_app: FastAPI, gateway: FakeGateway) -> None:
    user = User("s", "Jānis", ("learner",), "en", "t", "", time.time() + 3600)
    assert await unread_count(web_app.state.parts, user) == 6
