"""What catalog accepts, and how it says no: one clear 422 per mistake, naming the field and the rule.

Dates a study group cannot have; unknown fields and query parameters; every problem of a coefficient table in
one answer; messages that name the right thing without internals (no Python reprs); paging within the
platform's bounds.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import get_args

import httpx
from catalog.api import ROUTERS
from fastapi.routing import APIRoute
from prasmes_runtime.dependencies import StrictQuery
from prasmes_runtime.schemas import StrictModel
from prasmes_testing import samples

from .conftest import API, Catalog, group_body, refusal

REPR = re.compile(r"\[|\]|'|\(|\)|!=")
"""What a message of a rule never shows: a Python list or tuple, quotes of a repr, programmer's operators."""
ADMIN = ("martins", "agency_admin")


def _violations(response: httpx.Response) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


def _messages(response: httpx.Response) -> list[str]:
    return [e["message"] for e in response.json()["errors"]]


async def _published_group(catalog: Catalog, until: date = date(2026, 6, 30)) -> tuple[str, str, str, str]:
    """An approved institution with a published programme and a group: (institution, location, programme, group)."""
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    programme = (await catalog.programme("liga", a, [riga])).json()
    await catalog.publish_programmes(a, programme["id"], until=until)
    group = await catalog.group("liga", a, programme["id"], riga)
    return a, riga, programme["id"], group["id"]


# --------------------------------------------------------------------------- dates a group cannot have


async def test_a_group_is_scheduled_within_two_years_from_today(catalog: Catalog) -> None:
    a, riga, programme_id, _ = await _published_group(catalog, until=date(2099, 12, 31))
    url = f"{API}/providers/{a}/programmes/{programme_id}/groups"
    far = await catalog.client.post(
        url, json=group_body(riga, start_date="2029-01-10", end_date="2029-03-01"), headers=catalog.user("liga")
    )
    assert _violations(far) == {("start_date", "max_ahead"), ("end_date", "max_ahead")}
    assert "2028-03-02" in _messages(far)[0]
    at_the_bound = await catalog.client.post(
        url, json=group_body(riga, start_date="2028-01-10", end_date="2028-03-02"), headers=catalog.user("liga")
    )
    assert at_the_bound.status_code == 201, at_the_bound.text
    backwards = await catalog.client.post(
        url, json=group_body(riga, start_date="2026-04-10", end_date="2026-04-09"), headers=catalog.user("liga")
    )
    assert _violations(backwards) == {("end_date", "not_before_start")}
    past = await catalog.client.post(
        url, json=group_body(riga, start_date="2026-03-01", end_date="2026-04-01"), headers=catalog.user("liga")
    )
    assert _violations(past) == {("start_date", "not_in_past")}


async def test_a_group_of_a_withdrawn_programme_cannot_move_to_the_year_9999(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    programme = (await catalog.programme("liga", a, [riga])).json()
    offer = await catalog.publish_programmes(a, programme["id"])
    group = await catalog.group("liga", a, programme["id"], riga)
    await catalog.end_agreement(a, offer, programme["id"])
    url = f"{API}/providers/{a}/groups/{group['id']}"
    forever = await catalog.client.patch(url, json={"end_date": "9999-12-31"}, headers=catalog.user("liga"))
    assert _violations(forever) == {("end_date", "max_ahead")}
    kept = await catalog.client.get(url, headers=catalog.user("liga"))
    assert kept.json()["end_date"] == "2026-05-29"


async def test_a_changed_end_cannot_lie_in_the_past(catalog: Catalog) -> None:
    a, _, _, group_id = await _published_group(catalog)
    catalog.clock.at = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)  # the group runs since 16 March
    url = f"{API}/providers/{a}/groups/{group_id}"
    ended = await catalog.client.patch(url, json={"end_date": "2026-04-01"}, headers=catalog.user("liga"))
    assert _violations(ended) == {("end_date", "not_in_past")}
    # Other changes of a group under way are fine, and so is an end from today on.
    assert (await catalog.client.patch(url, json={"capacity": 12}, headers=catalog.user("liga"))).status_code == 200
    shorter = await catalog.client.patch(url, json={"end_date": "2026-04-10"}, headers=catalog.user("liga"))
    assert shorter.status_code == 200, shorter.text


# --------------------------------------------------------------------------- unknown fields and parameters


def test_every_request_body_refuses_unknown_fields() -> None:
    bodies = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            field = route.body_field
            model = field.field_info.annotation if field is not None else None
            if isinstance(model, type) and issubclass(model, StrictModel):
                bodies.append(model)
            elif field is not None:
                assert route.path == "/coefficients", route.path  # read as JSON and checked field by field
    assert len(bodies) >= 7
    for model in bodies:
        assert model.model_config.get("extra") == "forbid", model


