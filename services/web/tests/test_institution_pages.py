"""The institution's pages in-process, over a stand-in for the gateway: the registration's refusals beside their
fields (the statement's signature check and the register's), the cost quote in both languages' money, the
programme form sent as catalog takes it, staff not offered an administrator's actions, removal and cancellation
only through their confirmation pages, and the lists' paging, filters and sorting passed to the API."""

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

CSRF = "the-session-csrf-token"
INSTITUTION_ID = "7d1f0c2e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
PROGRAMME_ID = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
GROUP_ID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
LOCATION_ID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
DOCUMENT_ID = "0f1e2d3c-4b5a-4968-8776-655443322110"
BASE = f"/api/catalog/providers/{INSTITUTION_ID}"
ICT = "Datorsistēmas, datubāzes un datortīkli"
QUOTE = {"per_participant": "320.00", "per_hour": "2.00", "hourly_rate": "1.56", "coefficient": "1.28",
         "coefficient_table_version": 1, "currency": "EUR", "valid_from": "2026-01-01"}  # fmt: skip


def _mine(role: str = "provider_admin", status: str = "approved") -> dict[str, Any]:
    return {
        "institution": {
            "id": INSTITUTION_ID, "name": "Vidzemes Digitālo prasmju centrs", "register_number": "3360800005",
            "legal_address": "Raiņa iela 12, Cēsis, LV-4101", "status": status,
            "registered_at": "2026-12-01T10:00:00+00:00", "decision_due_on": None, "overdue": False,
            "decided_at": None, "rejection_reason_code": None, "rejection_reason": None,
            "statement_document_id": DOCUMENT_ID, "admin": {"name": "Kārlis", "email": "karlis@example.lv"},
        },
        "membership": {"institution_id": INSTITUTION_ID, "user_id": "me", "role": role, "active": True,
                       "added_at": "2026-12-01T10:00:00+00:00", "display_name": None},
    }  # fmt: skip


def _programme(status: str = "published") -> dict[str, Any]:
    return {
        "id": PROGRAMME_ID, "institution_id": INSTITUTION_ID, "status": status,
        "title": {"lv": "Datu analīze", "en": "Data analysis"}, "licence_number": "P-5005",
        "licence_date": "2022-01-17", "thematic_area": "IKT", "programme_group": ICT,
        "programme_type": "professional_development", "form": "in_person", "digcomp_level": 5, "total_hours": 160,
        "theory_hours": 70, "practice_hours": 90, "digital_share_percent": "80", "qualifications": ["datu_analitikis"],
        "professional_competences": ["Analizē datus"], "learning_outcomes": ["Spēj analizēt"],
        "description": "Praktiska programma datu analīzē.", "language": "lv", "entry_level": 3,
        "prior_knowledge": "Izklājlapas", "equipment": "Dators", "operating_systems": ["windows"],
        "location_ids": [LOCATION_ID], "curriculum_document_id": DOCUMENT_ID, "cost": QUOTE,
        "registered_at": "2026-12-01T10:00:00+00:00", "published_at": None, "publication_valid_until": None,
        "call_id": None,
    }  # fmt: skip


def _group(enrolled: int = 0) -> dict[str, Any]:
    return {
        "id": GROUP_ID, "programme_id": PROGRAMME_ID, "location_id": LOCATION_ID, "city": "Cēsis",
        "start_date": "2027-02-01", "end_date": "2027-04-30", "schedule": "Otrdienās", "capacity": 12,
        "enrolled": enrolled, "free_places": 12 - enrolled, "language": "lv", "entry_level": 3,
        "status": "scheduled", "learners": [], "progress": {"enrolled": enrolled},
    }  # fmt: skip


