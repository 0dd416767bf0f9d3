"""Races on PostgreSQL with events on Kafka: identical submissions, and approvals fighting for the last grants."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from accounts.app import create_app
from prasmes_contracts.accounts import ApplicationApproved, ApplicationSubmittedV2, GrantReserved
from prasmes_runtime.auth import TokenIssuer, TokenVerifier
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.settings import Settings
from prasmes_testing.events import events_on
from prasmes_testing.harness import running
from prasmes_testing.support import eventually, personal_code

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def client(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path, token_verifier: TokenVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        service_name="accounts",
        database_url=postgres_url,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        var_dir=tmp_path,
    )
    async with running(create_app(settings), token_verifier) as client:
        yield client


def _as(issuer: TokenIssuer, subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.issue(subject, roles or ('learner',))}"}


async def _learners(client: httpx.AsyncClient, issuer: TokenIssuer, prefix: str, n: int, offset: int) -> list[str]:
    subjects = [f"{prefix}-{i}" for i in range(n)]
    for i, subject in enumerate(subjects):
        opened = await client.post(
            "/accounts", json={"personal_code": personal_code(offset + i)}, headers=_as(issuer, subject)
        )
        assert opened.status_code == 201, opened.text
    return subjects


async def _count_on_kafka(bootstrap: str, topic: str, event: type, project: str, expected: int) -> None:
    bus = KafkaBus(bootstrap)

    async def arrived() -> bool:
        found = [e for e in await events_on(bus, topic, event) if e.data["project_code"] == project]
        return len(found) >= expected

    await eventually(arrived, timeout=60, interval=0.5)
    found = [e for e in await events_on(bus, topic, event) if e.data["project_code"] == project]
    assert len(found) == expected


async def test_identical_submissions_racing_create_exactly_one(
    client: httpx.AsyncClient, token_issuer: TokenIssuer, kafka_bootstrap: str, unique: str
) -> None:
    admin = _as(token_issuer, "martins", "agency_admin")
    project = f"R{unique[:8]}".upper()
    created = await client.post(
        "/funding-projects",
        headers=admin,
        json={
            "code": project,
            "name": "Race",
            "budget": "10000.00",
            "grant_per_person": "500.00",
            "window_opens_at": "2025-01-01T00:00:00Z",
            "window_closes_at": "2030-01-01T00:00:00Z",
            "enrolment_deadline": "2030-06-01",
        },
    )
    assert created.status_code == 201, created.text
    (anna,) = await _learners(client, token_issuer, f"race-{unique}", 1, 40_000)
    headers = _as(token_issuer, anna)
    responses = await asyncio.gather(
        *(client.post("/applications", json={"project_code": project}, headers=headers) for _ in range(20))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert all(r.json()["current"]["state"] == "submitted" for r in responses if r.status_code == 409)
    await _count_on_kafka(kafka_bootstrap, "accounts.applications", ApplicationSubmittedV2, project, 1)


async def test_a_hundred_approvals_racing_never_overspend_the_budget(
    client: httpx.AsyncClient, token_issuer: TokenIssuer, kafka_bootstrap: str, unique: str
) -> None:
    admin = _as(token_issuer, "martins", "agency_admin")
    officer = _as(token_issuer, "ilze", "agency_officer")
    project = f"B{unique[:8]}".upper()
    created = await client.post(
        "/funding-projects",
        headers=admin,
        json={
            "code": project,
            "name": "Ten grants",
            "budget": "5000.00",
            "grant_per_person": "500.00",
            "window_opens_at": "2025-01-01T00:00:00Z",
            "window_closes_at": "2030-01-01T00:00:00Z",
            "enrolment_deadline": "2030-06-01",
        },
    )
    assert created.status_code == 201
    learners = await _learners(client, token_issuer, f"budget-{unique}", 100, 50_000)
    ids = []
    for learner in learners:
        applied = await client.post("/applications", json={"project_code": project}, headers=_as(token_issuer, learner))
        ids.append(applied.json()["id"])
    responses = await asyncio.gather(*(client.post(f"/agency/applications/{i}/approval", headers=officer) for i in ids))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [409] * 90
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert all(r["current"]["available"] == "0.00" for r in refusals)
    budget = (await client.get(f"/funding-projects/{project}")).json()["budget"]
    assert (budget["reserved"], budget["spent"], budget["available"]) == ("5000.00", "0.00", "0.00")
    await _count_on_kafka(kafka_bootstrap, "accounts.applications", ApplicationApproved, project, 10)
    await _count_on_kafka(kafka_bootstrap, "accounts.grants", GrantReserved, project, 10)
