"""A learner's whole path through the gateway, from account to completion, with the events checked on the topics.

The services run as processes on the embedded defaults and on Kafka + PostgreSQL. Catalog's events
(a published programme, a group, a member of staff) and calls' approved learning needs are put on the bus as those
services publish them.
"""

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from prasmes_contracts import Event
from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationSubmittedV2,
    EnrolmentConfirmed,
    GrantReleased,
    GrantReserved,
    GrantSpent,
    StudiesCompleted,
    StudiesStarted,
)
from prasmes_contracts.calls import LearningNeed, LearningNeedsApproved
from prasmes_contracts.catalog import GroupScheduled, ProgrammePublished, ProviderUserAdded
from prasmes_devtools.devstack import BACKENDS, Stack, free_base_port
from prasmes_runtime.bus import Bus
from prasmes_testing.events import events_on, publish
from prasmes_testing.servers import create_database
from prasmes_testing.support import eventually, personal_code

from tests.e2e.leak_check import assert_no_personal_code, stack_bus

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC)
TODAY = date.today()  # study dates may not lie in the future: the group runs around today
WORDS = "Gribu prast aizsargāt sava uzņēmuma datus"
"""Anna's own words about her learning need: accounts keeps them, no topic carries them."""


@pytest.fixture(scope="module", params=["embedded", "kafka"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp(f"path-{request.param}")
    stack = Stack(
        var_dir=var_dir,
        base_port=free_base_port(),
        bus=request.param,
        extra_env={"DEV_MODE": "true", "RATE_LIMIT_PER_MINUTE": "100000", "RATE_LIMIT_BURST": "10000"},
    )
    if request.param == "kafka":
        stack.kafka_bootstrap = request.getfixturevalue("kafka_bootstrap")
        server = request.getfixturevalue("postgres_server_url")
        stack.database_urls = {name: create_database(server, f"path_{name}_{time.monotonic_ns()}") for name in BACKENDS}
    try:  # a stack that failed to start stops too: its processes would join the next stack's consumer groups
        stack.start(("gateway", "accounts", "notifications"))
        yield stack
    finally:
        stack.stop()


async def _login(client: httpx.AsyncClient, username: str) -> tuple[dict[str, str], str]:
    body = (await client.post("/auth/dev-login", json={"username": username})).json()
    return {"Authorization": f"Bearer {body['access_token']}"}, body["subject"]


async def test_from_account_to_completion(stack: Stack) -> None:
    bus = stack_bus(stack)
    code = personal_code(70_000)
    institution, programme, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as client:
        anna, anna_id = await _login(client, "anna")
        officer, _ = await _login(client, "ilze")
        staff, staff_id = await _login(client, "peteris")
        await publish(
            bus,
            ProviderUserAdded(institution_id=institution, at=NOW, user_id=staff_id, role="provider_staff"),
            ProgrammePublished(
                programme_id=programme,
                institution_id=institution,
                at=NOW,
                title={"lv": "Kiberdrošības pamati", "en": "Cyber security basics"},
                digcomp_level=4,
                hours=160,
                cost_per_participant=Decimal("320.00"),
                coefficient_table_version=1,
                institution_name="Liepājas Valsts tehnikums",
            ),
            GroupScheduled(
                group_id=group,
                programme_id=programme,
                institution_id=institution,
                at=NOW,
                capacity=12,
                start_date=TODAY - timedelta(days=14),
                end_date=TODAY + timedelta(days=60),
                city="Liepāja",
                language="lv",
            ),
        )

        await _approve_learning_needs(client, bus)
        account = await client.post("/api/accounts/accounts", json={"personal_code": code}, headers=anna)
        assert account.status_code == 201, account.text
        await client.patch(
            "/api/accounts/accounts/me/profile",
            json={"first_name": "Anna", "employment_status": "employed"},
            headers=anna,
        )
        applied = await client.post(
            "/api/accounts/applications",
            json={"project_code": "IMK", "learning_need_code": "IMK4-CYBER", "learning_need": WORDS},
            headers=anna,
        )
        assert applied.status_code == 201, applied.text
        assert (applied.json()["learning_need_code"], applied.json()["learning_need"]) == ("IMK4-CYBER", WORDS)
        application_id = applied.json()["id"]
        approved = await client.post(f"/api/accounts/agency/applications/{application_id}/approval", headers=officer)
        assert approved.json()["state"] == "approved"

        enrolment: dict[str, str] = {}

        async def enrolled() -> bool:  # the group reaches accounts through the bus
            response = await client.post(
                f"/api/accounts/applications/{application_id}/enrolment", json={"group_id": str(group)}, headers=anna
            )
            enrolment.update(response.json() if response.status_code == 201 else {})
            return response.status_code == 201

        await eventually(enrolled, timeout=30, interval=0.5)
        enrolment_id = enrolment["id"]
        started = await client.post(
            f"/api/accounts/provider/enrolments/{enrolment_id}/start",
            json={"started_on": (TODAY - timedelta(days=14)).isoformat()},
            headers=staff,
        )
        assert started.status_code == 200, started.text
        completed = await client.post(
            f"/api/accounts/provider/enrolments/{enrolment_id}/completion",
            json={"completed_on": TODAY.isoformat(), "hours_attended": 156, "result": "passed"},
            headers=staff,
        )
        assert completed.json()["state"] == "completed"
        grant = (await client.get("/api/accounts/accounts/me/grant", headers=anna)).json()
        assert (grant["spent"], grant["released"], grant["available"]) == ("320.00", "180.00", "0.00")
        await _notified(client, anna, {"welcome", "application_approved", "grant_spent", "grant_released"})
        (study,) = (await client.get("/api/accounts/accounts/me/studies", headers=anna)).json()
        assert study["institution_name"] == "Liepājas Valsts tehnikums"
        assert study["programme_title"]["en"] == "Cyber security basics" and study["enrolment"]["hours_attended"] == 156

    await _check_topics(bus, anna_id, application_id, enrolment_id)
    # The code's value, not only a key's name: every other service's database, every topic, every log.
    report = await assert_no_personal_code(stack, code)
    assert report.values["notifications"] > 0 and report.records["accounts.studies"] > 0


async def _approve_learning_needs(client: httpx.AsyncClient, bus: Bus) -> None:
    """IMK's 4th call's approved learning needs, as calls publishes them, until accounts lists them (public)."""
    approved = LearningNeedsApproved(
        call_id=uuid.uuid4(),
        at=NOW,
        project_code="IMK",
        approved_on=TODAY,
        needs=[LearningNeed(code="IMK4-CYBER", title={"lv": "Kiberdrošība", "en": "Cyber security"})],
    )
    await publish(bus, approved, source="/prasmes/calls")

    async def listed() -> bool:
        project = (await client.get("/api/accounts/funding-projects/IMK")).json()
        return "IMK4-CYBER" in {n["code"] for n in project["learning_needs"]}

    await eventually(listed, timeout=30, interval=0.5)


async def _notified(client: httpx.AsyncClient, headers: dict[str, str], kinds: set[str]) -> None:
    """A notice on every change of the learner's grant."""

    async def arrived() -> bool:
        items = (await client.get("/api/notifications/notifications?limit=100", headers=headers)).json()["items"]
        return kinds <= {n["kind"] for n in items}

    await eventually(arrived, timeout=30, interval=0.5)


async def _check_topics(bus: Bus, learner_id: str, application_id: str, enrolment_id: str) -> None:
    expected: dict[str, list[type[Event]]] = {
        "accounts.accounts": [AccountOpened],
        "accounts.applications": [ApplicationSubmittedV2, ApplicationApproved],
        "accounts.grants": [GrantReserved, GrantSpent, GrantReleased],
        "accounts.studies": [EnrolmentConfirmed, StudiesStarted, StudiesCompleted],
    }

    async def mine(topic: str) -> list[str]:
        return [e.type for e in await events_on(bus, topic) if e.data.get("learner_id") == learner_id]

    async def all_there() -> bool:
        for topic, events in expected.items():
            if [e.event_type() for e in events] != (await mine(topic))[-len(events) :]:
                return False
        return True

    await eventually(all_there, timeout=30, interval=0.5)
    studies = [e for e in await events_on(bus, "accounts.studies") if e.data.get("enrolment_id") == enrolment_id]
    assert studies[-1].data["hours_attended"] == 156
    spent = [
        e for e in await events_on(bus, "accounts.grants", GrantSpent) if e.data["application_id"] == application_id
    ]
    assert spent[-1].data["amount"] == "320.00"
    (submitted,) = [
        e
        for e in await events_on(bus, "accounts.applications", ApplicationSubmittedV2)
        if e.data["application_id"] == application_id
    ]
    assert submitted.data["learning_need_code"] == "IMK4-CYBER" and "learning_need" not in submitted.data
    for topic in expected:
        for event in await events_on(bus, topic):
            assert "personal_code" not in event.data and "first_name" not in event.data
            assert WORDS not in str(event.data)