class FakeGateway:
    """The gateway as the pages call it: answers by path, every call kept; `refusals` by (method, path)."""

    def __init__(self) -> None:
        self.mine: dict[str, Any] | None = _mine()
        self.calls: list[tuple[str, str, Any]] = []
        self.refusals: dict[tuple[str, str], ApiError] = {}
        self.members = [
            {"institution_id": INSTITUTION_ID, "user_id": "me", "display_name": "Kārlis Bērziņš",
             "role": "provider_admin", "active": True, "added_at": "2026-12-01T10:00:00+00:00"},
            {"institution_id": INSTITUTION_ID, "user_id": "sandra-sub", "display_name": "Sandra Kalniņa",
             "role": "provider_staff", "active": True, "added_at": "2026-12-02T10:00:00+00:00"},
        ]  # fmt: skip

    def _refused(self, method: str, path: str) -> None:
        refusal = self.refusals.get((method, path))
        if refusal:
            raise refusal

    async def _direct(self, request: httpx.Request) -> httpx.Response:
        """Uploads and DELETEs (the gateway's `upload` and `delete`)."""
        self.calls.append((request.method, request.url.path, dict(request.url.params)))
        try:
            self._refused(request.method, request.url.path)
        except ApiError as error:
            return httpx.Response(error.status, json=error.body)
        if request.method == "DELETE":
            return httpx.Response(204)
        document = {"id": DOCUMENT_ID, "filename": request.url.params.get("filename"), "signatures": 1,
                    "timestamps": 1, "format": "asice"}  # fmt: skip
        return httpx.Response(201, json=document)

    async def _answered(self, request: httpx.Request) -> Any:
        response = await self._direct(request)
        if not response.is_success:
            raise ApiError(response.status_code, response.json())
        return response.json() if response.content else None

    async def delete(self, path: str, token: str | None) -> Any:
        return await self._answered(httpx.Request("DELETE", f"http://gateway{path}"))

    async def upload(self, path: str, token: str | None, content: bytes, media_type: str, params: Any = None) -> Any:
        request = httpx.Request("POST", f"http://gateway{path}", params=params, content=content)
        return await self._answered(request)

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        self.calls.append(("GET", path, params))
        self._refused("GET", path)
        if path == "/api/catalog/providers/me":
            if self.mine is None:
                raise ApiError(404, {"error": "not_found"})
            return self.mine
        if path == "/api/notifications/notifications/unread-count":
            return {"unread": 0}
        if path == "/api/catalog/coefficients":
            return {"version": 1, "hourly_rate": "1.56", "coefficients": {ICT: "1.28"}, "valid_from": "2026-01-01"}
        if path == "/api/catalog/public/qualifications":
            return [{"code": "datu_analitikis", "lv": "Datu analītiķis", "en": "Data analyst"}]
        if path == f"{BASE}/locations":
            return [{"id": LOCATION_ID, "address": "Raiņa iela 12, Cēsis, LV-4101", "city": "Cēsis",
                     "viis_id": "VIIS-500501", "created_at": "2026-12-01T10:00:00+00:00"}]  # fmt: skip
        if path == f"{BASE}/users":
            return self.members
        if path.startswith("/api/catalog/registers/") or path.startswith("/api/catalog/documents/"):
            raise ApiError(404, {})
        if path == f"{BASE}/programmes/{PROGRAMME_ID}":
            return _programme()
        if path == f"{BASE}/groups/{GROUP_ID}":
            return _group()
        raise AssertionError(path)

    async def raw(self, path: str, token: str | None = None, params: Any = None) -> httpx.Response:
        self.calls.append(("GET", path, params))
        items = [_programme()] if path.endswith("/programmes") else [_group()]
        return httpx.Response(200, json=items, headers={"X-Total-Count": "45"})

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("POST", path, json))
        self._refused("POST", path)
        if path == "/api/catalog/programmes/cost":
            return QUOTE
        if path.endswith("/programmes"):
            return _programme("draft")
        return {"id": GROUP_ID}

    async def patch(self, path: str, token: str | None, json: Any) -> Any:
        self.calls.append(("PATCH", path, json))
        self._refused("PATCH", path)
        return _group()

    def sent(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.calls if (m, p) == (method, path)]


