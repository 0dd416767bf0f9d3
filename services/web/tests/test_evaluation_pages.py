"""The agency's calls, evaluation workspace, four-eyes decision and agreement pages in-process, over a stand-in for
the gateway: the timeline with the current phase marked; the officer chosen by user name; findings and
clarifications sent as calls takes them; the evaluator refused the decision, shown and not offered the form;
reasons per criterion, and a confirmation page before anything is decided; the exports streamed with their type;
the signed agreement uploaded as a multipart form and sent to calls as the body; who may see the pages."""

from __future__ import annotations

import copy
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
from web.pages.evaluation import call_body, criteria_of, needs_of

CALL_ID = "1a2b3c4d-0000-4000-8000-000000000001"
OFFER_ID = "1a2b3c4d-0000-4000-8000-000000000002"
INSTITUTION_ID = "1a2b3c4d-0000-4000-8000-000000000003"
PROGRAMME_ID = "1a2b3c4d-0000-4000-8000-000000000004"
ATTACHMENT_ID = "1a2b3c4d-0000-4000-8000-000000000005"
CSRF = "the-session-csrf-token"
ILZE, MARTINS = "sub-ilze", "sub-martins"
CRITERIA = ["I1", "P1"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CALL: dict[str, Any] = {
    "id": CALL_ID,
    "code": "IMK-9",
    "title": {"lv": "Devītais uzaicinājums", "en": "The ninth call"},
    "project_code": "IMK",
    "phase": "evaluation",
    "timeline": {
        "applications_open_on": "2026-09-01",
        "applications_close_on": "2026-12-31",
        "offers_open_at": "2026-09-01T06:00:00Z",
        "offers_deadline_at": "2026-10-10T20:59:00Z",
        "offers_open_at_riga": "2026-09-01 09:00 (Europe/Riga, UTC+03:00)",
        "offers_deadline_riga": "2026-10-10 23:59 (Europe/Riga, UTC+03:00)",
        "evaluation_starts_on": "2026-10-12",
        "evaluation_ends_on": "2026-10-30",
        "decision_on": "2026-11-10",
        "agreements_from": "2026-11-10",
        "publication_from": "2026-11-10",
        "delivery_ends_on": "2027-04-30",
    },
    "max_programmes_per_institution": 3,
    "institution_criteria": [{"code": "I1", "rule": "accredited", "params": {}, "source": "call IMK-9, criterion I1"}],
    "programme_criteria": [{"code": "P1", "rule": "licensed", "params": {}, "source": "call IMK-9, criterion P1"}],
    "learning_needs": [],
    "needs_approved_on": None,
}
OFFER: dict[str, Any] = {
    "id": OFFER_ID,
    "call_id": CALL_ID,
    "institution_id": INSTITUTION_ID,
    "state": "under_evaluation",
    "version": 1,
    "editable": False,
    "content": {
        "locations": [{"address": "Brīvības iela 100, Rīga", "city": "Rīga", "viis_id": "VIIS-100101"}],
        "programmes": [
            {
                "programme_id": PROGRAMME_ID,
                "theory_hours": 60,
                "practice_hours": 100,
                "cost_per_participant": "319.49",
                "provision": {"equipment": "Dators", "operating_systems": ["windows"]},
                "location_viis_ids": ["VIIS-100101"],
            }
        ],
        "terms": {"funding_source": "IMK", "programme_ids": [PROGRAMME_ID], "statements": ["data_true"]},
        "attachments": [
            {
                "id": ATTACHMENT_ID,
                "kind": "signed_statement",
                "programme_id": None,
                "filename": "apliecinājums.edoc",
                "media_type": "application/vnd.etsi.asic-e+zip",
                "format": "asice",
                "size": 20480,
                "sha256": "ab" * 32,
                "signatures": 1,
                "timestamps": 1,
                "uploaded_at": "2026-10-01T08:00:00Z",
            }
        ],
    },
    "created_at": "2026-09-20T08:00:00Z",
    "updated_at": "2026-10-05T08:00:00Z",
}


def _evaluation(findings: dict[str, str], evaluator: str | None = ILZE) -> dict[str, Any]:
    recorded = [
        {"criterion": c, "result": r, "note": f"note {c}", "recorded_at": "2026-10-13T08:00:00Z"}
        for c, r in findings.items()
    ]
    missing = [c for c in CRITERIA if findings.get(c) not in ("meets", "does_not_meet")]
    return {
        "offer_id": OFFER_ID,
        "state": "under_evaluation",
        "evaluator_id": evaluator,
        "assigned_at": "2026-10-12T08:00:00Z" if evaluator else None,
        "criteria": CRITERIA,
        "findings": recorded,
        "missing": missing,
        "complete": not missing,
    }


class Uploads:
    """The files the pages sent as a request's body (the signed agreement), and what the API answers them."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []
        self.answer = httpx.Response(200, json={"signed": True})


class FakeGateway:
    """Calls, catalog and the directory as the pages ask them: answers by path, every call kept."""

    async def upload(self, path: str, token: str | None, content: bytes, media_type: str, params: Any = None) -> Any:
        self.client.posts.append((str(httpx.URL(path, params=params)), content, {"Content-Type": media_type}))
        answer = self.client.answer
        if not answer.is_success:
            raise ApiError(answer.status_code, answer.json())
        return answer.json()

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.call = copy.deepcopy(CALL)
        self.offer = copy.deepcopy(OFFER)
        self.evaluation = _evaluation({"I1": "meets"})
        self.refusal: ApiError | None = None
        self.decision: dict[str, Any] | None = None
        self.agreement: dict[str, Any] | None = None
        self.client = Uploads()

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        self.calls.append(("GET", path, params))
        answers: dict[str, Any] = {
            "/api/calls/calls": {"items": [self.call], "total": 1, "limit": 10, "offset": 0},
            f"/api/calls/calls/{CALL_ID}": self.call,
            f"/api/calls/offers/{OFFER_ID}": self.offer,
            f"/api/calls/offers/{OFFER_ID}/evaluation": self.evaluation,
            f"/api/calls/offers/{OFFER_ID}/clarifications": {"items": [_clarification()], "total": 1},
            f"/api/calls/agency/calls/{CALL_ID}/offers-per-state": {"submitted": 2, "under_evaluation": 1},
            f"/api/calls/agency/calls/{CALL_ID}/evaluation-progress": {"items": [_progress()], "total": 1},
            f"/api/calls/agency/calls/{CALL_ID}/offers": {"items": [_listed()], "total": 11},
            f"/api/calls/offers/{OFFER_ID}/attachments/{ATTACHMENT_ID}": OFFER["content"]["attachments"][0],
            f"/api/catalog/providers/{INSTITUTION_ID}": {
                "id": INSTITUTION_ID,
                "name": "Rīgas Datorikas mācību centrs",
                "register_number": "3360800001",
            },
            f"/api/catalog/programmes/{PROGRAMME_ID}": _programme(),
            "/api/notifications/notifications/unread-count": {"unread": 0},
        }
        if path == "/auth/directory/users":
            return self._directory(params)
        if path.endswith("/decision") or path.endswith("/agreement"):
            found = self.decision if path.endswith("/decision") else self.agreement
            if found is None:
                raise ApiError(404, {"error": "not_found"})
            return found
        if path not in answers:
            raise AssertionError(path)
        return answers[path]

    def _directory(self, params: Any) -> Any:
        people = {"ilze": ILZE, "martins": MARTINS}
        if isinstance(params, dict):
            if params["username"] not in people:
                raise ApiError(404, {"error": "not_found"})
            return {"subject": people[params["username"]], "username": params["username"], "display_name": "Ilze"}
        names = {ILZE: "Ilze Bērziņa", MARTINS: "Mārtiņš Kalniņš"}
        return {"users": [{"subject": s, "display_name": names[s]} for _, s in params if s in names]}

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        return self._write("POST", path, json)

    async def put(self, path: str, token: str | None, json: Any) -> Any:
        return self._write("PUT", path, json)

    def _write(self, method: str, path: str, body: Any) -> Any:
        self.calls.append((method, path, body))
        if self.refusal:
            raise self.refusal
        return {"id": CALL_ID} if path == "/api/calls/calls" else {}

    async def raw(self, path: str, token: str | None = None, params: Any = None) -> httpx.Response:
        self.calls.append(("RAW", path, params))
        if path.endswith(".xlsx"):
            headers = {"content-type": XLSX, "content-disposition": 'attachment; filename="decisions.xlsx"'}
            return httpx.Response(200, content=b"PK\x03\x04xlsx", headers=headers)
        if path.endswith(".csv"):
            headers = {"content-type": "text/csv; charset=utf-8", "content-disposition": "attachment; x.csv"}
            return httpx.Response(200, content=b"offer_id,outcome\n", headers=headers)
        return httpx.Response(200, content=b"%PDF-1.7", headers={"content-type": "application/vnd.etsi.asic-e+zip"})

    def writes(self) -> list[tuple[str, str, Any]]:
        return [c for c in self.calls if c[0] in ("POST", "PUT")]


def _clarification() -> dict[str, Any]:
    return {
        "id": "c1",
        "offer_id": OFFER_ID,
        "criteria": ["P1"],
        "question": "Kur ir licence?",
        "asked_at": "2026-10-13T08:00:00Z",
        "due_on": "2026-10-20",
        "answer": None,
        "answered_at": None,
    }


def _progress() -> dict[str, Any]:
    return {
        "evaluator_id": ILZE,
        "assigned": 1,
        "complete": 0,
        "decided": 0,
        "findings": 1,
        "criteria": 2,
        "open_clarifications": 1,
    }


def _listed() -> dict[str, Any]:
    return {
        "id": OFFER_ID,
        "institution_id": INSTITUTION_ID,
        "institution": "Rīgas Datorikas mācību centrs",
        "state": "under_evaluation",
        "version": 1,
        "updated_at": "2026-10-05T08:00:00Z",
        "evaluator_id": ILZE,
    }


def _programme() -> dict[str, Any]:
    return {
        "id": PROGRAMME_ID,
        "title": {"lv": "Datortīklu administrēšana", "en": "Network administration"},
        "status": "draft",
        "licence_number": "P-3003",
        "licence_date": "2021-02-15",
        "programme_group": "IKT",
        "digcomp_level": 4,
        "total_hours": 160,
        "theory_hours": 60,
        "practice_hours": 100,
        "digital_share_percent": "80",
        "cost": {"per_participant": "319.49"},
    }


@pytest.fixture
def gateway(web_app: FastAPI) -> FakeGateway:
    fake = FakeGateway()
    object.__setattr__(web_app.state.parts, "gateway", fake)
    return fake


def _cookie(web_app: FastAPI, subject: str, roles: list[str]) -> str:
    user = {
        "subject": subject,
        "name": subject,
        "roles": roles,
        "locale": "en",
        "access_token": "t",
        "id_token": "",
        "expires_at": time.time() + 3600,
    }
    data = b64encode(json.dumps({"user": user, "csrf": CSRF}).encode())
    return itsdangerous.TimestampSigner(web_app.state.parts.settings.resolved_session_secret()).sign(data).decode()


async def _client(web_app: FastAPI, subject: str, roles: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    cookies = {SESSION_COOKIE: _cookie(web_app, subject, roles), "lang": "en"}
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test", cookies=cookies) as client:
        yield client


@pytest.fixture
async def ilze(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    """The agency officer the offer is assigned to."""
    async for client in _client(web_app, ILZE, ["agency_officer"]):
        yield client


@pytest.fixture
async def martins(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    """An agency administrator who did not evaluate the offer."""
    async for client in _client(web_app, MARTINS, ["agency_admin"]):
        yield client


PAGES = [
    "/agency/calls",
    "/agency/calls/new",
    f"/agency/calls/{CALL_ID}",
    f"/agency/offers/{OFFER_ID}",
    f"/agency/offers/{OFFER_ID}/decision",
    f"/agency/offers/{OFFER_ID}/agreement",
    f"/agency/calls/{CALL_ID}/decisions.csv",
]
FORMS = [
    "/agency/calls/new",
    f"/agency/offers/{OFFER_ID}/evaluator",
    f"/agency/offers/{OFFER_ID}/findings",
    f"/agency/offers/{OFFER_ID}/clarifications",
    f"/agency/offers/{OFFER_ID}/decision",
    f"/agency/offers/{OFFER_ID}/agreement",
    f"/agency/offers/{OFFER_ID}/agreement/signature",
]


@pytest.mark.parametrize("page", PAGES)
async def test_the_pages_are_the_agencys(web: httpx.AsyncClient, web_app: FastAPI, page: str) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303 and httpx.URL(answer.headers["location"]).params["next"] == page
    async for liga in _client(web_app, "sub-liga", ["provider_admin"]):
        assert (await liga.get(page)).status_code == 403


@pytest.mark.parametrize("form", FORMS)
async def test_every_form_refuses_a_missing_or_wrong_csrf_token(
    martins: httpx.AsyncClient, gateway: FakeGateway, form: str
) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        assert (await martins.post(form, data=data)).status_code == 403
    forged = await martins.post(form, data={"csrf_token": "forged"}, files={"file": ("a.edoc", b"x")})
    assert forged.status_code == 403 and not gateway.writes() and not gateway.client.posts


async def test_the_calls_list_shows_each_phase_and_the_deadline_in_riga_time(
    ilze: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await ilze.get("/agency/calls")).text
    assert f'href="/agency/calls/{CALL_ID}">IMK-9</a>' in page and ">Evaluation</strong>" in page
    assert "10 October 2026, 23:59" in page  # 20:59 UTC is 23:59 in Riga
    assert "/agency/calls/new" not in page  # only an administrator opens a call
    assert (await ilze.get("/agency/calls/new")).status_code == 403


async def test_a_calls_page_marks_the_current_phase_and_lists_offers_as_asked(
    ilze: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (
        await ilze.get(f"/agency/calls/{CALL_ID}", params={"state": "under_evaluation", "sort": "institution"})
    ).text
    (current,) = re.findall(
        r'<li class="app-timeline__step app-timeline__step--current" aria-current="step">\s*'
        r"<h3[^>]*>([^<]+)",
        page,
    )
    assert current.strip() == "Evaluation"
    assert page.count("app-timeline__step--past") == 2 and page.count("app-timeline__step--next") == 3
    assert "to the end of the minute 10 October 2026, 23:59, Riga time" in page
    params = {"limit": 10, "offset": 0, "sort": "institution", "state": "under_evaluation"}
    assert ("GET", f"/api/calls/agency/calls/{CALL_ID}/offers", params) in gateway.calls
    assert "Ilze Bērziņa" in page and "1 of 2" in page  # progress per officer, by name
    assert f'href="/agency/offers/{OFFER_ID}">Rīgas Datorikas mācību centrs</a>' in page
    assert "page=2" in page and "sort=institution" in page  # 11 offers: a second page, the filter kept
    assert f'href="/agency/calls/{CALL_ID}/decisions.xlsx"' in page
    odd = await ilze.get(f"/agency/calls/{CALL_ID}", params={"state": "lost", "sort": "x"})
    assert (
        odd.status_code == 200
        and ("GET", f"/api/calls/agency/calls/{CALL_ID}/offers", {"limit": 10, "offset": 0, "sort": "created"})
        in gateway.calls
    )


@pytest.mark.parametrize(("kind", "media_type"), [("csv", "text/csv; charset=utf-8"), ("xlsx", XLSX)])
async def test_the_decisions_exports_are_streamed_with_their_type(
    ilze: httpx.AsyncClient, gateway: FakeGateway, kind: str, media_type: str
) -> None:
    answer = await ilze.get(f"/agency/calls/{CALL_ID}/decisions.{kind}")
    assert answer.status_code == 200 and answer.headers["content-type"] == media_type
    assert answer.headers["content-disposition"].startswith("attachment")
    assert ("RAW", f"/api/calls/agency/calls/{CALL_ID}/decisions.{kind}", None) in gateway.calls
    assert (await ilze.get(f"/agency/calls/{CALL_ID}/decisions.pdf")).status_code == 404


async def test_the_workspace_shows_the_offer_as_submitted_and_the_evaluators_forms(
    ilze: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await ilze.get(f"/agency/offers/{OFFER_ID}")).text
    assert "Evaluation of the offer of Rīgas Datorikas mācību centrs" in page
    assert "Network administration" in page and "P-3003" in page and "VIIS-100101" in page
    assert f'href="/agency/offers/{OFFER_ID}/attachments/{ATTACHMENT_ID}"' in page
    assert "Ilze Bērziņa (you)" in page
    assert re.search(r'name="result_I1" type="radio" value="meets" checked', page)
    assert 'name="result_P1"' in page and 'name="note_P1"' in page
    assert "Due by the end of 20 October 2026" in page and "Kur ir licence?" in page
    assert 'name="criteria" type="checkbox" value="P1"' in page
    assert 'action="/agency/offers/' + OFFER_ID + '/evaluator"' not in page  # an officer does not assign
    downloaded = await ilze.get(f"/agency/offers/{OFFER_ID}/attachments/{ATTACHMENT_ID}")
    assert downloaded.content == b"%PDF-1.7" and "apliec" in downloaded.headers["content-disposition"]


async def test_findings_and_a_clarification_are_sent_as_calls_takes_them(
    ilze: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    form = {
        "csrf_token": CSRF,
        "result_I1": "meets",
        "note_I1": " atbilst\r\nreģistram ",
        "result_P1": "does_not_meet",
        "note_P1": "",
    }
    answer = await ilze.post(f"/agency/offers/{OFFER_ID}/findings", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == f"/agency/offers/{OFFER_ID}?done=findings"
    asked = {"csrf_token": CSRF, "criteria": ["I1", "P1"], "question": "Lūdzu, atsūtiet licenci."}
    assert (await ilze.post(f"/agency/offers/{OFFER_ID}/clarifications", data=asked)).status_code == 303
    assert gateway.writes() == [
        (
            "PUT",
            f"/api/calls/offers/{OFFER_ID}/findings",
            {
                "findings": [
                    {"criterion": "I1", "result": "meets", "note": "atbilst\nreģistram"},
                    {"criterion": "P1", "result": "does_not_meet", "note": ""},
                ]
            },
        ),
        (
            "POST",
            f"/api/calls/offers/{OFFER_ID}/clarifications",
            {"criteria": ["I1", "P1"], "question": "Lūdzu, atsūtiet licenci."},
        ),
    ]
    empty = await ilze.post(f"/agency/offers/{OFFER_ID}/clarifications", data={"csrf_token": CSRF, "question": ""})
    assert empty.status_code == 422 and '<p id="question-error" class="govuk-error-message">' in empty.text
    assert '<a href="#criteria">Criteria to clarify: This field is required</a>' in empty.text


async def test_calls_refusal_of_a_finding_is_shown_beside_the_form(
    ilze: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.refusal = ApiError(403, {"error": "forbidden"})
    refused = await ilze.post(f"/agency/offers/{OFFER_ID}/findings", data={"csrf_token": CSRF, "result_I1": "meets"})
    assert refused.status_code == 403 and "Only the offer's evaluator records its findings" in refused.text
    violations = [{"field": "findings[0].criterion", "rule": "known_criterion", "message": "no"}]
    gateway.refusal = ApiError(422, {"error": "invalid_input", "errors": violations})
    refused = await ilze.post(f"/agency/offers/{OFFER_ID}/findings", data={"csrf_token": CSRF, "result_X": "meets"})
    assert (
        refused.status_code == 422
        and '<a href="#findings">Findings: Choose a criterion of this call</a>' in refused.text
    )


async def test_an_administrator_assigns_an_officer_by_user_name(
    martins: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    unknown = await martins.post(f"/agency/offers/{OFFER_ID}/evaluator", data={"csrf_token": CSRF, "username": "x"})
    assert unknown.status_code == 422 and '<p id="username-error"' in unknown.text
    assert "No user of the platform has this user name" in unknown.text and not gateway.writes()
    answer = await martins.post(f"/agency/offers/{OFFER_ID}/evaluator", data={"csrf_token": CSRF, "username": "ilze"})
    assert answer.status_code == 303
    assert gateway.writes() == [("PUT", f"/api/calls/offers/{OFFER_ID}/evaluator", {"evaluator_id": ILZE})]


async def test_the_evaluator_is_not_offered_the_decision_and_calls_refusal_is_shown(
    ilze: httpx.AsyncClient, web_app: FastAPI, gateway: FakeGateway
) -> None:
    gateway.evaluation = _evaluation({"I1": "meets", "P1": "meets"}, evaluator=MARTINS)  # martins evaluated it
    async for martins in _client(web_app, MARTINS, ["agency_admin"]):
        page = (await martins.get(f"/agency/offers/{OFFER_ID}/decision")).text
        assert 'id="four-eyes"' in page and "you may not decide it" in page
        assert 'name="outcome"' not in page
        assert "another administrator decides it (four eyes)" in (await martins.get(f"/agency/offers/{OFFER_ID}")).text
        gateway.evaluation = _evaluation({"I1": "meets", "P1": "meets"}, evaluator=ILZE)  # as if reassigned meanwhile
        gateway.refusal = ApiError(403, {"error": "forbidden", "message": "the evaluator does not decide"})
        form = {"csrf_token": CSRF, "outcome": "approved", "confirmed": "yes"}
        refused = await martins.post(f"/agency/offers/{OFFER_ID}/decision", data=form)
        assert refused.status_code == 403 and "so you may not decide it" in refused.text
        assert '<a href="#decision">Decision: ' in refused.text


async def test_a_decision_is_confirmed_first_then_sent_with_reasons_per_criterion(
    martins: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.evaluation = _evaluation({"I1": "meets", "P1": "does_not_meet"})
    form = (await martins.get(f"/agency/offers/{OFFER_ID}/decision")).text
    assert 'name="outcome" type="radio" value="rejected"' in form
    assert re.search(r'name="reason_P1" rows="2">note P1</textarea>', form)  # the finding's note to start from
    chosen = {
        "csrf_token": CSRF,
        "outcome": "rejected",
        "reason_P1": "Nav licences.",
        "code_P1": "insufficient_evidence",
        "reason_I1": "",
        "code_I1": "does_not_meet",
    }
    confirm = await martins.post(f"/agency/offers/{OFFER_ID}/decision", data=chosen)
    assert confirm.status_code == 200 and not gateway.writes()
    assert "You reject the offer." in confirm.text and "What will change" in confirm.text
    assert "The institution is told, with these reasons per criterion." in confirm.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm.text))
    assert hidden["outcome"] == "rejected" and hidden["reason_P1"] == "Nav licences." and "reason_I1" not in hidden
    sent = await martins.post(f"/agency/offers/{OFFER_ID}/decision", data={**hidden, "confirmed": "yes"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/agency/offers/{OFFER_ID}?done=decided#decision"
    reasons = [{"criterion": "P1", "code": "insufficient_evidence", "text": "Nav licences."}]
    assert gateway.writes() == [
        ("POST", f"/api/calls/offers/{OFFER_ID}/decision", {"outcome": "rejected", "reasons": reasons})
    ]


async def test_an_approval_says_the_agreement_follows_and_a_rejection_needs_a_reason(
    martins: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.evaluation = _evaluation({"I1": "meets", "P1": "meets"})
    confirm = await martins.post(
        f"/agency/offers/{OFFER_ID}/decision", data={"csrf_token": CSRF, "outcome": "approved"}
    )
    assert "You approve the offer." in confirm.text and "The cooperation agreement follows" in confirm.text
    bare = await martins.post(f"/agency/offers/{OFFER_ID}/decision", data={"csrf_token": CSRF, "outcome": "rejected"})
    assert bare.status_code == 422 and "Write a reason for each criterion the offer is rejected on" in bare.text
    none = await martins.post(f"/agency/offers/{OFFER_ID}/decision", data={"csrf_token": CSRF})
    assert none.status_code == 422 and '<p id="outcome-error"' in none.text
    sent = await martins.post(
        f"/agency/offers/{OFFER_ID}/decision",
        data={"csrf_token": CSRF, "outcome": "approved", "confirmed": "yes", "reason_I1": "x"},
    )
    assert sent.status_code == 303
    assert gateway.writes() == [
        ("POST", f"/api/calls/offers/{OFFER_ID}/decision", {"outcome": "approved", "reasons": []})
    ]


async def test_no_decision_is_offered_before_the_evaluation_is_complete(
    martins: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await martins.get(f"/agency/offers/{OFFER_ID}/decision")).text
    assert "The evaluation is not complete" in page and "Still without one: P1</p>" in page
    assert 'name="outcome"' not in page


async def test_the_agreement_is_recorded_then_its_signed_document_uploaded(
    martins: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.offer["state"] = "approved"
    gateway.decision = {
        "offer_id": OFFER_ID,
        "outcome": "approved",
        "reasons": [],
        "decided_at": "2026-11-10T08:00:00Z",
    }
    page = (await martins.get(f"/agency/offers/{OFFER_ID}/agreement")).text
    assert 'name="number"' in page and 'value="2026-11-10"' in page and 'value="2027-04-30"' in page
    form = {"csrf_token": CSRF, "number": "IMK-9/001", "valid_from": "2026-11-10", "valid_until": "2027-04-30"}
    assert (await martins.post(f"/agency/offers/{OFFER_ID}/agreement", data=form)).status_code == 303
    assert gateway.writes() == [
        ("POST", f"/api/calls/offers/{OFFER_ID}/agreement", {k: v for k, v in form.items() if k != "csrf_token"})
    ]
    gateway.agreement = {
        "offer_id": OFFER_ID,
        "number": "IMK-9/001",
        "valid_from": "2026-11-10",
        "valid_until": "2027-04-30",
        "programme_ids": [PROGRAMME_ID],
        "created_at": "2026-11-10T08:00:00Z",
        "signed": False,
        "signed_at": None,
        "document_sha256": None,
        "document_filename": None,
    }
    page = (await martins.get(f"/agency/offers/{OFFER_ID}/agreement")).text
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    files = {"file": ("līgums.edoc", b"PK-signed", "application/octet-stream")}
    uploaded = await martins.post(
        f"/agency/offers/{OFFER_ID}/agreement/signature", data={"csrf_token": CSRF}, files=files
    )
    assert uploaded.status_code == 303 and uploaded.headers["location"].endswith("/agreement?done=signed")
    ((path, content, headers),) = gateway.client.posts
    assert path == f"/api/calls/offers/{OFFER_ID}/agreement/signature?filename=l%C4%ABgums.edoc"
    assert content == b"PK-signed" and headers["Content-Type"] == "application/vnd.etsi.asic-e+zip"
    gateway.client.answer = httpx.Response(422, json={"errors": [{"field": "file", "rule": "signature_missing"}]})
    refused = await martins.post(
        f"/agency/offers/{OFFER_ID}/agreement/signature", data={"csrf_token": CSRF}, files=files
    )
    assert refused.status_code == 422 and '<p id="file-error"' in refused.text
    assert "The document carries no electronic signature" in refused.text
    nothing = await martins.post(f"/agency/offers/{OFFER_ID}/agreement/signature", data={"csrf_token": CSRF})
    assert nothing.status_code == 422 and "Choose the file of the signed agreement" in nothing.text


async def test_a_signed_agreement_shows_its_document(martins: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.offer["state"] = "approved"
    gateway.agreement = {
        "offer_id": OFFER_ID,
        "number": "IMK-9/001",
        "valid_from": "2026-11-10",
        "valid_until": "2027-04-30",
        "programme_ids": [PROGRAMME_ID],
        "created_at": "2026-11-10T08:00:00Z",
        "signed": True,
        "signed_at": "2026-11-11T08:00:00Z",
        "document_sha256": "cd" * 32,
        "document_filename": "ligums.edoc",
    }
    page = (await martins.get(f"/agency/offers/{OFFER_ID}/agreement")).text
    assert f'href="/agency/offers/{OFFER_ID}/agreement/document"' in page and "ligums.edoc" in page
    assert 'type="file"' not in page and "cd" * 32 in page
    document = await martins.get(f"/agency/offers/{OFFER_ID}/agreement/document")
    assert document.headers["content-type"] == "application/vnd.etsi.asic-e+zip"


async def test_opening_a_call_sends_every_field_and_shows_calls_refusal_beside_its_field(
    martins: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    form = {
        "csrf_token": CSRF,
        "code": "IMK-9",
        "title_lv": "Devītais",
        "title_en": "",
        "project_code": "IMK",
        "applications_open_on": "2026-09-01",
        "applications_close_on": "2026-12-31",
        "offers_open_at": "2026-09-01T09:00",
        "offers_deadline_at": "2026-10-10T23:59",
        "evaluation_starts_on": "2026-10-12",
        "evaluation_ends_on": "2026-10-30",
        "decision_on": "2026-11-10",
        "agreements_from": "2026-11-10",
        "publication_from": "2026-11-10",
        "delivery_ends_on": "2027-04-30",
        "max_programmes_per_institution": "3",
        "institution_criteria": "I1 accredited\r\nI2 registered_years years=3",
        "programme_criteria": "P3 form forms=in_person|remote",
        "learning_needs": "DATI | Datu analīze | Data",
        "needs_approved_on": "2026-08-20",
    }
    gateway.refusal = ApiError(
        422,
        {
            "errors": [
                {"field": "timeline.decision_on", "rule": "order"},
                {"field": "institution_criteria[1].rule", "rule": "one_of"},
            ]
        },
    )
    refused = await martins.post("/agency/calls/new", data=form)
    assert refused.status_code == 422 and '<p id="decision-on-error"' in refused.text
    assert '<a href="#institution-criteria">Institution criteria: Use one of the rules' in refused.text
    assert 'value="2026-10-10T23:59"' in refused.text  # what was entered is kept
    ((_, path, body),) = gateway.writes()
    assert path == "/api/calls/calls" and body["timeline"]["offers_deadline_at"] == "2026-10-10T23:59"
    assert body["title"] == {"lv": "Devītais"} and body["max_programmes_per_institution"] == 3
    assert body["institution_criteria"][1] == {"code": "I2", "rule": "registered_years", "params": {"years": 3}}
    assert body["learning_needs"] == [{"code": "DATI", "title": {"lv": "Datu analīze", "en": "Data"}}]
    gateway.refusal = None
    opened = await martins.post("/agency/calls/new", data=form)
    assert opened.status_code == 303 and opened.headers["location"] == f"/agency/calls/{CALL_ID}?created=1"


def test_criteria_and_needs_are_read_one_a_line() -> None:
    assert criteria_of("P3 form forms=in_person|remote\n\nP4 digcomp_range min=2 max=5") == [
        {"code": "P3", "rule": "form", "params": {"forms": ["in_person", "remote"]}},
        {"code": "P4", "rule": "digcomp_range", "params": {"min": 2, "max": 5}},
    ]
    for bad in ("I1", "I2 registered_years years", "I2 registered_years =3"):
        with pytest.raises(ValueError):
            criteria_of(bad)
    assert needs_of("A | Ā") == [{"code": "A", "title": {"lv": "Ā"}}]
    with pytest.raises(ValueError):
        needs_of("A | | B")
    _, errors = call_body({"institution_criteria": "I1", "learning_needs": "X"})
    assert errors == {"institution_criteria": "criterion_line", "learning_needs": "need_line", "title_lv": "missing"}
