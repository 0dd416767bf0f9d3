"""What accounts accepts, and how it says no: a 4xx naming the field and the rule for every mistake, never a 5xx,
and nothing stored changed by a refused request (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from accounts import api
from accounts.domain.account import DIGCOMP_AREAS
from accounts.domain.personal_code import parse_personal_code
from fastapi.routing import APIRoute
from prasmes_runtime.schemas import StrictModel

from .conftest import NOW, Service

ADMIN = ("martins", "agency_admin")
LEVELS = dict.fromkeys(DIGCOMP_AREAS, 3)
OFFICER = ("ilze", "agency_officer")
SEEDED_CODES = ("161175-19997", "111111-11111")
"""The demo learner's code (devstack) and the README's "Try it" code: no example may show either."""
INTERNALS = re.compile(r"\^|\$|\\[sdw]|\[\^|\{\d|\]\+|Traceback|sqlalchemy|asyncpg|sqlite", re.IGNORECASE)
"""What a message never shows: a regular expression, a traceback, the database's words."""


def _violations(response: httpx.Response) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


def _project_body(**changes: Any) -> dict[str, Any]:
    return {
        "code": "NEW",
        "name": "A new project",
        "budget": "100000",
        "grant_per_person": "500",
        "window_opens_at": (NOW - timedelta(days=1)).isoformat(),
        "window_closes_at": (NOW + timedelta(days=30)).isoformat(),
        "enrolment_deadline": "2027-06-30",
    } | changes


# --- 4: null, non-Latin-1, offsets ------------------------------------------------------------


async def test_null_for_a_required_profile_field_is_a_422_and_changes_nothing(service: Service) -> None:
    anna = await service.learner("anna", 1, preferred_language="en")
    response = await service.client.patch("/accounts/me/profile", json={"preferred_language": None}, headers=anna)
    assert _violations(response) == {("preferred_language", "not_null")}
    assert (await service.client.get("/accounts/me", headers=anna)).json()["profile"]["preferred_language"] == "en"
    cleared = await service.client.patch("/accounts/me/profile", json={"first_name": None}, headers=anna)
    assert cleared.status_code == 200  # an optional field may be cleared with null


@pytest.mark.parametrize("field", ["budget", "name", "window_opens_at", "window_closes_at", "enrolment_deadline"])
async def test_null_for_a_required_project_field_is_a_422_and_changes_nothing(service: Service, field: str) -> None:
    before = (await service.client.get("/funding-projects/IMK")).json()
    response = await service.client.patch("/funding-projects/IMK", json={field: None}, headers=service.as_(*ADMIN))
    assert _violations(response) == {(field, "not_null")}
    assert (await service.client.get("/funding-projects/IMK")).json() == before


@pytest.mark.parametrize("code", ["ĀĒŪ", "IMK€", "学习", 'IMK"; filename="evil.exe', "IMK\r\nSet-Cookie: a=b"])
async def test_an_unknown_project_code_in_the_export_or_the_list_is_a_422(service: Service, code: str) -> None:
    officer = service.as_(*OFFICER)
    for path in ("/agency/applications.csv", "/agency/applications"):
        response = await service.client.get(path, params={"project_code": code}, headers=officer)
        assert _violations(response) == {("project_code", "known_project")}, path
        assert "content-disposition" not in response.headers


@pytest.mark.parametrize("offset", ["9223372036854775808", str(2**80), "1000001"])
async def test_an_offset_beyond_the_platforms_bound_is_a_422(service: Service, offset: str) -> None:
    staff = service.as_("peteris", "provider_staff")
    for path, headers in (("/agency/applications", service.as_(*OFFICER)), ("/provider/enrolments", staff)):
        response = await service.client.get(path, params={"offset": offset}, headers=headers)
        assert _violations(response) == {("offset", "less_than_equal")}, path


async def test_a_limit_beyond_the_platforms_bound_is_a_422(service: Service) -> None:
    response = await service.client.get("/agency/applications", params={"limit": 201}, headers=service.as_(*OFFICER))
    assert _violations(response) == {("limit", "less_than_equal")}


# --- 5: the export's file name ---------------------------------------------------------------


