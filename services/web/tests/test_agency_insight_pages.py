"""The agency's registrations, quality flags and statistics pages in-process, over a stand-in for the gateway: the
deadline and overdue in Riga time in both languages, the confirmations before a decision, the rebuild offered to an
administrator only (an officer who posts it is refused), charts proxied as SVG, exports passed on with their type and
file name."""

from __future__ import annotations

import json
import re
import time
from base64 import b64encode
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import itsdangerous
import pytest
from fastapi import FastAPI
from web.app import SESSION_COOKIE
from web.gateway import ApiError
from web.pages.agency_insight import deadline

CSRF = "the-session-csrf-token"
WAITING = "6f1c0d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
LATE = "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
STATEMENT = "8b3c4d5e-6f7a-4b1c-8d2e-4f5a6b7c8d9e"
PROGRAMMES = [f"9c4d5e6f-7a8b-4c1d-8e2f-5a6b7c8d9e{i:02d}" for i in range(25)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _registration(institution_id: str, due_on: str, overdue: bool) -> dict[str, Any]:
    return {
        "id": institution_id,
        "name": "Rīgas Datorikas mācību centrs" if institution_id == WAITING else "Vidzemes Digitālo prasmju centrs",
        "register_number": "3360800001",
        "legal_address": "Brīvības iela 100, Rīga, LV-1001",
        "status": "pending",
        "registered_at": "2026-12-01T12:00:00+00:00",
        "decision_due_on": due_on,
        "overdue": overdue,
        "decided_at": None,
        "rejection_reason_code": None,
        "rejection_reason": None,
        "statement_document_id": STATEMENT,
        "admin": {"name": "Kārlis Ozols", "email": "karlis@example.lv"},
    }


STATEMENT_FACTS = {
    "id": STATEMENT,
    "purpose": "statement",
    "format": "asice",
    "media_type": "application/vnd.etsi.asic-e+zip",
    "filename": "apliecinajums.edoc",
    "size": 4096,
    "sha256": "ab" * 32,
    "signatures": 1,
    "timestamps": 1,
    "signing_time": "2026-12-01T11:00:00+00:00",
    "timestamp_time": "2026-12-01T11:00:05+00:00",
    "uploaded_at": "2026-12-01T11:30:00+00:00",
}
REGISTER_CHECK = {"listed": True, "registered_name": "Rīgas Datorikas mācību centrs", "name_matches": True,
                  "registration_date": "2015-01-01", "accredited": True}  # fmt: skip
DEFINITIONS = [
    {"code": "accounts_opened", "unit": "accounts", "label": {"lv": "Atvērtie konti", "en": "Accounts opened"},
     "definition": "Learning accounts opened by then.",
     "explanation": {"lv": "Līdz tam brīdim atvērtie mācību konti.", "en": "Learning accounts opened by then."}},
    {"code": "applicants", "unit": "persons", "label": {"lv": "Pieteikušās personas", "en": "Persons who applied"},
     "definition": "Distinct persons."},
    {"code": "reserved", "unit": "EUR", "label": {"lv": "Rezervēts", "en": "Reserved"}, "definition": "Grants."},
    {"code": "response_rate", "unit": "percent", "label": {"lv": "Atbildējušo īpatsvars", "en": "Response rate"},
     "definition": "Answers as a percent."},
]  # fmt: skip
DASHBOARD = {
    "as_of": "2026-12-02T10:00:00+00:00",
    "accounts_opened": 12345,
    "applications_total": 25429,
    "projects": [
        {"project_code": "IMK", "figures": {"applicants": 7574, "reserved": "1200.50"},
         "rounds": {"IMK-4": {"applicants": 2091, "granted": 2000, "started": 1900, "completed": 1800}}}
    ],
    "calls": [{"call_id": "c1", "code": "IMK-4", "project_code": "IMK", "phase": "delivery",
               "figures": {"offers_submitted": 3, "offers_approved": 2}}],
    "surveys": {"answers": {"completion": 40}, "response_rate": {"completion": "55.5"},
                "mean_rating": {"teacher": "4.6"}, "stars": {}, "reasons": {}},
    "surveys_by_project": {},
    "definitions": DEFINITIONS,
}  # fmt: skip
FUNNELS = [
    {
        "as_of": "2026-12-02T10:00:00+00:00",
        "project_code": "IMK",
        "discontinued": 17,
        "stages": [{"stage": "accounts_opened", "value": 12345}, {"stage": "applicants", "value": 7574}],
    }
]
ANOMALIES = [{"institution_id": WAITING, "name": "Rīgas Datorikas mācību centrs", "figures": {},
              "flags": [{"code": "quick_completion", "value": 3, "threshold": 7, "peers": None, "over": 12,
                         "programmes": {}}]}]  # fmt: skip


def _flagged(i: int) -> dict[str, Any]:
    return {
        "programme_id": PROGRAMMES[i],
        "institution_id": WAITING,
        "title": f"Programme {i:02d}",
        "flags": [
            {"reason": "low_rating" if i % 2 else "high_dropout", "value": "2.5", "threshold": "3.0", "over": 12}
        ],
        "raters": 12,
        "rating": str(2 + (i % 7) / 10),
        "dropout_rate": str(10 + i),
        "description_mismatch": None,
    }


class FakeGateway:
    """The gateway as the pages call it: answers by path, every call kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.rebuild = {"generation": 3, "requested_at": "2026-12-02T09:00:00+00:00", "requested_by": "admin",
                        "read": 250, "total": 1000, "done": False}  # fmt: skip
        self.refusal: ApiError | None = None
        self.registrations = [_registration(WAITING, "2026-12-03", False), _registration(LATE, "2026-12-01", True)]

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        self.calls.append(("GET", path, params))
        if path == "/api/notifications/notifications/unread-count":
            return {"unread": 0}
        if path.startswith("/api/catalog/providers/"):
            return next(r for r in self.registrations if r["id"] == path.rsplit("/", 1)[1])
        if path.startswith("/api/catalog/registers/institutions/"):
            return {"register_number": "3360800001", "name": "Rīgas Datorikas mācību centrs",
                    "legal_address": "Brīvības iela 100, Rīga, LV-1001", "registration_date": "2015-01-01",
                    "accredited": True, "accreditation_valid_until": None, "licensed_programmes": [], "addresses": [],
                    "checks": [{"rule": "accredited", "passed": True, "detail": "accredited"}]}  # fmt: skip
        if path == f"/api/catalog/documents/{STATEMENT}":
            return STATEMENT_FACTS
        if path == "/api/surveys/survey-results/quality-flags":
            return [_flagged(i) for i in range(25)]
        if path.startswith("/api/surveys/survey-results/programmes/"):
            return {"scope": {}, "invited": {"completion": 20}, "answered": {"completion": 12},
                    "response_rate": {"completion": "60.0"}, "dropout_rate": "11.0", "completion": None,
                    "discontinuation": None, "withheld": False}  # fmt: skip
        answers = {
            "/api/statistics/dashboard": DASHBOARD,
            "/api/statistics/anomalies": ANOMALIES,
            "/api/statistics/funnels": FUNNELS,
            "/api/statistics/rebuilds/current": self.rebuild,
        }
        if path in answers:
            return answers[path]
        if path.startswith("/api/statistics/series/"):
            return {
                "points": [{"day": "2026-12-01", "new": 2, "total": 5}, {"day": "2026-12-02", "new": 1, "total": 6}]
            }
        raise AssertionError(path)

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("POST", path, json))
        if self.refusal:
            raise self.refusal
        return {}

    async def raw(self, path: str, token: str | None = None, params: Any = None) -> httpx.Response:
        self.calls.append(("RAW", path, params))
        if path == "/api/surveys/survey-results/quality-flags":
            flagged = [_flagged(i) for i in range(25)]
            flagged = [f for f in flagged if params.get("reason") in (None, f["flags"][0]["reason"])]
            page = flagged[params["offset"] : params["offset"] + params["limit"]]
            return httpx.Response(200, json=page, headers={"X-Total-Count": str(len(flagged))})
        if path == "/api/catalog/providers":
            items = [
                {**r, "register_check": REGISTER_CHECK, "statement": STATEMENT_FACTS}
                for r in self.registrations
                if not params.get("overdue") or r["overdue"]
            ]
            return httpx.Response(200, json=items, headers={"X-Total-Count": "45"})
        if path.endswith(".svg"):
            return httpx.Response(200, content=b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  headers={"Content-Type": "image/svg+xml"})  # fmt: skip
        if path.endswith(".xlsx"):
            return httpx.Response(
                200,
                content=b"PK\x03\x04",
                headers={
                    "Content-Type": XLSX,
                    "Content-Disposition": 'attachment; filename="statistics-20261202T1000.xlsx"',
                },
            )
        if path.endswith(".csv") or path.endswith("/content"):
            return httpx.Response(
                200,
                content=b"a,b\r\n1,2\r\n",
                headers={
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Disposition": 'attachment; filename="answers.csv"',
                },
            )
        raise AssertionError(path)

    def sent(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.calls if m == method and p == path]


@pytest.fixture
def gateway(web_app: FastAPI) -> FakeGateway:
    fake = FakeGateway()
    object.__setattr__(web_app.state.parts, "gateway", fake)
    return fake


def _session_cookie(web_app: FastAPI, *roles: str) -> str:
    user = {"subject": "s", "name": "Ilze", "roles": list(roles), "locale": "lv", "access_token": "t",
            "id_token": "", "expires_at": time.time() + 3600}  # fmt: skip
    data = b64encode(json.dumps({"user": user, "csrf": CSRF}).encode())
    return itsdangerous.TimestampSigner(web_app.state.parts.settings.resolved_session_secret()).sign(data).decode()


async def _client(web_app: FastAPI, language: str, *roles: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    cookies = {SESSION_COOKIE: _session_cookie(web_app, *roles), "lang": language}
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test", cookies=cookies) as client:
        yield client


@pytest.fixture
async def officer(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(web_app, "en", "agency_officer"):
        yield client


@pytest.fixture
async def admin(web_app: FastAPI, gateway: FakeGateway) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(web_app, "en", "agency_admin"):
        yield client


PAGES = ["/agency/registrations", f"/agency/registrations/{WAITING}", "/agency/quality", "/agency/statistics"]


@pytest.mark.parametrize("page", PAGES)
async def test_the_pages_are_the_agencys(
    web: httpx.AsyncClient, web_app: FastAPI, gateway: FakeGateway, page: str
) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303 and httpx.URL(answer.headers["location"]).params["next"] == page
    async for learner in _client(web_app, "en", "learner"):
        assert (await learner.get(page)).status_code == 403
    async for provider in _client(web_app, "en", "provider_admin"):
        assert (await provider.get(page)).status_code == 403
    assert [c for c in gateway.calls if c[1] != "/api/notifications/notifications/unread-count"] == []


def test_the_deadline_is_the_end_of_the_due_day_in_riga_winter_and_summer() -> None:
    winter = {"status": "pending", "decision_due_on": "2026-12-03", "overdue": False}
    assert deadline(winter, datetime(2026, 12, 3, 20, 30, tzinfo=UTC)) == {  # 22:30 in Riga (UTC+2)
        "day": "2026-12-03", "overdue": False, "hours": 1, "minutes": 30,
    }  # fmt: skip
    summer = {"status": "pending", "decision_due_on": "2026-07-01", "overdue": False}
    assert deadline(summer, datetime(2026, 7, 1, 20, 0, tzinfo=UTC))["hours"] == 1  # 23:00 in Riga (UTC+3)
    assert deadline(summer, datetime(2026, 7, 2, 9, 0, tzinfo=UTC))["hours"] == 0  # past: no time left
    assert deadline({**summer, "status": "approved"}, datetime(2026, 7, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("language", "due", "late"),
    [("en", "3 December 2026", "1 December 2026"), ("lv", "2026. gada 3. decembris", "2026. gada 1. decembris")],
)
async def test_registrations_show_the_deadline_and_overdue_in_riga_time(
    web_app: FastAPI, gateway: FakeGateway, language: str, due: str, late: str
) -> None:
    async for client in _client(web_app, language, "agency_officer"):
        page = (await client.get("/agency/registrations?page=2")).text
    body = page.split('<tbody class="govuk-table__body">')[1]
    rows = re.findall(r'<tr class="govuk-table__row( app-row--overdue)?">(.*?)</tr>', body, re.S)
    assert [bool(overdue) for overdue, _ in rows] == [False, True]
    assert due in rows[0][1] and "app-overdue" not in rows[0][1] and "app-time-left" in rows[0][1]
    assert late in rows[1][1] and "app-overdue" in rows[1][1]
    assert "(Riga time)" in rows[0][1] or language == "lv"
    assert ("RAW", "/api/catalog/providers", {"limit": 20, "offset": 20, "status": "pending"}) in gateway.calls
    assert 'href="/agency/registrations?page=3"' in page  # 45 in all: three pages
    assert "Rīgas Datorikas mācību centrs" in page and "3360800001" in page


async def test_the_overdue_filter_asks_catalog_for_the_overdue(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await officer.get("/agency/registrations?overdue=true")).text
    assert ("RAW", "/api/catalog/providers", {"limit": 20, "offset": 0, "overdue": "true"}) in gateway.calls
    assert "Vidzemes" in page and "Rīgas Datorikas" not in page.split("<table")[1]


async def test_a_registration_shows_both_checks_and_approval_asks_first(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await officer.get(f"/agency/registrations/{WAITING}")).text
    assert "Signed with a time stamp" in page and "1 signature" in page and "ab" * 32 in page
    assert f'href="/agency/registrations/{WAITING}/statement"' in page
    assert f'href="/agency/registrations/{WAITING}/approve"' in page
    confirm = (await officer.get(f"/agency/registrations/{WAITING}/approve")).text
    assert "What will change" in confirm and "offer them to the agency's calls" in confirm
    assert "told by a notice" in confirm and gateway.sent("POST", f"/api/catalog/providers/{WAITING}/approve") == []
    assert (await officer.post(f"/agency/registrations/{WAITING}/approve", data={})).status_code == 403
    answer = await officer.post(f"/agency/registrations/{WAITING}/approve", data={"csrf_token": CSRF})
    assert answer.status_code == 303 and answer.headers["location"] == f"/agency/registrations/{WAITING}?done=approved"
    assert gateway.sent("POST", f"/api/catalog/providers/{WAITING}/approve") == [None]


async def test_a_decided_registration_is_said_so_not_an_error_page(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.refusal = ApiError(409, {"current": {"status": "approved"}})
    answer = await officer.post(f"/agency/registrations/{WAITING}/approve", data={"csrf_token": CSRF})
    assert answer.status_code == 409 and "decided already" in answer.text


async def test_rejection_needs_a_reason_then_says_what_changes_then_sends_it(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    missing = await officer.post(f"/agency/registrations/{WAITING}/reject/confirm", data={"csrf_token": CSRF})
    assert missing.status_code == 422
    assert "Choose why the registration is rejected" in missing.text and 'id="reason-error"' in missing.text
    form = {"csrf_token": CSRF, "reason_code": "statement_invalid", "reason": "Parakstījusi cita persona."}
    confirm = await officer.post(f"/agency/registrations/{WAITING}/reject/confirm", data=form)
    assert (
        confirm.status_code == 200
        and "What will change" in confirm.text
        and "may register the institution again" in confirm.text
    )
    assert 'name="reason" value="Parakstījusi cita persona."' in confirm.text
    assert gateway.sent("POST", f"/api/catalog/providers/{WAITING}/reject") == []
    answer = await officer.post(f"/agency/registrations/{WAITING}/reject", data=form)
    assert answer.headers["location"] == f"/agency/registrations/{WAITING}?done=rejected"
    assert gateway.sent("POST", f"/api/catalog/providers/{WAITING}/reject") == [
        {"reason_code": "statement_invalid", "reason": "Parakstījusi cita persona."}
    ]


async def test_catalogs_refusal_is_shown_beside_its_field(officer: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.refusal = ApiError(
        422, {"errors": [{"field": "body.reason", "rule": "reason_needed", "message": "say why"}]}
    )
    form = {"csrf_token": CSRF, "reason_code": "other", "reason": "x"}
    answer = await officer.post(f"/agency/registrations/{WAITING}/reject", data=form)
    assert answer.status_code == 422 and 'id="reason-error"' in answer.text


async def test_the_statement_is_downloaded_through_the_web(officer: httpx.AsyncClient, gateway: FakeGateway) -> None:
    answer = await officer.get(f"/agency/registrations/{WAITING}/statement")
    assert answer.status_code == 200 and answer.headers["content-disposition"].startswith("attachment")
    assert ("RAW", f"/api/catalog/documents/{STATEMENT}/content", None) in gateway.calls


async def test_quality_flags_are_sorted_filtered_and_paged_by_surveys_with_their_figures(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    first = (await officer.get("/agency/quality")).text
    flags = "/api/surveys/survey-results/quality-flags"
    assert ("RAW", flags, {"sort": "flags", "limit": 20, "offset": 0}) in gateway.calls
    assert "25 programmes flagged" in first and len(re.findall(r"/agency/quality/programmes/", first)) == 20
    assert 'href="/agency/quality?page=2"' in first and "threshold 3.0" in first and "over 12 people" in first
    low = (await officer.get("/agency/quality?sort=rating&reason=low_rating&page=2")).text
    assert ("RAW", flags, {"sort": "rating", "limit": 20, "offset": 20, "reason": "low_rating"}) in gateway.calls
    assert "12 programmes flagged" in low and 'value="rating" selected' in low
    await officer.get("/agency/quality?sort=price&reason=loud")  # unknown choices: the default order, every flag
    assert ("RAW", flags, {"sort": "flags", "limit": 20, "offset": 0}) == gateway.calls[-1]
    assert 'href="/agency/quality/exports/answers.xlsx"' in first
    assert 'href="/agency/quality/exports/aggregates.csv"' in first
    results = await officer.get(f"/agency/quality/programmes/{PROGRAMMES[1]}")
    assert results.status_code == 200 and "Programme 01" in results.text and "60.0 %" in results.text


@pytest.mark.parametrize(
    ("route", "api", "media", "filename"),
    [
        ("/agency/statistics/exports/dashboard.xlsx", "/api/statistics/exports/dashboard.xlsx", XLSX, "statistics-"),
        (
            "/agency/statistics/exports/anomalies.csv",
            "/api/statistics/exports/anomalies.csv",
            "text/csv",
            "answers.csv",
        ),
        (
            "/agency/quality/exports/answers.csv",
            "/api/surveys/survey-results/exports/answers.csv",
            "text/csv",
            "answers",
        ),
        (
            "/agency/quality/exports/aggregates.xlsx",
            "/api/surveys/survey-results/exports/aggregates.xlsx",
            XLSX,
            "stat",
        ),
    ],
)
async def test_exports_are_passed_on_with_their_type_and_file_name(
    officer: httpx.AsyncClient, gateway: FakeGateway, route: str, api: str, media: str, filename: str
) -> None:
    answer = await officer.get(route)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(media)
    assert (
        answer.headers["content-disposition"].startswith("attachment")
        and filename in answer.headers["content-disposition"]
    )
    assert ("RAW", api, None) in gateway.calls
    assert (await officer.get(route.replace(".csv", ".pdf").replace(".xlsx", ".pdf"))).status_code == 400


async def test_charts_are_proxied_as_svg_in_the_pages_language(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    funnel = await officer.get("/agency/statistics/charts/funnel/IMK.svg")
    assert funnel.status_code == 200 and funnel.headers["content-type"] == "image/svg+xml"
    assert ("RAW", "/api/statistics/charts/funnel.svg", {"project": "IMK", "language": "en"}) in gateway.calls
    series = await officer.get("/agency/statistics/charts/series/granted.svg?project=IMK")
    assert series.headers["content-type"] == "image/svg+xml"
    assert ("RAW", "/api/statistics/charts/series/granted.svg", {"language": "en", "project": "IMK"}) in gateway.calls
    assert (await officer.get("/agency/statistics/charts/series/secret.svg")).status_code == 400


async def test_the_dashboard_shows_each_figure_with_its_definition_charts_and_anomalies(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await officer.get("/agency/statistics")).text
    assert "12,345" in page and "25,429" in page and "€1,200.50" in page and "7,574" in page
    assert "Learning accounts opened by then." in page and "IMK-4" in page and "2,091" in page
    assert 'src="/agency/statistics/charts/funnel/IMK.svg"' in page
    assert 'src="/agency/statistics/charts/series/applications_submitted.svg?project=IMK"' in page
    assert "Completions soon after the start" in page and "55.5 %" in page
    assert 'href="/agency/statistics/exports/anomalies.xlsx"' in page


async def test_the_figures_are_explained_in_the_pages_language(web_app: FastAPI, gateway: FakeGateway) -> None:
    async for client in _client(web_app, "lv", "agency_officer"):
        page = (await client.get("/agency/statistics")).text
    assert "Līdz tam brīdim atvērtie mācību konti." in page and "Atvērtie konti" in page
    assert '<span lang="en">Distinct persons.</span>' in page  # no Latvian explanation given: the English one, marked


async def test_an_officer_is_not_offered_the_rebuild_and_is_refused_it(
    officer: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await officer.get("/agency/statistics")).text
    assert 'href="/agency/statistics/rebuild"' not in page and "Records read: 250 of 1,000 (25 %)" in page
    assert (await officer.get("/agency/statistics/rebuild")).status_code == 403
    refused = await officer.post("/agency/statistics/rebuild", data={"csrf_token": CSRF})
    assert refused.status_code == 403 and "<html" in refused.text
    assert gateway.sent("POST", "/api/statistics/rebuilds") == []


async def test_an_admin_confirms_the_rebuild_then_follows_its_progress_to_done(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await admin.get("/agency/statistics")).text
    assert 'href="/agency/statistics/rebuild"' in page and 'aria-live="polite"' in page
    assert '<script type="module" src="/static/agency_insight.js">' in page
    confirm = (await admin.get("/agency/statistics/rebuild")).text
    assert "recomputed from the first records" in confirm and "A rebuild is under way now" in confirm
    assert (await admin.post("/agency/statistics/rebuild", data={})).status_code == 403
    started = await admin.post("/agency/statistics/rebuild", data={"csrf_token": CSRF})
    assert started.status_code == 303 and started.headers["location"] == "/agency/statistics?rebuild=started#rebuild"
    assert gateway.sent("POST", "/api/statistics/rebuilds") == [None]
    running = (await admin.get("/agency/statistics/rebuild/progress")).text
    assert 'data-done="false"' in running and '<progress class="app-progress" max="1000" value="250"' in running
    assert 'href="/agency/statistics#rebuild"' in running  # without the script: a refresh link
    gateway.rebuild = {**gateway.rebuild, "read": 1000, "done": True}
    finished = (await admin.get("/agency/statistics/rebuild/progress")).text
    assert 'data-done="true"' in finished and "Every record is read: 1,000 of 1,000" in finished
    assert "<progress" not in finished