@pytest.fixture
def gateway(web_app: FastAPI) -> FakeGateway:
    fake = FakeGateway()
    object.__setattr__(web_app.state.parts, "gateway", fake)
    return fake


def _session(web_app: FastAPI, role: str) -> str:
    user = {"subject": "me", "name": "Kārlis", "roles": [role], "locale": "en", "access_token": "t",
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


def _beside(page: str, field: str) -> str:
    """The error message shown beside a field."""
    found = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert found, f"no error beside {field}"
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).replace("Error:", "").strip()


PAGES = ["/institution", "/institution/registration", "/institution/users", "/institution/locations",
         "/institution/programmes", "/institution/programmes/new", f"/institution/programmes/{PROGRAMME_ID}",
         "/institution/groups", f"/institution/groups/{GROUP_ID}", f"/institution/groups/{GROUP_ID}/cancel",
         f"/institution/programmes/{PROGRAMME_ID}/groups/new", "/institution/users/sandra-sub/remove"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
async def test_the_pages_are_the_institutions_own(web: httpx.AsyncClient, web_app: FastAPI, page: str) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303 and httpx.URL(answer.headers["location"]).params["next"] == page
    async with await _client(web_app, "learner") as learner:
        assert (await learner.get(page)).status_code == 403


@pytest.mark.parametrize("page", PAGES)
async def test_every_page_answers_an_administrator(admin: httpx.AsyncClient, page: str) -> None:
    answer = await admin.get(page)
    assert answer.status_code == (303 if page == "/institution/registration" else 200), answer.text


@pytest.mark.parametrize(
    "form",
    ["/institution/registration", "/institution/users", "/institution/locations", "/institution/programmes/new",
     "/institution/programmes/cost", "/institution/users/sandra-sub/remove", f"/institution/groups/{GROUP_ID}/cancel",
     f"/institution/groups/{GROUP_ID}/change", f"/institution/programmes/{PROGRAMME_ID}/groups/new"],
)  # fmt: skip
async def test_the_forms_refuse_a_missing_or_wrong_csrf_token(
    admin: httpx.AsyncClient, gateway: FakeGateway, form: str
) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        assert (await admin.post(form, data=data)).status_code == 403
    assert not [c for c in gateway.calls if c[0] in ("POST", "PATCH", "DELETE")]


async def test_an_admin_without_an_institution_is_shown_the_way_to_register(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.mine = None
    page = (await admin.get("/institution")).text
    assert 'href="/institution/registration"' in page
    assert (await admin.get("/institution/registration")).status_code == 200


async def test_a_registration_refused_by_the_register_is_shown_beside_its_field_and_keeps_the_statement(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.mine = None
    violations = [{"field": "name", "rule": "matches_register", "message": "named differently"},
                  {"field": "admin.email", "rule": "format", "message": "must be an e-mail address"}]  # fmt: skip
    gateway.refusals[("POST", "/api/catalog/providers")] = ApiError(422, {"errors": violations})
    form = {"csrf_token": CSRF, "name": "Vidzemes centrs", "register_number": "3360800005",
            "legal_address": "Raiņa iela 12", "admin_name": "Kārlis", "admin_email": "karlis"}  # fmt: skip
    files = {"statement": ("apliecinajums.edoc", b"PK...", "application/vnd.etsi.asic-e+zip")}
    answer = await admin.post("/institution/registration", data=form, files=files)
    assert answer.status_code == 422
    assert (
        _beside(answer.text, "name") == "Enter the institution's name as the register of education institutions has it"
    )
    assert _beside(answer.text, "admin-email") == "Enter an e-mail address like anna@example.lv"
    assert 'href="#admin-email"' in answer.text and "govuk-error-summary" in answer.text
    assert f'name="statement_document_id" value="{DOCUMENT_ID}"' in answer.text
    assert "apliecinajums.edoc is uploaded and its signature check passed" in answer.text
    (upload,) = [params for method, path, params in gateway.calls if path == "/api/catalog/documents"]
    assert upload == {"purpose": "statement", "filename": "apliecinajums.edoc"}
    (body,) = gateway.sent("POST", "/api/catalog/providers")
    assert body["admin"] == {"name": "Kārlis", "email": "karlis"} and body["statement_document_id"] == DOCUMENT_ID


async def test_an_unsigned_statement_is_refused_beside_the_file_field(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.mine = None
    violation = {"field": "file", "rule": "timestamp_missing", "message": "no time stamp"}
    gateway.refusals[("POST", "/api/catalog/documents")] = ApiError(422, {"errors": [violation]})
    form = {"csrf_token": CSRF, "name": "Vidzemes Digitālo prasmju centrs", "register_number": "3360800005"}
    files = {"statement": ("apliecinajums.pdf", b"%PDF-1.7", "application/pdf")}
    answer = await admin.post("/institution/registration", data=form, files=files)
    assert answer.status_code == 422
    assert _beside(answer.text, "statement").startswith("The signature carries no time stamp")
    without = await admin.post("/institution/registration", data=form)
    assert _beside(without.text, "statement") == "This field is required"


async def test_a_registration_accepted_shows_its_checks(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    gateway.mine = None
    form = {"csrf_token": CSRF, "name": "Vidzemes Digitālo prasmju centrs", "register_number": "3360800005"}
    files = {"statement": ("apliecinajums.edoc", b"PK", "application/octet-stream")}
    answer = await admin.post("/institution/registration", data=form, files=files)
    assert answer.status_code == 303 and answer.headers["location"] == "/institution?registered=1"


@pytest.mark.parametrize(("lang", "amount"), [("lv", "320,00\xa0€"), ("en", "€320.00")])
async def test_the_cost_quote_is_in_the_pages_language(
    web_app: FastAPI, gateway: FakeGateway, lang: str, amount: str
) -> None:
    async with await _client(web_app, "provider_staff", lang) as client:
        data = {"csrf_token": CSRF, "programme_group": ICT, "total_hours": "160"}
        fragment = (await client.post("/institution/programmes/cost", data=data)).text
    assert amount in fragment
    assert gateway.sent("POST", "/api/catalog/programmes/cost") == [{"programme_group": ICT, "total_hours": 160}]


async def test_without_script_the_cost_button_shows_the_form_again_with_the_cost_and_saves_nothing(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    form = {"csrf_token": CSRF, "action": "cost", "programme_group": ICT, "total_hours": "160",
            "title_lv": "Datu analīze", "qualifications": ["datu_analitikis"]}  # fmt: skip
    page = (await admin.post("/institution/programmes/new", data=form)).text
    assert "€320.00 per participant" in page and 'aria-live="polite"' in page
    assert 'value="Datu analīze"' in page and re.search(r'value="datu_analitikis" checked', page)
    assert not gateway.sent("POST", f"{BASE}/programmes")


async def test_the_programme_is_sent_as_catalog_takes_it_and_its_refusals_shown_beside_their_fields(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    violations = [{"field": "hours_split", "rule": "matches_licence", "message": "70/90"},
                  {"field": "title.en", "rule": "required", "message": "must not be empty"}]  # fmt: skip
    gateway.refusals[("POST", f"{BASE}/programmes")] = ApiError(422, {"errors": violations})
    form = {"csrf_token": CSRF, "action": "save", "title_lv": "Datu analīze", "title_en": "",
            "licence_number": "P-5005", "licence_date": "2022-01-17", "programme_group": ICT, "total_hours": "160",
            "theory_hours": "60",
            "practice_hours": "100", "digital_share_percent": "80,5", "learning_outcomes": "Viens\r\n\r\nDivi ",
            "operating_systems": ["windows", "linux"], "location_ids": [LOCATION_ID], "digcomp_level": "5"}  # fmt: skip
    files = {"curriculum": ("plans.pdf", b"%PDF-1.7", "application/pdf")}
    answer = await admin.post("/institution/programmes/new", data=form, files=files)
    assert answer.status_code == 422
    assert _beside(answer.text, "hours-split").startswith("Split the hours into theory and practice")
    assert _beside(answer.text, "title-en") == "This field is required"
    assert "€320.00 per participant" in answer.text  # the cost still shown beside the refusal
    (body,) = gateway.sent("POST", f"{BASE}/programmes")
    assert (body["total_hours"], body["theory_hours"], body["digcomp_level"]) == (160, 60, 5)
    assert body["learning_outcomes"] == ["Viens", "Divi"] and body["digital_share_percent"] == "80.5"
    assert body["operating_systems"] == ["windows", "linux"] and body["location_ids"] == [LOCATION_ID]
    assert body["title"] == {"lv": "Datu analīze", "en": ""} and body["curriculum_document_id"] == DOCUMENT_ID
    assert "cost" not in body


async def test_staff_see_the_users_but_are_not_offered_invite_or_remove(web_app: FastAPI, gateway: FakeGateway) -> None:
    gateway.mine = _mine("provider_staff")
    async with await _client(web_app, "provider_staff") as staff:
        page = (await staff.get("/institution/users")).text
    assert "Sandra Kalniņa" in page
    assert 'action="/institution/users"' not in page and "/remove" not in page
    admin_page = await (await _client(web_app, "provider_admin")).get("/institution/users")
    gateway.mine = _mine()
    admin_page = await (await _client(web_app, "provider_admin")).get("/institution/users")
    assert 'action="/institution/users"' in admin_page.text
    assert 'href="/institution/users/sandra-sub/remove"' in admin_page.text
    assert 'href="/institution/users/me/remove"' not in admin_page.text  # not oneself


async def test_an_invitation_is_by_user_name_or_e_mail_and_an_unknown_one_is_shown_beside_the_field(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    assert (await admin.post("/institution/users", data={"csrf_token": CSRF, "who": " sandra "})).status_code == 303
    await admin.post("/institution/users", data={"csrf_token": CSRF, "who": "sandra@example.lv"})
    assert gateway.sent("POST", f"{BASE}/users") == [{"username": "sandra"}, {"email": "sandra@example.lv"}]
    violation = {"field": "username", "rule": "known_user", "message": "no user"}
    gateway.refusals[("POST", f"{BASE}/users")] = ApiError(422, {"errors": [violation]})
    refused = await admin.post("/institution/users", data={"csrf_token": CSRF, "who": "nobody"})
    assert refused.status_code == 422 and _beside(refused.text, "who").startswith("No user of the platform has")
    assert 'value="nobody"' in refused.text


async def test_a_user_is_removed_only_after_the_confirmation_page(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await admin.get("/institution/users/sandra-sub/remove")).text
    assert "Remove Sandra Kalniņa from Vidzemes Digitālo prasmju centrs?" in page
    assert "They will no longer act for the institution" in page
    assert not [c for c in gateway.calls if c[0] == "DELETE"]
    done = await admin.post("/institution/users/sandra-sub/remove", data={"csrf_token": CSRF})
    assert done.status_code == 303 and done.headers["location"] == "/institution/users?removed=1"
    assert [c[:2] for c in gateway.calls if c[0] == "DELETE"] == [("DELETE", f"{BASE}/users/sandra-sub")]
    assert (await admin.get("/institution/users/nobody/remove")).status_code == 404


async def test_an_address_not_in_viis_is_refused_beside_the_field(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    violation = {"field": "address", "rule": "registered_in_viis", "message": "not in VIIS"}
    gateway.refusals[("POST", f"{BASE}/locations")] = ApiError(422, {"errors": [violation]})
    answer = await admin.post("/institution/locations", data={"csrf_token": CSRF, "address": "Nekurienes iela 1"})
    assert answer.status_code == 422
    assert _beside(answer.text, "address").startswith("This address is not registered in VIIS")
    assert "VIIS-500501" in answer.text  # the locations there are, with their register check


async def test_the_programme_list_passes_its_paging_filters_and_sorting_to_the_api(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    page = (await admin.get("/institution/programmes", params={"page": 2, "status": "draft", "q": "datu",
                                                              "sort": "title"})).text  # fmt: skip
    (params,) = [p for m, path, p in gateway.calls if path == f"{BASE}/programmes"]
    assert params == {"sort": "title", "lang": "en", "limit": 20, "offset": 20, "status": "draft", "q": "datu"}
    assert "45 programmes" in page
    assert 'href="/institution/programmes?status=draft&amp;q=datu&amp;sort=title&amp;page=3"' in page
    await admin.get("/institution/programmes", params={"status": "nonsense", "sort": "nonsense"})
    params = [p for m, path, p in gateway.calls if path == f"{BASE}/programmes"][-1]
    assert params == {"sort": "-registered", "lang": "en", "limit": 20, "offset": 0}


async def test_the_group_list_pages_with_places_taken_and_free(admin: httpx.AsyncClient, gateway: FakeGateway) -> None:
    page = (await admin.get("/institution/groups", params={"page": 3, "status": "scheduled"})).text
    (params,) = [p for m, path, p in gateway.calls if path == f"{BASE}/groups"]
    assert params == {"sort": "start", "limit": 20, "offset": 40, "status": "scheduled"}
    assert "0 / 12" in page and "Data analysis" in page


async def test_a_group_is_cancelled_only_after_the_confirmation_page(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    group_page = (await admin.get(f"/institution/groups/{GROUP_ID}")).text
    assert f'href="/institution/enrolments?group={GROUP_ID}"' in group_page
    assert f'href="/institution/groups/{GROUP_ID}/cancel"' in group_page
    confirm = (await admin.get(f"/institution/groups/{GROUP_ID}/cancel")).text
    assert "its 12 places in Cēsis are no longer offered" in confirm
    assert not gateway.sent("PATCH", f"{BASE}/groups/{GROUP_ID}")
    done = await admin.post(f"/institution/groups/{GROUP_ID}/cancel", data={"csrf_token": CSRF})
    assert done.headers["location"] == f"/institution/groups/{GROUP_ID}?cancelled=1"
    assert gateway.sent("PATCH", f"{BASE}/groups/{GROUP_ID}") == [{"status": "cancelled"}]


async def test_a_group_change_sends_only_what_changed_and_a_refusal_is_shown_beside_its_field(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    form = {"csrf_token": CSRF, "location_id": LOCATION_ID, "start_date": "2027-02-01", "end_date": "2027-05-31",
            "schedule": "Otrdienās", "capacity": "15", "language": "lv", "entry_level": "3"}  # fmt: skip
    assert (await admin.post(f"/institution/groups/{GROUP_ID}/change", data=form)).status_code == 303
    assert gateway.sent("PATCH", f"{BASE}/groups/{GROUP_ID}") == [{"end_date": "2027-05-31", "capacity": 15}]
    violation = {"field": "end_date", "rule": "within_agreement", "message": "until 2027-03-31"}
    gateway.refusals[("POST", f"{BASE}/programmes/{PROGRAMME_ID}/groups")] = ApiError(422, {"errors": [violation]})
    refused = await admin.post(f"/institution/programmes/{PROGRAMME_ID}/groups/new", data=form)
    assert refused.status_code == 422
    assert _beside(refused.text, "end-date") == "The group must end before the cooperation agreement ends"


async def test_a_pending_institution_is_told_its_work_waits_for_approval(
    admin: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.mine = _mine(status="pending")
    for page in ("/institution/users", "/institution/locations", "/institution/groups", "/institution/programmes/new"):
        answer = await admin.get(page)
        assert answer.status_code == 409 and "waits for the agency's decision" in answer.text
    assert "Waiting for the agency's decision" in (await admin.get("/institution")).text