def test_every_route_taking_query_parameters_refuses_unknown_ones_after_the_callers_check() -> None:
    refuse = get_args(StrictQuery)[1].dependency
    checked = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            calls = [sub.call for sub in route.dependant.dependencies]
            if route.dependant.query_params:
                assert refuse in calls, route.path
                checked.append(route.path)
                # after whoever decides who the caller is (a 401 or a 403 comes before a 422)
                assert all(
                    calls.index(refuse) > i for i, sub in enumerate(route.dependant.dependencies) if sub.dependencies
                )
    assert sorted(checked) == [
        "/documents",
        "/providers",
        "/providers/{institution_id}/groups",
        "/providers/{institution_id}/programmes",
        "/public/programmes",
    ]


async def test_unknown_fields_and_query_parameters_are_named(catalog: Catalog) -> None:
    a, _, _, group_id = await _published_group(catalog)
    cancel = await catalog.client.patch(
        f"{API}/providers/{a}/groups/{group_id}", json={"cancel": True}, headers=catalog.user("liga")
    )
    assert _violations(cancel) == {("cancel", "extra_forbidden")}
    typo = await catalog.client.get(f"{API}/public/programmes", params={"digcomp": 5, "q": "datu"})
    assert _violations(typo) == {("digcomp", "extra_forbidden")}
    assert "digcomp_level" in _messages(typo)[0]  # says which parameters there are
    agency = await catalog.client.get(
        f"{API}/providers", params={"state": "pending"}, headers=catalog.user("ilze", "agency_officer")
    )
    assert _violations(agency) == {("state", "extra_forbidden")}
    assert (await catalog.client.get(f"{API}/providers", params={"state": "pending"})).status_code == 401
    upload = await catalog.client.post(
        f"{API}/documents",
        params={"purpose": "statement", "file_name": "a.edoc"},
        content=samples.asice_container(),
        headers=catalog.user("liga"),
    )
    assert _violations(upload) == {("file_name", "extra_forbidden")}
    table = {"hourly_rate": "1.56", "coefficients": {"Biroja darbs": "1.1"}, "valid_from": "2026-03-02", "version": 7}
    versioned = await catalog.client.post(f"{API}/coefficients", json=table, headers=catalog.user(*ADMIN))
    assert _violations(versioned) == {("version", "extra_forbidden")}


# --------------------------------------------------------------------------- one clear error per mistake


async def test_every_problem_of_a_coefficient_table_comes_in_one_answer(catalog: Catalog) -> None:
    table = {
        "hourly_rate": "1,56",
        "coefficients": {"": "1.2", "Biroja darbs": "abc", "Datorsistēmas, datubāzes un datortīkli": "-1"},
        "valid_from": "2026-03-01",
    }
    response = await catalog.client.post(f"{API}/coefficients", json=table, headers=catalog.user(*ADMIN))
    assert _violations(response) == {
        ("hourly_rate", "number"),
        ("coefficients", "required"),
        ("coefficients.Biroja darbs", "number"),
        ("coefficients.Datorsistēmas, datubāzes un datortīkli", "positive"),
        ("valid_from", "not_in_past"),
    }
    huge = {"hourly_rate": "1e999999", "coefficients": {"Biroja darbs": 1e300}, "valid_from": "2026-03-02"}
    too_much = await catalog.client.post(f"{API}/coefficients", json=huge, headers=catalog.user(*ADMIN))
    assert _violations(too_much) == {("hourly_rate", "max"), ("coefficients.Biroja darbs", "max")}
    missing = await catalog.client.post(
        f"{API}/coefficients", json={"coefficients": [], "valid_from": "1 March"}, headers=catalog.user(*ADMIN)
    )
    assert _violations(missing) == {("hourly_rate", "required"), ("coefficients", "object"), ("valid_from", "date")}
    assert (await catalog.client.get(f"{API}/coefficients")).json()["version"] == 1  # nothing was published


