"""The institution's offer pages in-process, over a stand-in for the gateway: the calls with their deadline and time
left in Riga time in both languages, the three steps sent as calls takes them, uploads forwarded with their content
type, the checks list naming each problem's field, rule and step with a link to it, a refused submission (422, 409)
shown, withdrawal and removal only through their confirmation pages, clarifications answered, the agreement's
document served from here, and no page without the institution's rule or a form without its CSRF token."""

from __future__ import annotations

import json
import re
import time
from base64 import b64encode
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import itsdangerous
import pytest
from babel import dates
from fastapi import FastAPI
from web.app import SESSION_COOKIE
from web.gateway import ApiError
from web.pages.offers import field_label, time_left

CSRF = "the-session-csrf-token"
RIGA = ZoneInfo("Europe/Riga")
CALL_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
CLOSED_CALL_ID = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
OFFER_ID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
INSTITUTION_ID = "7d1f0c2e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
PROGRAMME_ID = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
ATTACHMENT_ID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CLARIFICATION_ID = "0f1e2d3c-4b5a-4968-8776-655443322110"
CALLS = "/api/calls"
OFFER = f"{CALLS}/offers/{OFFER_ID}"
LOCATION = {"address": "Brīvības iela 100, Rīga, LV-1001", "city": "Rīga", "viis_id": "VIIS-100101"}
PROBLEMS = [
    {"field": "programmes[0].theory_hours", "rule": "hours_split", "source": "call WEB-1, submission rules",
     "step": "programmes", "message": "the licensed curriculum splits it 40 h theory / 80 h practice"},
    {"field": "terms.statements.call_terms_accepted", "rule": "confirmed", "source": "call WEB-1, submission rules",
     "step": "offer", "message": "confirm that the institution accepts the terms of the call"},
    {"field": "locations[0].viis_id", "rule": "a_rule_the_pages_do_not_know", "source": "call WEB-1",
     "step": "locations", "message": "VIIS has no VIIS-9 for the institution"},
]  # fmt: skip


def _deadline() -> datetime:
    """A deadline minute 3 days, 4 hours and 30 minutes from now (the minute itself on time)."""
    return (datetime.now(UTC) + timedelta(days=3, hours=4, minutes=30)).replace(second=0, microsecond=0)


def _call(call_id: str = CALL_ID, deadline: datetime | None = None, phase: str = "offers") -> dict[str, Any]:
    deadline = deadline or _deadline()
    timeline = {"applications_open_on": "2026-08-01", "applications_close_on": "2026-12-31",
                "offers_open_at": "2026-11-01T07:00:00Z", "offers_deadline_at": deadline.isoformat(),
                "offers_open_at_riga": "", "offers_deadline_riga": "", "evaluation_starts_on": "2026-12-20",
                "evaluation_ends_on": "2026-12-30", "decision_on": "2027-01-05", "agreements_from": "2027-01-05",
                "publication_from": "2027-01-05", "delivery_ends_on": "2027-06-30"}  # fmt: skip
    return {"id": call_id, "code": "WEB-1" if call_id == CALL_ID else "OLD-1",
            "title": {"lv": "Tīmekļa uzaicinājums", "en": "The web call"}, "project_code": "IMK", "phase": phase,
            "timeline": timeline, "max_programmes_per_institution": 3, "institution_criteria": [],
            "programme_criteria": [], "learning_needs": [], "needs_approved_on": None}  # fmt: skip


def _offer(state: str = "draft", version: int = 0) -> dict[str, Any]:
    attachment = {"id": ATTACHMENT_ID, "kind": "application", "programme_id": None, "filename": "pieteikums.pdf",
                  "media_type": "application/pdf", "format": "pdf", "size": 2048, "sha256": "ab" * 32,
                  "signatures": 0, "timestamps": 0, "uploaded_at": "2026-12-01T10:00:00+00:00"}  # fmt: skip
    programme = {"programme_id": PROGRAMME_ID, "theory_hours": 50, "practice_hours": 70,
                 "cost_per_participant": "240.00", "provision": {"equipment": "Dators ar Windows 11 un kameru",
                 "operating_systems": ["windows"]}, "location_viis_ids": ["VIIS-100101"]}  # fmt: skip
    return {
        "id": OFFER_ID, "call_id": CALL_ID, "institution_id": INSTITUTION_ID, "state": state, "version": version,
        "editable": state in ("draft", "withdrawn"),
        "content": {"locations": [LOCATION], "programmes": [programme],
                    "terms": {"funding_source": "IMK", "programme_ids": [PROGRAMME_ID], "statements": ["data_true"]},
                    "attachments": [attachment]},
        "created_at": "2026-12-01T10:00:00+00:00", "updated_at": "2026-12-01T10:00:00+00:00",
    }  # fmt: skip