def test_a_file_name_is_encoded_as_rfc_6266_and_rfc_5987_say() -> None:
    assert api.attachment("applications-IMK.csv") == (
        "attachment; filename=\"applications-IMK.csv\"; filename*=UTF-8''applications-IMK.csv"
    )
    assert api.attachment("applications-TĀLĀK.csv") == (
        "attachment; filename=\"applications-T_L_K.csv\"; filename*=UTF-8''applications-T%C4%80L%C4%80K.csv"
    )
    injected = api.attachment('a"; filename="evil.exe\r\n.csv')
    assert injected == "attachment; filename=\"a___filename__evil.exe__.csv\"; filename*=UTF-8''" + (
        "a%22%3B%20filename%3D%22evil.exe%0D%0A.csv"
    )
    assert injected.count("filename=") == 1 and injected.count('"') == 2
    injected.encode("latin-1")  # always a valid header value
    assert api.attachment("").startswith('attachment; filename="download"')


async def test_the_export_names_its_file_safely(service: Service) -> None:
    response = await service.client.get(
        "/agency/applications.csv", params={"project_code": "IMK"}, headers=service.as_(*OFFICER)
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"] == api.attachment("applications-IMK.csv")
    everything = await service.client.get("/agency/applications.csv", headers=service.as_(*OFFICER))
    assert everything.headers["content-disposition"] == api.attachment("applications-all.csv")


# --- 8: the examples in the API docs ---------------------------------------------------------


async def test_the_api_docs_show_a_test_code_that_no_seeded_user_has(service: Service) -> None:
    document = (await service.client.get("/openapi.json")).json()
    schema = document["components"]["schemas"]["OpenAccount"]["properties"]["personal_code"]
    (example,) = schema["examples"]
    for seeded in SEEDED_CODES:
        assert seeded not in str(document)
    code = parse_personal_code(example)
    birth = code.birth_date()
    assert birth is not None and birth.year <= NOW.year - 18  # valid by the rule, and an adult's
    assert example in schema["description"] and "test code" in schema["description"]


# --- 11: projects that cannot be, money with two decimals ------------------------------------


async def test_money_comes_back_with_two_decimals(service: Service) -> None:
    admin = service.as_(*ADMIN)
    created = await service.client.post("/funding-projects", json=_project_body(), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["grant_per_person"], body["budget"]) == (
        "500.00",
        {"budget": "100000.00", "reserved": "0.00", "spent": "0.00", "available": "100000.00"},
    )
    changed = await service.client.patch("/funding-projects/NEW", json={"budget": "2000"}, headers=admin)
    assert changed.json()["budget"]["budget"] == "2000.00"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"budget": "499.99"}, ("budget", "at_least_one_grant")),
        ({"enrolment_deadline": "2026-11-28"}, ("enrolment_deadline", "not_before_window_closes")),
        ({"enrolment_deadline": "2026-12-29"}, ("enrolment_deadline", "not_before_window_closes")),
        (
            {"window_closes_at": (NOW - timedelta(days=2)).isoformat()},
            ("window_closes_at", "after_window_opens"),
        ),
        ({"window_opens_at": "2026-11-29T10:00:00"}, ("window_opens_at", "timezone_aware")),
    ],
)
async def test_a_project_that_cannot_be_is_refused(
    service: Service, changes: dict[str, str], expected: tuple[str, str]
) -> None:
    admin = service.as_(*ADMIN)
    created = await service.client.post("/funding-projects", json=_project_body(**changes), headers=admin)
    assert expected in _violations(created)
    assert (await service.client.get("/funding-projects/NEW")).status_code == 404
    assert (await service.client.post("/funding-projects", json=_project_body(), headers=admin)).status_code == 201
    changed = await service.client.patch("/funding-projects/NEW", json=changes, headers=admin)
    assert expected in _violations(changed)
    kept = (await service.client.get("/funding-projects/NEW")).json()
    assert (kept["budget"]["budget"], kept["enrolment_deadline"]) == ("100000.00", "2027-06-30")


async def test_a_deadline_on_the_day_the_window_closes_in_riga_is_accepted(service: Service) -> None:
    closes = datetime(2026, 12, 29, 22, 30, tzinfo=UTC)  # 30 December, 00:30 in Riga
    body = _project_body(window_closes_at=closes.isoformat(), enrolment_deadline="2026-12-30")
    created = await service.client.post("/funding-projects", json=body, headers=service.as_(*ADMIN))
    assert created.status_code == 201, created.text