async def test_an_empty_address_is_required_not_unregistered(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    url = f"{API}/providers/{a}/locations"
    empty = await catalog.client.post(url, json={"address": "  "}, headers=catalog.user("liga"))
    assert _violations(empty) == {("address", "required")}
    unknown = await catalog.client.post(url, json={"address": "Tērbatas iela 1, Rīga"}, headers=catalog.user("liga"))
    assert _violations(unknown) == {("address", "registered_in_viis")}
    (message,) = _messages(unknown)
    assert "Tērbatas iela 1, Rīga" in message and not REPR.search(message), message


async def test_empty_registration_fields_are_required(catalog: Catalog) -> None:
    statement = await catalog.upload("liga", "statement", samples.asice_container(), "apliecinajums.edoc")
    payload = samples.registration_payload(statement.json()["id"]) | {
        "name": "",
        "register_number": " ",
        "admin": {"name": "", "email": ""},
    }
    response = await catalog.client.post(f"{API}/providers", json=payload, headers=catalog.user("liga"))
    assert _violations(response) == {
        ("name", "required"),
        ("register_number", "required"),
        ("admin.name", "required"),
        ("admin.email", "required"),
    }
    assert "must not be empty" in _messages(response) and not any("1 characters" in m for m in _messages(response))


async def test_programme_messages_name_the_right_thing_without_reprs(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    response = await catalog.programme(
        "liga",
        a,
        [riga, "3fa85f64-5717-4562-b3fc-2c963f66afa6"],
        title={"lv": "Datu analīze", "en": "Data analysis", "de": "Datenanalyse"},
        programme_group="",
        language="",
        qualifications=["kosmonauts"],
        theory_hours=60,
    )
    assert _violations(response) == {
        ("title", "languages"),
        ("programme_group", "required"),
        ("language", "required"),
        ("qualifications", "known"),
        ("location_ids", "own_location"),
        ("hours_split", "sums_to_total"),
        ("hours_split", "matches_licence"),
    }
    for message in _messages(response):
        assert not REPR.search(message), message
    assert any("de" in m for m in _messages(response)) and any("kosmonauts" in m for m in _messages(response))


async def test_search_messages_and_paging_bounds(catalog: Catalog) -> None:
    search = f"{API}/public/programmes"
    unknown = await catalog.client.get(search, params={"qualification": "kosmonauts"})
    assert _violations(unknown) == {("qualification", "known")}
    assert not REPR.search(_messages(unknown)[0]) and "datu_analitikis" in _messages(unknown)[0]
    assert refusal(await catalog.client.get(search, params={"offset": 2**63})) == ("offset", "less_than_equal")
    assert refusal(await catalog.client.get(search, params={"offset": -1})) == ("offset", "greater_than_equal")
    assert refusal(await catalog.client.get(search, params={"limit": 201})) == ("limit", "less_than_equal")
    assert refusal(await catalog.client.get(search, params={"limit": "many"})) == ("limit", "int_parsing")
    deepest = await catalog.client.get(search, params={"limit": 200, "offset": 1_000_000})
    assert deepest.status_code == 200, deepest.text
    assert (deepest.json()["limit"], deepest.json()["offset"], deepest.json()["items"]) == (200, 1_000_000, [])
    assert refusal(await catalog.client.get(search, params={"offset": 1_000_001})) == ("offset", "less_than_equal")


async def test_no_text_holds_a_control_character(catalog: Catalog) -> None:
    """PostgreSQL keeps no NUL (it was a 500 there, and stored as given on SQLite): a 422 naming the field."""
    liga = catalog.user("liga")
    statement = await catalog.upload("liga", "statement", samples.asice_container(), "apliecinajums.edoc")
    registration = samples.registration_payload(statement.json()["id"]) | {"legal_address": "Rīga\u0000"}
    assert refusal(await catalog.client.post(f"{API}/providers", json=registration, headers=liga)) == (
        "legal_address",
        "printable_text",
    )
    named = await catalog.upload("liga", "statement", samples.asice_container(), "a\u0000.edoc")
    assert refusal(named) == ("filename", "printable_text")
    a, riga, _, group_id = await _published_group(catalog)
    titled = await catalog.programme("liga", a, [riga], title={"lv": "Datu\u0000", "en": "Data"})
    assert refusal(titled) == ("title", "printable_text")
    outcomes = await catalog.programme("liga", a, [riga], learning_outcomes=["Spēj\x07"])
    assert refusal(outcomes) == ("learning_outcomes", "printable_text")
    schedule = await catalog.client.patch(
        f"{API}/providers/{a}/groups/{group_id}", json={"schedule": "Otrdienās\u0000"}, headers=liga
    )
    assert refusal(schedule) == ("schedule", "printable_text")
    multiline = await catalog.client.patch(
        f"{API}/providers/{a}/groups/{group_id}", json={"schedule": "Otrdienās\n\tceturtdienās"}, headers=liga
    )
    assert multiline.status_code == 200, multiline.text
    city = await catalog.client.get(f"{API}/public/programmes", params={"city": "Rīga\u0000"})
    assert refusal(city) == ("city", "printable_text")
    removal = await catalog.client.delete(f"{API}/providers/{a}/users/peteris%00", headers=liga)
    assert refusal(removal) == ("user_id", "printable_text")
