"""A user's notices over HTTP (SQLite and PostgreSQL): one's own only, newest first, paged within the platform's
bounds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from notifications.app import DEFINITION
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.harness import ServiceHarness, harness, local_settings

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
async def notifications(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[ServiceHarness]:
    async with harness(DEFINITION, local_settings(DEFINITION, database_url, tmp_path), token_issuer) as running:
        yield running


def _violations(response: httpx.Response) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


async def test_a_learner_reads_their_own_notices_in_pages(notifications: ServiceHarness) -> None:
    await notifications.deliver(
        AccountOpened(account_id=uuid.uuid4(), learner_id="anna", opened_at=NOW),
        AccountOpened(account_id=uuid.uuid4(), learner_id="janis", opened_at=NOW),
    )
    page = (await notifications.client.get("/notifications", headers=notifications.as_("anna"))).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    (notice,) = page["items"]
    assert notice["kind"] == "welcome"
    later = await notifications.client.get("/notifications", params={"offset": 1}, headers=notifications.as_("anna"))
    assert later.json()["items"] == [] and later.json()["total"] == 1
    other = await notifications.client.get(f"/notifications/{notice['id']}", headers=notifications.as_("janis"))
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"offset": "9223372036854775808"}, "offset", "less_than_equal"),
        ({"offset": "-1"}, "offset", "greater_than_equal"),
        ({"limit": "201"}, "limit", "less_than_equal"),
        ({"limit": "0"}, "limit", "greater_than_equal"),
    ],
)
async def test_a_page_out_of_bounds_is_a_422(
    notifications: ServiceHarness, query: dict[str, str], field: str, rule: str
) -> None:
    response = await notifications.client.get("/notifications", params=query, headers=notifications.as_("anna"))
    assert _violations(response) == {(field, rule)}