class FakeGateway:
    """The gateway as the pages call it: answers by path, every call kept; `refusals` by (method, path)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.refusals: dict[tuple[str, str], ApiError] = {}
        self.offer = _offer()
        self.problems: list[dict[str, Any]] = PROBLEMS
        self.call = _call()
        self.clarifications: list[dict[str, Any]] = []
        self.decision: dict[str, Any] | None = None
        self.agreement: dict[str, Any] | None = None
        self.uploads: list[tuple[dict[str, str], str, bytes]] = []

    def _refused(self, method: str, path: str) -> None:
        refusal = self.refusals.get((method, path))
        if refusal:
            raise ApiError(refusal.status, refusal.body)  # a new one each time, as the gateway raises them

    async def upload(self, path: str, token: str | None, content: bytes, media_type: str, params: Any = None) -> Any:
        self.calls.append(("POST", path, params))
        self._refused("POST", path)
        self.uploads.append((dict(params or {}), media_type, content))
        return self.offer["content"]["attachments"][0]

    async def delete(self, path: str, token: str | None) -> Any:
        self.calls.append(("DELETE", path, None))
        self._refused("DELETE", path)
        return self.offer

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        self.calls.append(("GET", path, params))
        self._refused("GET", path)
        answers: dict[str, Any] = {
            "/api/notifications/notifications/unread-count": {"unread": 0},
            f"{CALLS}/calls": {"items": [self.call, _call(CLOSED_CALL_ID, datetime(2025, 10, 10, 20, 59, tzinfo=UTC),
                                                          "closed")], "total": 2, "limit": 20, "offset": 0},
            f"{CALLS}/calls/{CALL_ID}": self.call,
            f"{CALLS}/calls/{CALL_ID}/offers": {"items": [], "total": 0, "limit": 5, "offset": 0},
            f"{CALLS}/calls/{CLOSED_CALL_ID}/offers": {"items": [], "total": 0, "limit": 5, "offset": 0},
            OFFER: self.offer,
            "/api/catalog/providers/me": {"institution": {"id": INSTITUTION_ID}},
            f"/api/catalog/providers/{INSTITUTION_ID}/locations": [LOCATION | {"id": "l1"}],
            f"{CALLS}/institutions/me/programmes": [{"programme_id": PROGRAMME_ID,
                "title": {"lv": "Kiberdrošības pamati", "en": "Cyber security basics"}, "licence_number": "P-2001",
                "hours": 120, "cost_per_participant": "240.00"}],
            f"{OFFER}/versions": {"items": [], "total": 0},
            f"{OFFER}/clarifications": {"items": self.clarifications, "total": len(self.clarifications)},
        }  # fmt: skip
        if path in (f"{OFFER}/decision", f"{OFFER}/agreement"):
            found = self.decision if path.endswith("/decision") else self.agreement
            if found is None:
                raise ApiError(404, {"error": "not_found"})
            return found
        if path not in answers:
            raise AssertionError(path)
        return answers[path]

    async def raw(self, path: str, token: str | None = None, params: Any = None) -> httpx.Response:
        self.calls.append(("GET", path, params))
        if path.endswith("/agreement/document"):
            headers = {"content-type": "application/vnd.etsi.asic-e+zip", "content-disposition": "attachment"}
            return httpx.Response(200, content=b"PK signed", headers=headers)
        catalog = {"id": PROGRAMME_ID, "theory_hours": 40, "practice_hours": 80, "equipment": "Dators ar kameru un"
                   " mikrofonu", "operating_systems": ["windows", "linux"]}  # fmt: skip
        return httpx.Response(200, json=[catalog], headers={"X-Total-Count": "1"})

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("POST", path, json))
        self._refused("POST", path)
        if path.endswith("/checks"):
            return {"ready": not self.problems, "problems": self.problems}
        return self.offer

    async def put(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("PUT", path, json))
        self._refused("PUT", path)
        return self.offer

    def sent(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.calls if (m, p) == (method, path)]


@pytest.fixture
def gateway(web_app: FastAPI) -> FakeGateway:
    fake = FakeGateway()
    object.__setattr__(web_app.state.parts, "gateway", fake)
    return fake


def _session(web_app: FastAPI, role: str) -> str:
    user = {"subject": "me", "name": "Līga", "roles": [role], "locale": "en", "access_token": "t",
            "id_token": "", "expires_at": time.time() + 3600}  # fmt: skip
    data = b64encode(json.dumps({"user": user, "csrf": CSRF}).encode())
    return itsdangerous.TimestampSigner(web_app.state.parts.settings.resolved_session_secret()).sign(data).decode()


async def _client(web_app: FastAPI, role: str, lang: str = "en") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web_app)
    cookies = {SESSION_COOKIE: _session(web_app, role), "lang": lang}
    return httpx.AsyncClient(transport=transport, base_url="http://web.test", cookies=cookies)


@pytest.fixture
async def admin(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(web_app, "provider_admin") as client:
        yield client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


PAGES = ["/institution/offers", f"/institution/offers/{OFFER_ID}", f"/institution/offers/{OFFER_ID}/locations",
         f"/institution/offers/{OFFER_ID}/programmes", f"/institution/offers/{OFFER_ID}/terms",
         f"/institution/offers/{OFFER_ID}/check", f"/institution/offers/{OFFER_ID}/withdraw",
         f"/institution/offers/{OFFER_ID}/attachments/{ATTACHMENT_ID}/remove"]  # fmt: skip
FORMS = [f"/institution/calls/{CALL_ID}/offers", f"/institution/offers/{OFFER_ID}/locations",
         f"/institution/offers/{OFFER_ID}/programmes", f"/institution/offers/{OFFER_ID}/terms",
         f"/institution/offers/{OFFER_ID}/attachments", f"/institution/offers/{OFFER_ID}/submit",
         f"/institution/offers/{OFFER_ID}/withdraw",
         f"/institution/offers/{OFFER_ID}/attachments/{ATTACHMENT_ID}/remove",
         f"/institution/offers/{OFFER_ID}/clarifications/{CLARIFICATION_ID}/answer"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
async def test_the_pages_are_the_institutions_own(web: httpx.AsyncClient, web_app: FastAPI, page: str) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303 and httpx.URL(answer.headers["location"]).params["next"] == page
    for role in ("learner", "agency_officer"):
        async with await _client(web_app, role) as other:
            assert (await other.get(page)).status_code == 403


@pytest.mark.parametrize("page", PAGES)
async def test_every_page_answers_an_administrator(admin: httpx.AsyncClient, page: str) -> None:
    answer = await admin.get(page)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("form", FORMS)
async def test_the_forms_refuse_a_missing_or_wrong_csrf_token(
    admin: httpx.AsyncClient, gateway: FakeGateway, form: str
) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        assert (await admin.post(form, data=data)).status_code == 403
    assert not [c for c in gateway.calls if c[0] in ("POST", "PUT", "DELETE")]


async def test_another_institutions_offer_is_a_not_found_page(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.refusals[("GET", OFFER)] = ApiError(404, {"error": "not_found", "message": "no such offer"})
    for page in PAGES[1:]:
        answer = await admin.get(page)
        assert answer.status_code == 404 and "no such offer" not in answer.text, page


def test_the_time_left_counts_to_the_end_of_the_deadline_minute() -> None:
    deadline = "2025-10-10T20:59:00+00:00"  # 23:59 in Riga
    assert time_left(deadline, datetime(2025, 10, 7, 16, 0, tzinfo=UTC)) == (3, 5, 0)
    assert time_left(deadline, datetime(2025, 10, 10, 20, 59, 59, tzinfo=UTC)) == (0, 0, 0)  # still on time
    assert time_left(deadline, datetime(2025, 10, 10, 21, 0, tzinfo=UTC)) is None


@pytest.mark.parametrize("lang", ["en", "lv"])
async def test_the_calls_show_their_deadline_in_riga_time_and_the_time_left(
    web_app: FastAPI, gateway: FakeGateway, lang: str
) -> None:
    async with await _client(web_app, "provider_admin", lang) as client:
        page = (await client.get("/institution/offers")).text
    deadline = datetime.fromisoformat(gateway.call["timeline"]["offers_deadline_at"]).astimezone(RIGA)
    day = dates.format_date(deadline.date(), format="long", locale="lv_LV" if lang == "lv" else "en_GB")
    row = _text(page.split(f'id="call-{CALL_ID}"')[1].split("</tr>")[0])
    assert f"{day}, {deadline:%H:%M}" in row  # the Riga wall-clock minute, as the language writes the date
    if lang == "en":
        assert "3 days and 4 hours left" in row
        assert "Closed" in _text(page.split(f'id="call-{CLOSED_CALL_ID}"')[1].split("</tr>")[0])
    closed = page.split(f'id="call-{CLOSED_CALL_ID}"')[1].split("</tr>")[0]
    assert "2025" in closed and "23:59" in closed and "/offers" not in closed  # no offer started once closed
    assert f'action="/institution/calls/{CALL_ID}/offers"' in page  # the open window's call may be offered to


async def test_staff_are_not_offered_to_start_an_offer(web_app: FastAPI, gateway: FakeGateway) -> None:
    async with await _client(web_app, "provider_staff") as staff:
        page = (await staff.get("/institution/offers")).text
    assert f"/institution/calls/{CALL_ID}/offers" not in page and "No offer yet" in page


async def test_starting_an_offer_resumes_the_one_the_institution_has(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    answer = await admin.post(f"/institution/calls/{CALL_ID}/offers", data={"csrf_token": CSRF})
    assert answer.headers["location"] == f"/institution/offers/{OFFER_ID}/locations"
    current = {"offer_id": "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a", "state": "draft", "version": 0}
    gateway.refusals[("POST", f"{CALLS}/calls/{CALL_ID}/offers")] = ApiError(409, {"current": current})
    answer = await admin.post(f"/institution/calls/{CALL_ID}/offers", data={"csrf_token": CSRF})
    assert (
        answer.status_code == 303
        and answer.headers["location"] == f"/institution/offers/{current['offer_id']}/locations"
    )
    gateway.refusals[("POST", f"{CALLS}/calls/{CALL_ID}/offers")] = ApiError(409, {"message": "outside the window"})
    answer = await admin.post(f"/institution/calls/{CALL_ID}/offers", data={"csrf_token": CSRF})
    assert answer.headers["location"] == "/institution/offers?refused=409"
    assert "offer window is closed" in (await admin.get(answer.headers["location"])).text


async def test_the_steps_are_sent_as_calls_takes_them(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    step = f"/institution/offers/{OFFER_ID}"
    answer = await admin.post(f"{step}/locations", data={"csrf_token": CSRF, "viis_id": "VIIS-100101"})
    assert answer.headers["location"] == f"{step}/programmes"
    assert gateway.sent("PUT", f"{OFFER}/locations") == [{"locations": [LOCATION]}]
    form = {"csrf_token": CSRF, "programme": PROGRAMME_ID, f"theory_hours-{PROGRAMME_ID}": "40",
            f"practice_hours-{PROGRAMME_ID}": "80", f"cost-{PROGRAMME_ID}": "240,00",
            f"equipment-{PROGRAMME_ID}": "Dators ar kameru", f"os-{PROGRAMME_ID}": ["windows", "nope"],
            f"viis-{PROGRAMME_ID}": "VIIS-100101", "action": "later"}  # fmt: skip
    answer = await admin.post(f"{step}/programmes", data=form)
    assert answer.headers["location"] == f"{step}?saved=1"  # saved, to be resumed later
    (sent,) = gateway.sent("PUT", f"{OFFER}/programmes")
    provision = {"equipment": "Dators ar kameru", "operating_systems": ["windows"]}
    assert sent == {"programmes": [{"programme_id": PROGRAMME_ID, "theory_hours": 40, "practice_hours": 80,
                                    "cost_per_participant": "240.00", "location_viis_ids": ["VIIS-100101"],
                                    "provision": provision}]}  # fmt: skip
    form = {"csrf_token": CSRF, "funding_source": "IMK", "programme_ids": PROGRAMME_ID,
            "statements": ["call_terms_accepted", "data_true"]}  # fmt: skip
    answer = await admin.post(f"{step}/terms", data=form)
    assert answer.headers["location"] == f"{step}/check"
    assert gateway.sent("PUT", f"{OFFER}/terms") == [
        {"funding_source": "IMK", "programme_ids": [PROGRAMME_ID], "statements": ["data_true", "call_terms_accepted"]}
    ]


async def test_step_two_is_filled_in_from_the_offer_and_a_refusal_is_shown(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await admin.get(f"/institution/offers/{OFFER_ID}/programmes")).text
    assert f'name="theory_hours-{PROGRAMME_ID}" type="text" inputmode="numeric" value="50"' in page
    assert 'aria-current="step"' in page and "Step 2 of 3" in page
    violation = {"field": "programmes[0].programme_id", "rule": "known_programme", "message": "not the institution's"}
    gateway.refusals[("PUT", f"{OFFER}/programmes")] = ApiError(422, {"errors": [violation]})
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/programmes", data={"csrf_token": CSRF})
    assert answer.status_code == 422 and "Programme: Choose one of your institution's programmes" in answer.text
    gateway.refusals[("PUT", f"{OFFER}/programmes")] = ApiError(409, {"message": "a submitted offer cannot be edited"})
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/programmes", data={"csrf_token": CSRF})
    assert answer.status_code == 409 and "a submitted offer cannot be edited" in answer.text


async def test_an_upload_is_forwarded_with_its_content_type_and_a_refusal_shown_beside_the_file(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    files = {"file": ("apliecinajums.edoc", b"PK\x03\x04 signed", "application/vnd.etsi.asic-e+zip")}
    form = {"csrf_token": CSRF, "kind": "signed_statement", "programme_id": ""}
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/attachments", data=form, files=files)
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"/institution/offers/{OFFER_ID}/terms")
    assert gateway.uploads == [({"kind": "signed_statement", "filename": "apliecinajums.edoc"},
                                "application/vnd.etsi.asic-e+zip", b"PK\x03\x04 signed")]  # fmt: skip
    files = {"file": ("macibu-plans.pdf", b"%PDF-1.7", "application/pdf")}
    form = {"csrf_token": CSRF, "kind": "curriculum", "programme_id": PROGRAMME_ID}
    await admin.post(f"/institution/offers/{OFFER_ID}/attachments", data=form, files=files)
    assert gateway.uploads[-1][0] == {
        "kind": "curriculum",
        "filename": "macibu-plans.pdf",
        "programme_id": PROGRAMME_ID,
    }
    violation = {"field": "file", "rule": "timestamp_missing", "message": "no time stamp"}
    gateway.refusals[("POST", f"{OFFER}/attachments")] = ApiError(422, {"errors": [violation]})
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/attachments", data=form, files=files)
    assert answer.status_code == 422
    beside = re.search(r'<p id="file-error" class="govuk-error-message">(.*?)</p>', answer.text, re.S)
    assert beside and "The signature carries no time stamp" in beside.group(1)


async def test_the_checks_list_names_each_problems_field_rule_and_step_with_a_link(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await admin.get(f"/institution/offers/{OFFER_ID}/check")).text
    rows = re.findall(r'<tr class="govuk-table__row app-offer-problem"(.*?)</tr>', page, re.S)
    assert len(rows) == 3 and "The checks found 3 problems" in page
    split, statement, unknown = (_text("<x " + r) for r in rows)
    assert "The theory and practice hours differ from the licensed curriculum" in split
    assert "Programmes 1: Theory hours" in split and "hours_split" in split and "40 h theory / 80 h practice" in split
    assert "Confirm this statement" in statement and "The institution accepts the terms of the call" in statement
    assert "Step 3: Funding, statements and documents" in statement and "confirmed" in statement
    assert "VIIS has no VIIS-9 for the institution" in unknown  # no message of its own: the API's words
    assert "Implementation locations 1: VIIS id" in unknown
    for row, step in zip(rows, ("programmes", "terms", "locations"), strict=True):
        assert f'href="/institution/offers/{OFFER_ID}/{step}"' in row
    assert "/submit" not in page  # nothing to submit while a check fails
    assert [c for c in gateway.calls if c[1].startswith(CALLS)] == [
        ("GET", OFFER, None),
        ("POST", f"{OFFER}/checks", None),
    ]


async def test_the_checks_page_in_latvian_keeps_the_apis_words_marked_english(
    web_app: FastAPI, gateway: FakeGateway
) -> None:
    async with await _client(web_app, "provider_admin", "lv") as client:
        page = (await client.get(f"/institution/offers/{OFFER_ID}/check")).text
    assert (
        '<span class="govuk-hint app-offer-detail" lang="en">VIIS has no VIIS-9 for the institution</span>' not in page
    )
    assert 'lang="en">the licensed curriculum splits it 40 h theory / 80 h practice</span>' in page


async def test_no_problem_offers_the_submission_and_a_submission_is_followed_to_the_overview(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.problems = []
    page = (await admin.get(f"/institution/offers/{OFFER_ID}/check")).text
    assert "No problems found" in page and f'action="/institution/offers/{OFFER_ID}/submit"' in page
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/submit", data={"csrf_token": CSRF})
    assert answer.headers["location"] == f"/institution/offers/{OFFER_ID}?submitted=1"
    assert gateway.sent("POST", f"{OFFER}/submit") == [None]


async def test_a_refused_submission_shows_the_check_list_or_why_not_now(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    body = {"errors": [{"field": p["field"], "rule": p["rule"], "message": p["message"]} for p in PROBLEMS[:1]],
            "problems": PROBLEMS[:1]}  # fmt: skip
    gateway.refusals[("POST", f"{OFFER}/submit")] = ApiError(422, body)
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/submit", data={"csrf_token": CSRF})
    assert answer.status_code == 422 and "The checks found 1 problem" in answer.text and "hours_split" in answer.text
    window = "the offer window closed at 2025-10-10 23:59 (Europe/Riga, UTC+03:00)"
    gateway.refusals[("POST", f"{OFFER}/submit")] = ApiError(409, {"error": "conflict", "message": window})
    gateway.problems = []
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/submit", data={"csrf_token": CSRF})
    assert answer.status_code == 409 and window in answer.text and "govuk-error-summary" in answer.text


async def test_withdrawal_goes_through_its_confirmation_page(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.offer = _offer("submitted", 1)
    overview = (await admin.get(f"/institution/offers/{OFFER_ID}")).text
    assert f'href="/institution/offers/{OFFER_ID}/withdraw"' in overview and '/withdraw" novalidate' not in overview
    confirmation = (await admin.get(f"/institution/offers/{OFFER_ID}/withdraw")).text
    assert "version 1 is kept" in confirmation and "3 days and 4 hours left" in confirmation
    assert f'<form method="post" action="/institution/offers/{OFFER_ID}/withdraw"' in confirmation
    assert not gateway.sent("POST", f"{OFFER}/withdraw")  # nothing withdrawn by looking
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/withdraw", data={"csrf_token": CSRF})
    assert answer.headers["location"] == f"/institution/offers/{OFFER_ID}?withdrawn=1"
    gateway.refusals[("POST", f"{OFFER}/withdraw")] = ApiError(409, {"message": "after the deadline"})
    answer = await admin.post(f"/institution/offers/{OFFER_ID}/withdraw", data={"csrf_token": CSRF})
    assert answer.status_code == 409 and "after the deadline" in answer.text


async def test_a_withdrawn_offer_is_offered_to_be_submitted_again(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.offer, gateway.problems = _offer("withdrawn", 1), []
    assert "Check and submit again" in (await admin.get(f"/institution/offers/{OFFER_ID}")).text
    assert "Submit the offer again" in (await admin.get(f"/institution/offers/{OFFER_ID}/check")).text


async def test_an_attachment_is_removed_only_through_its_confirmation_page(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    terms = (await admin.get(f"/institution/offers/{OFFER_ID}/terms")).text
    remove = f"/institution/offers/{OFFER_ID}/attachments/{ATTACHMENT_ID}/remove"
    assert f'href="{remove}"' in terms
    confirmation = (await admin.get(remove)).text
    assert "pieteikums.pdf" in confirmation and "Application (annex 2)" in confirmation
    assert not [c for c in gateway.calls if c[0] == "DELETE"]
    answer = await admin.post(remove, data={"csrf_token": CSRF})
    assert answer.status_code == 303
    assert ("DELETE", f"{OFFER}/attachments/{ATTACHMENT_ID}", None) in gateway.calls


async def test_a_clarification_is_answered_once_by_its_due_day(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.clarifications = [{"id": CLARIFICATION_ID, "offer_id": OFFER_ID, "criteria": ["I1"],
                               "question": "Kurā klasē?", "asked_at": "2026-12-01T10:00:00+00:00",
                               "due_on": "2026-12-08", "answer": None, "answered_at": None}]  # fmt: skip
    page = (await admin.get(f"/institution/offers/{OFFER_ID}")).text
    assert "Kurā klasē?" in page and "the end of 8 December 2026 (Riga time, working days counted)" in page
    path = f"/institution/offers/{OFFER_ID}/clarifications/{CLARIFICATION_ID}/answer"
    answer = await admin.post(path, data={"csrf_token": CSRF, "answer": "  "})
    assert answer.status_code == 422 and "Write the answer" in answer.text
    answer = await admin.post(path, data={"csrf_token": CSRF, "answer": "2. stāva datorklasē"})
    assert answer.headers["location"] == f"/institution/offers/{OFFER_ID}?answered=1"
    assert gateway.sent("POST", f"{OFFER}/clarifications/{CLARIFICATION_ID}/answer") == [
        {"answer": "2. stāva datorklasē"}
    ]
    gateway.refusals[("POST", f"{OFFER}/clarifications/{CLARIFICATION_ID}/answer")] = ApiError(
        409, {"message": "answered already"}
    )
    answer = await admin.post(path, data={"csrf_token": CSRF, "answer": "vēlreiz"})
    assert answer.status_code == 409 and "answered already" in answer.text


async def test_the_signed_agreement_is_served_from_here(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    answer = await admin.get(f"/institution/offers/{OFFER_ID}/agreement/document")
    assert answer.content == b"PK signed" and answer.headers["content-type"] == "application/vnd.etsi.asic-e+zip"
    assert answer.headers["content-disposition"] == "attachment"


def test_a_checks_field_is_written_in_words() -> None:
    def same(text: str) -> str:
        return text

    assert field_label("programmes[1].provision.equipment", {}, same) == "Programmes 2: Equipment a learner needs"
    assert field_label(f"attachments.curriculum.{PROGRAMME_ID}", {PROGRAMME_ID: "Programme 1"}, same) == (
        "Licensed curriculum of a programme: Programme 1"
    )
    assert field_label("institution.registered_years", {}, same) == "The institution: registered_years"


async def test_the_overview_shows_the_decision_with_its_reasons_and_the_agreement(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.offer = _offer("rejected", 1)
    reason = {"criterion": "P2", "code": "kind", "text": "Programma nav profesionālās pilnveides."}
    gateway.decision = {"offer_id": OFFER_ID, "outcome": "rejected", "decided_at": "2027-01-05T08:00:00+00:00",
                        "reasons": [reason]}  # fmt: skip
    page = _text((await admin.get(f"/institution/offers/{OFFER_ID}")).text)
    assert "Rejected decided on 5 January 2027, 10:00" in page  # in Riga time
    assert "P2 Programma nav profesionālās pilnveides." in page and "No agreement yet." in page
    gateway.offer, gateway.decision = _offer("approved", 1), None
    gateway.agreement = {"offer_id": OFFER_ID, "number": "WEB-1/2027/001", "valid_from": "2027-01-05",
                         "valid_until": "2027-06-30", "programme_ids": [PROGRAMME_ID], "signed": True,
                         "signed_at": "2027-01-06T09:00:00+00:00", "document_filename": "ligums.edoc",
                         "ended_at": None, "created_at": "2027-01-05T09:00:00+00:00"}  # fmt: skip
    html = (await admin.get(f"/institution/offers/{OFFER_ID}")).text
    assert "WEB-1/2027/001" in html and "5 January 2027 – 30 June 2027" in html
    assert f'href="/institution/offers/{OFFER_ID}/agreement/document"' in html
    assert "Withdraw the offer" not in html and "Not decided yet." in html