# --- 12: unknown fields and parameters -------------------------------------------------------


def test_every_request_body_refuses_unknown_fields() -> None:
    bodies = []
    for router in api.ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if route.body_field is not None:
                model = route.body_field.field_info.annotation
                assert isinstance(model, type) and issubclass(model, StrictModel), route.path
                bodies.append(model)
    assert len(bodies) >= 10
    for model in bodies:
        assert model.model_config.get("extra") == "forbid", model


async def test_unknown_filter_values_and_parameters_are_422(service: Service) -> None:
    officer = service.as_(*OFFICER)
    for path in ("/agency/applications", "/agency/applications.csv"):
        unknown_state = await service.client.get(path, params={"state": "granted"}, headers=officer)
        assert _violations(unknown_state) == {("state.0", "enum")}, path
        typo = await service.client.get(path, params={"states": "submitted"}, headers=officer)
        assert _violations(typo) == {("states", "extra_forbidden")}, path
        assert "state" in typo.json()["errors"][0]["message"]  # says which parameters there are
    provider = await service.client.get(
        "/provider/enrolments", params={"group": "x"}, headers=service.as_("peteris", "provider_staff")
    )
    assert _violations(provider) == {("group", "extra_forbidden")}


# --- 13: one clear message per mistake -------------------------------------------------------


async def test_messages_name_the_field_and_say_what_is_allowed_without_internals(service: Service) -> None:
    anna = await service.learner("anna", 1)
    cases: list[tuple[str, str, dict[str, Any], tuple[str, str], str]] = [
        ("patch", "/accounts/me/profile", {"email": "not-an-email"}, ("email", "email"), "not a valid e-mail address"),
        ("patch", "/accounts/me/profile", {"email": "a@b"}, ("email", "email"), "not a valid e-mail address"),
        ("patch", "/accounts/me/profile", {"phone": "+371 2000 0000 0000 0000"}, ("phone", "phone"), "phone number"),
        ("patch", "/accounts/me/profile", {"phone": "+37120000000000000000"}, ("phone", "phone"), "phone number"),
        ("patch", "/accounts/me/profile", {"phone": "call me"}, ("phone", "phone"), "phone number"),
        ("post", "/accounts/me/digcomp", {"levels": {"safety": 3}}, ("levels", "areas"), "problem_solving"),
        ("post", "/accounts/me/digcomp", {"levels": {**LEVELS, "typing": 3}}, ("levels", "areas"), "typing"),
    ]
    for method, path, body, expected, words in cases:
        response = await service.client.request(method, path, json=body, headers=anna)
        assert _violations(response) == {expected}, (path, body, response.text)
        (error,) = response.json()["errors"]
        assert words in error["message"] and not INTERNALS.search(error["message"]), error
    code = await service.client.post(
        "/funding-projects", json=_project_body(code="new project"), headers=service.as_(*ADMIN)
    )
    assert _violations(code) == {("code", "project_code")}
    assert not INTERNALS.search(code.json()["errors"][0]["message"])


@pytest.mark.parametrize("text", ["nul\\u0000byte", "lone \\ud800 surrogate", "bell\\u0007"])
async def test_text_that_cannot_be_stored_is_a_422(service: Service, text: str) -> None:
    anna = await service.learner("anna", 1)
    json = {"content-type": "application/json"}  # the JSON escape as sent: a client cannot encode the character
    response = await service.client.patch(
        "/accounts/me/profile", content=f'{{"first_name": "{text}"}}', headers=anna | json
    )
    assert _violations(response) == {("first_name", "printable_text")}
    applied = await service.client.post(
        "/applications", content=f'{{"project_code": "IMK", "learning_need": "{text}"}}', headers=anna | json
    )
    assert _violations(applied) == {("learning_need", "printable_text")}
    assert (await service.client.get("/applications", headers=anna)).json() == []
    for path, params in (("/funding-projects/IM%00K", {}), ("/agency/applications", {"project_code": "IM\x00K"})):
        refused = await service.client.get(path, params=params, headers=service.as_(*OFFICER))
        assert refused.status_code == 422, (path, refused.text)
