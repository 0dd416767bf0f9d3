"""Opening a learning account over HTTP, on SQLite and PostgreSQL."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from accounts.app import create_app
from prasmes_runtime.auth import TokenVerifier
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import outbox
from prasmes_runtime.settings import Settings
from prasmes_testing.harness import running

from .conftest import Service

Bearer = Callable[..., dict[str, str]]


@pytest.fixture
async def client(database_url: str, tmp_path: Path, token_verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(service_name="accounts", database_url=database_url, var_dir=tmp_path)
    app = create_app(settings)
    async with running(app, token_verifier) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def test_a_learner_opens_an_account_and_sees_it(client: httpx.AsyncClient, bearer: Bearer) -> None:
    response = await client.post("/accounts", json={"personal_code": "161175-19997"}, headers=bearer("anna"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["birth_date"] == "1975-11-16"
    assert "19997" not in response.text  # the code is never echoed whole
    me = await client.get("/accounts/me", headers=bearer("anna"))
    assert me.json()["id"] == body["id"]
    assert (await client.get(f"/accounts/{body['id']}", headers=bearer("anna"))).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field", "rule"),
    [
        ({"personal_code": "111112-11111"}, "personal_code", "check_digit"),
        ({"personal_code": "161375-19997"}, "personal_code", "birth_date"),
        ({"personal_code": "1611751999"}, "personal_code", "length"),
        ({"personal_code": "328673-00679"}, "birth_date", "required_for_new_form_code"),
        ({"personal_code": "328673-00679", "birth_date": "2090-01-01"}, "birth_date", "not_in_future"),
        ({"personal_code": "1" * 40}, "personal_code", "string_too_long"),
        ({}, "personal_code", "missing"),
    ],
)
async def test_invalid_input_is_a_422_naming_field_and_rule(
    client: httpx.AsyncClient, bearer: Bearer, payload: dict[str, str], field: str, rule: str
) -> None:
    response = await client.post("/accounts", json=payload, headers=bearer("anna"))
    assert response.status_code == 422
    assert {"field": field, "rule": rule} == {k: response.json()["errors"][0][k] for k in ("field", "rule")}


async def test_a_second_account_for_the_same_person_is_a_conflict(client: httpx.AsyncClient, bearer: Bearer) -> None:
    first = await client.post("/accounts", json={"personal_code": "161175-19997"}, headers=bearer("anna"))
    again = await client.post("/accounts", json={"personal_code": "161175-19997"}, headers=bearer("anna"))
    assert again.status_code == 409
    current = again.json()["current"]
    assert datetime.fromisoformat(current.pop("opened_at")) == datetime.fromisoformat(first.json()["opened_at"])
    assert current == {"state": "open", "account_id": first.json()["id"]}
    other = await client.post("/accounts", json={"personal_code": "16117519997"}, headers=bearer("impostor"))
    assert other.status_code == 409
    assert other.json()["current"] == {"state": "open"}  # nothing about whose account it is


async def test_racing_openings_create_exactly_one_account(client: httpx.AsyncClient, bearer: Bearer) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/accounts", json={"personal_code": "161175-19997"}, headers=bearer(f"twin-{i}"))
            for i in range(8)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    database: Database = client.app.state.runtime.database  # type: ignore[attr-defined]
    async with database.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox)) == 1


async def test_the_event_goes_to_the_outbox_without_personal_data(client: httpx.AsyncClient, bearer: Bearer) -> None:
    await client.post("/accounts", json={"personal_code": "161175-19997"}, headers=bearer("anna"))
    database: Database = client.app.state.runtime.database  # type: ignore[attr-defined]
    async with database.session() as session:
        (row,) = (await session.execute(sa.select(outbox))).all()
    assert row.event_type == "lv.prasmes.accounts.AccountOpened.v1"
    assert row.topic == "accounts.accounts"
    assert "161175" not in row.data and "19997" not in row.data
    assert json.loads(row.data)["learner_id"] == "anna"


async def test_another_learners_account_is_not_found(client: httpx.AsyncClient, bearer: Bearer) -> None:
    opened = await client.post("/accounts", json={"personal_code": "161175-19997"}, headers=bearer("anna"))
    response = await client.get(f"/accounts/{opened.json()['id']}", headers=bearer("janis"))
    assert response.status_code == 404
    assert "161175" not in response.text


async def test_only_learners_open_accounts_and_only_with_a_token(client: httpx.AsyncClient, bearer: Bearer) -> None:
    assert (await client.post("/accounts", json={"personal_code": "161175-19997"})).status_code == 401
    officer = bearer("ilze", "agency_officer")
    assert (await client.post("/accounts", json={"personal_code": "161175-19997"}, headers=officer)).status_code == 403


async def test_an_account_opens_on_the_eighteenth_birthday_as_dated_in_riga(service: Service) -> None:
    born_30_november_2008 = "301108-20008"
    service.clock.at = datetime(2026, 11, 29, 21, 30, tzinfo=UTC)  # 23:30 on 29 November in Riga
    minor = await service.client.post(
        "/accounts", json={"personal_code": born_30_november_2008}, headers=service.as_("x")
    )
    assert minor.status_code == 422
    assert minor.json()["errors"] == [
        {
            "field": "personal_code",
            "rule": "adult",
            "message": "a learning account is for adults: this person may open one from 2026-11-30",
        }
    ]
    service.clock.at = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # 00:30 on 30 November in Riga
    adult = await service.client.post(
        "/accounts", json={"personal_code": born_30_november_2008}, headers=service.as_("x")
    )
    assert adult.status_code == 201, adult.text
