"""The one paging dependency: bounded `limit` and `offset`, each out-of-range value a 422 naming field and rule.

An offset of 2**63 used to reach the database (a 5xx: it overflows BIGINT, or SQLite's INTEGER)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter
from prasmes_runtime.dependencies import MAX_LIMIT, MAX_OFFSET, DatabaseDep, PagingDep
from prasmes_runtime.service import ServiceDefinition
from prasmes_runtime.settings import Settings

router = APIRouter()


@router.get("/things")
async def things(paging: PagingDep, database: DatabaseDep) -> dict[str, Any]:
    async with database.session() as session:
        rows = (
            await session.execute(
                sa.text("SELECT 1 AS n LIMIT :limit OFFSET :offset"), {"limit": paging.limit, "offset": paging.offset}
            )
        ).all()
    return {"limit": paging.limit, "offset": paging.offset, "rows": len(rows)}


PAGED = ServiceDefinition(name="paged", title="Paged", routers=[router])


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = PAGED.create_app(Settings(var_dir=tmp_path, event_log_path=tmp_path / "events.db", log_level="WARNING"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://paged") as c:
        yield c
    await app.state.runtime.database.dispose()


def test_the_bounds_are_the_documented_ones() -> None:
    assert (MAX_LIMIT, MAX_OFFSET) == (200, 1_000_000)


async def test_defaults(client: httpx.AsyncClient) -> None:
    response = await client.get("/things")

    assert response.status_code == 200
    assert response.json() == {"limit": 50, "offset": 0, "rows": 1}


@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (200, 0), (50, 1_000_000)])
async def test_values_in_range_are_served(client: httpx.AsyncClient, limit: int, offset: int) -> None:
    response = await client.get("/things", params={"limit": limit, "offset": offset})

    assert response.status_code == 200
    assert response.json()["limit"] == limit and response.json()["offset"] == offset


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"offset": "9223372036854775808"}, "offset", "less_than_equal"),
        ({"offset": str(2**80)}, "offset", "less_than_equal"),
        ({"offset": "1000001"}, "offset", "less_than_equal"),
        ({"offset": "-1"}, "offset", "greater_than_equal"),
        ({"offset": "ten"}, "offset", "int_parsing"),
        ({"limit": "0"}, "limit", "greater_than_equal"),
        ({"limit": "201"}, "limit", "less_than_equal"),
        ({"limit": "9223372036854775808"}, "limit", "less_than_equal"),
        ({"limit": "1.5"}, "limit", "int_parsing"),
    ],
)
async def test_out_of_range_is_a_422_naming_field_and_rule(
    client: httpx.AsyncClient, query: dict[str, str], field: str, rule: str
) -> None:
    response = await client.get("/things", params=query)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [(field, rule)]


async def test_the_bounds_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    parameters = (await client.get("/openapi.json")).json()["paths"]["/things"]["get"]["parameters"]
    schemas = {p["name"]: p["schema"] for p in parameters}

    assert (schemas["limit"]["minimum"], schemas["limit"]["maximum"], schemas["limit"]["default"]) == (1, 200, 50)
    assert (schemas["offset"]["minimum"], schemas["offset"]["maximum"], schemas["offset"]["default"]) == (
        0,
        MAX_OFFSET,
        0,
    )
