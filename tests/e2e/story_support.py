"""What the end-to-end stories share: a stack of service processes behind the gateway (on the embedded defaults, or
on Kafka + PostgreSQL with a database per service), the dev login, the fourth call IMK-4 from the institution's
registration to its programmes in the public catalogue (test_fourth_call, test_seed_story) and the mails that reached
the test's SMTP server (test_learner_path, test_seed_story).

IMK-4's timeline lies in 2025, so calls runs on a clock set by configuration (`CLOCK_START`, dev mode only): it
starts inside the offer window and is restarted alone into the evaluation period and then into the decision phase
(`restart_calls`). Every other service and every token stay on real time.
"""

import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prasmes_contracts.accounts import StudiesCompleted
from prasmes_devtools.devstack import BACKENDS, Stack, free_base_port
from prasmes_testing import samples
from prasmes_testing.events import publish
from prasmes_testing.servers import create_database
from prasmes_testing.smtp import MailServer
from prasmes_testing.waiting import processes_alive, until

from tests.e2e.leak_check import stack_bus

RIGA = ZoneInfo("Europe/Riga")
OFFER_WINDOW = datetime(2025, 10, 10, 20, 0, tzinfo=RIGA)  # the deadline's day, four hours before 23:59
EVALUATION = datetime(2025, 10, 13, 9, 0, tzinfo=RIGA)
DECISION = datetime(2025, 11, 10, 9, 0, tzinfo=RIGA)  # decision, agreements and publication: from 10 Nov
DEADLINE_IN_RIGA = "2025-10-10 23:59 (Europe/Riga, UTC+03:00)"
CALLS, CATALOG = "/api/calls", "/api/catalog"
ADMIN_EMAIL = "liga.ozola@example.lv"
"""The institution's administrator's address in its registration (samples.registration_payload): catalog keeps it."""
LICENCES: dict[str, dict[str, Any]] = {
    # 3360800001's licensed professional-development programmes, as catalog's registers data holds them.
    "P-1234": {"title": {"lv": "Datu analīze ar Python", "en": "Data analysis with Python"}},
    "P-2001": {
        "title": {"lv": "Kiberdrošības pamati", "en": "Cyber security basics"},
        "licence_date": "2022-09-01",
        "total_hours": 120,
        "theory_hours": 40,
        "practice_hours": 80,
    },
    "P-3003": {
        "title": {"lv": "Datortīklu administrēšana", "en": "Network administration"},
        "licence_date": "2021-02-15",
        "total_hours": 160,
        "theory_hours": 60,
        "practice_hours": 100,
    },
}
DELIVERED_BEFORE = ("P-1234", "P-2001")
"""The programmes the platform saw delivered (I4: two at DigComp 3+, each with a group of 10+ completers)."""
COMPLETERS_BEFORE = 10
"""Each of those groups' completers (the call's I4 asks for 10)."""
INSTITUTION_NAME = "Rīgas Datorikas mācību centrs"
CRITERIA = ["I1", "I2", "I3", "I4", "P1", "P2", "P3", "P4", "P5", "P6"]
"""IMK-4's institution and programme criteria (calls/data/calls.json)."""
STATEMENTS = ["data_true", "no_double_funding", "call_terms_accepted"]
AGREEMENT = {"number": "IMK-4/2025/001", "valid_from": "2025-11-10", "valid_until": "2026-04-30"}
"""The cooperation agreement as IMK-4's timeline has it: from the agreements phase to the end of delivery."""
LIFTED_RATE_LIMIT = {"DEV_MODE": "true", "RATE_LIMIT_PER_MINUTE": "100000", "RATE_LIMIT_BURST": "10000"}


@contextlib.contextmanager
def running_stack(
    request: pytest.FixtureRequest,
    var_dir: Path,
    bus: str,
    names: tuple[str, ...],
    database_prefix: str,
    service_env: dict[str, dict[str, str]] | None = None,
    timeout: float = 60,
    split_roles: bool = True,
) -> Iterator[Stack]:
    """The services as processes in dev mode with the gateway's rate limit lifted; on `kafka` with the session's
    broker and a fresh PostgreSQL database per service (`<database_prefix>_<service>_<ns>`). `timeout`: for each
    service to be ready; `split_roles`: each service as its api and its worker process (else one process each)."""
    stack = Stack(
        var_dir=var_dir,
        base_port=free_base_port(),
        bus=bus,
        extra_env=LIFTED_RATE_LIMIT,
        service_env=service_env if service_env is not None else {},
        split_roles=split_roles,
    )
    if bus == "kafka":
        stack.kafka_bootstrap = request.getfixturevalue("kafka_bootstrap")
        server = request.getfixturevalue("postgres_server_url")
        stack.database_urls = {
            name: create_database(server, f"{database_prefix}_{name}_{time.monotonic_ns()}") for name in BACKENDS
        }
    try:  # a stack that failed to start stops too: its processes would join the next stack's consumer groups
        stack.start(names, timeout)
        yield stack
    finally:
        stack.stop()


def restart_calls(stack: Stack, at: datetime, timeout: float = 60) -> None:
    """Calls alone (its api and its worker) on a clock that starts at `at`; the other services keep running."""
    stack.stop_service("calls")
    stack.service_env["calls"] = {"CLOCK_START": at.isoformat()}
    stack.start_service("calls")
    stack.wait_ready("calls", timeout)


async def login(client: httpx.AsyncClient, username: str) -> tuple[dict[str, str], str]:
    """A development user's headers and subject (the gateway's dev login)."""
    body = (await client.post("/auth/dev-login", json={"username": username})).json()
    return {"Authorization": f"Bearer {body['access_token']}"}, body["subject"]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def register(client: httpx.AsyncClient, liga: dict[str, str]) -> dict[str, Any]:
    """In catalog: Līga registers the institution with her signed statement; the registration, pending."""
    statement = ok(
        await client.post(
            f"{CATALOG}/documents",
            params={"purpose": "statement", "filename": "apliecinajums.pdf"},
            content=samples.pades_pdf(),
            headers={**liga, "Content-Type": "application/pdf"},
        ),
        201,
    )
    payload = samples.registration_payload(statement["id"], samples.GOOD_REGISTER_NUMBER)
    registration: dict[str, Any] = ok(await client.post(f"{CATALOG}/providers", json=payload, headers=liga), 201)
    return registration


async def approve_and_locate(
    client: httpx.AsyncClient, liga: dict[str, str], ilze: dict[str, str], institution_id: str
) -> tuple[dict[str, Any], str]:
    """Ilze approves the registration; Līga, its administrator now, adds its Rīga location. The approval, the
    location's id."""
    approved = ok(await client.post(f"{CATALOG}/providers/{institution_id}/approve", headers=ilze))
    location = ok(
        await client.post(
            f"{CATALOG}/providers/{institution_id}/locations",
            json={"address": "Brīvības iela 100, Rīga, LV-1001"},
            headers=liga,
        ),
        201,
    )
    return approved, location["id"]


async def institution(client: httpx.AsyncClient, liga: dict[str, str], ilze: dict[str, str]) -> tuple[str, str]:
    """In catalog: Līga registers the institution with her signed statement and Ilze approves it; its Rīga location."""
    institution_id: str = (await register(client, liga))["id"]
    _, location_id = await approve_and_locate(client, liga, ilze, institution_id)
    return institution_id, location_id


async def programmes(
    client: httpx.AsyncClient, liga: dict[str, str], institution_id: str, location_id: str
) -> dict[str, dict[str, Any]]:
    """In catalog: the institution's three licensed programmes, each with its curriculum. By licence number."""
    registered = {}
    for licence, fields in LICENCES.items():
        curriculum = ok(
            await client.post(
                f"{CATALOG}/documents",
                params={"purpose": "curriculum", "filename": f"{licence}.pdf"},
                content=samples.plain_pdf(f"{licence} macibu plans"),
                headers={**liga, "Content-Type": "application/pdf"},
            ),
            201,
        )
        form = samples.programme_payload([location_id], curriculum["id"], licence_number=licence, **fields)
        registered[licence] = ok(
            await client.post(f"{CATALOG}/providers/{institution_id}/programmes", json=form, headers=liga), 201
        )
    return registered


async def publish_history(stack: Stack, institution_id: str, programmes: dict[str, dict[str, Any]]) -> None:
    """The platform's past, as accounts published it: a group of ten completers of each programme delivered before.
    The learners are opaque ids, as on the topic."""
    completed = [
        StudiesCompleted(
            enrolment_id=uuid.uuid4(),
            application_id=uuid.uuid4(),
            learner_id=str(uuid.uuid4()),
            project_code="IMK",
            programme_id=uuid.UUID(programmes[licence]["id"]),
            group_id=group_id,
            institution_id=uuid.UUID(institution_id),
            completed_on=date(2024, 5, 31),
            hours_attended=programmes[licence]["total_hours"],
            result="passed",
        )
        for licence, group_id in ((licence, uuid.uuid4()) for licence in DELIVERED_BEFORE)
        for _ in range(COMPLETERS_BEFORE)
    ]
    await publish(stack_bus(stack), *completed, source="/prasmes/accounts")


def offered(programme: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Step 2's entry for a programme as licensed: its hours split, the cost (1.56 EUR/h x 1.28, ICT), provision."""
    return {
        "programme_id": programme["id"],
        "theory_hours": programme["theory_hours"],
        "practice_hours": programme["practice_hours"],
        "cost_per_participant": programme["cost"]["per_participant"],
        "provision": {"equipment": programme["equipment"], "operating_systems": ["windows", "linux"]},
        "location_viis_ids": ["VIIS-100101"],
    } | changes


async def draft(
    client: httpx.AsyncClient, liga: dict[str, str], call_id: str, programmes: dict[str, dict[str, Any]]
) -> str:
    """Līga's offer in three steps and its documents, with P-2001's hours split other than its curriculum's."""
    offer_id: str = ok(await client.post(f"{CALLS}/calls/{call_id}/offers", headers=liga), 201)["id"]
    path = f"{CALLS}/offers/{offer_id}"
    location = {"address": "Brīvības iela 100, Rīga, LV-1001", "city": "Rīga", "viis_id": "VIIS-100101"}
    ok(await client.put(f"{path}/locations", json={"locations": [location]}, headers=liga))
    entries = [offered(p) for p in programmes.values()]
    entries[1] |= {"theory_hours": 50, "practice_hours": 70}  # P-2001 is licensed as 40 h theory / 80 h practice
    ok(await client.put(f"{path}/programmes", json={"programmes": entries}, headers=liga))
    terms = {"funding_source": "IMK", "programme_ids": [p["id"] for p in programmes.values()], "statements": STATEMENTS}
    ok(await client.put(f"{path}/terms", json=terms, headers=liga))
    offered_ones = programmes.values()
    uploads: list[tuple[str, dict[str, str], bytes]] = [
        ("application", {}, samples.plain_pdf("Pieteikums")),
        ("experience", {}, samples.plain_pdf("Pieredze")),
        ("signed_statement", {}, samples.pades_pdf()),
        *(("curriculum", {"programme_id": p["id"]}, samples.plain_pdf(p["licence_number"])) for p in offered_ones),
    ]
    for kind, params, content in uploads:
        ok(
            await client.post(
                f"{path}/attachments",
                params={"kind": kind, "filename": f"{kind}.pdf", **params},
                content=content,
                headers={**liga, "Content-Type": "application/pdf"},
            ),
            201,
        )
    return offer_id


async def checked_with_the_history(stack: Stack, client: httpx.AsyncClient, liga: dict[str, str], path: str) -> Any:
    """The draft's checks once calls has applied the history (I4 met): until then the institution fails I4."""
    checks: dict[str, Any] = {}

    async def history_counted() -> bool:
        checks.update(ok(await client.post(f"{path}/checks", headers=liga)))
        return all(p["field"] != "institution.delivered_programmes" for p in checks["problems"])

    await until(history_counted, timeout=60, interval=0.5, healthy=processes_alive(stack.processes), what="I4 met")
    return checks


@dataclass(frozen=True)
class Users:
    liga: dict[str, str]
    ilze: dict[str, str]
    ilze_id: str
    martins: dict[str, str]


async def offer_checked_fixed_and_submitted(
    stack: Stack, client: httpx.AsyncClient, users: Users, call_id: str, programmes: dict[str, dict[str, Any]]
) -> str:
    """Līga's draft; the checks name the one programme whose hours split differs from its licensed curriculum (and
    the submission is refused for it); fixed, the offer is submitted as its version 1."""
    liga, ids = users.liga, {p["id"] for p in programmes.values()}

    async def calls_knows_them() -> bool:  # catalog's ProviderRegistered, Approved, UserAdded, ProgrammeRegistered
        response = await client.get(f"{CALLS}/institutions/me/programmes", headers=liga)
        return response.status_code == 200 and {p["programme_id"] for p in response.json()} == ids

    await until(calls_knows_them, timeout=60, interval=0.5, healthy=processes_alive(stack.processes))
    offer_id = await draft(client, liga, call_id, programmes)
    path = f"{CALLS}/offers/{offer_id}"
    checks = await checked_with_the_history(stack, client, liga, path)
    assert checks["ready"] is False
    (problem,) = checks["problems"]
    assert (problem["field"], problem["rule"], problem["source"], problem["step"]) == (
        "programmes[1].theory_hours",
        "hours_split",
        "call IMK-4, submission rules",
        "programmes",
    )
    assert "40 h theory / 80 h practice" in problem["message"]
    refused = await client.post(f"{path}/submit", headers=liga)
    assert refused.status_code == 422 and [p["field"] for p in refused.json()["problems"]] == [problem["field"]]

    fixed = [offered(p) for p in programmes.values()]
    ok(await client.put(f"{path}/programmes", json={"programmes": fixed}, headers=liga))
    assert ok(await client.post(f"{path}/checks", headers=liga)) == {"ready": True, "problems": []}
    submitted = ok(await client.post(f"{path}/submit", headers=liga))
    assert (submitted["state"], submitted["version"]) == ("submitted", 1)
    return offer_id


async def late_and_evaluated(client: httpx.AsyncClient, users: Users, offer_id: str) -> None:
    """In the evaluation period: a submission is late (409 naming the deadline); Ilze, assigned, finds every criterion
    met."""
    path = f"{CALLS}/offers/{offer_id}"
    late = await client.post(f"{path}/submit", headers=users.liga)
    assert late.status_code == 409, late.text
    assert "deadline" in late.json()["message"] and DEADLINE_IN_RIGA in late.json()["message"], late.text
    assert late.json()["current"]["phase"] == "evaluation"
    ok(await client.put(f"{path}/evaluator", json={"evaluator_id": users.ilze_id}, headers=users.martins))
    evaluation = ok(await client.get(f"{path}/evaluation", headers=users.ilze))
    assert (evaluation["state"], evaluation["missing"]) == ("under_evaluation", CRITERIA)
    findings = [{"criterion": c, "result": "meets", "note": "atbilst"} for c in CRITERIA]
    evaluated = ok(await client.put(f"{path}/findings", json={"findings": findings}, headers=users.ilze))
    assert evaluated["complete"] and evaluated["missing"] == []


async def approved_and_signed(
    client: httpx.AsyncClient,
    users: Users,
    offer_id: str,
    programmes: dict[str, dict[str, Any]],
    agreement: Mapping[str, str] = AGREEMENT,
) -> None:
    """From 10 Nov: Mārtiņš (not the evaluator) approves, makes the agreement and uploads its signed document."""
    path = f"{CALLS}/offers/{offer_id}"
    by_evaluator = await client.post(f"{path}/decision", json={"outcome": "approved"}, headers=users.ilze)
    assert by_evaluator.status_code == 403
    ok(await client.post(f"{path}/decision", json={"outcome": "approved"}, headers=users.martins), 201)
    made = ok(await client.post(f"{path}/agreement", json=dict(agreement), headers=users.martins), 201)
    assert set(made["programme_ids"]) == {p["id"] for p in programmes.values()} and not made["signed"]
    signed = ok(
        await client.post(
            f"{path}/agreement/signature",
            params={"filename": "ligums.edoc"},
            content=samples.asice_container(),
            headers={**users.martins, "Content-Type": "application/vnd.etsi.asic-e+zip"},
        )
    )
    assert signed["signed"]
    document = await client.get(f"{path}/agreement/document", headers=users.liga)
    assert hashlib.sha256(document.content).hexdigest() == signed["document_sha256"]


async def public(
    stack: Stack, client: httpx.AsyncClient, programmes: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Until the three programmes are in the public catalogue (no token): by id."""
    ids, found = {p["id"] for p in programmes.values()}, {}

    async def all_three_public() -> bool:
        page = ok(await client.get(f"{CATALOG}/public/programmes", params={"limit": 50}))
        found.update({p["id"]: p for p in page["items"]})
        return ids <= set(found)

    await until(all_three_public, timeout=60, interval=0.5, healthy=processes_alive(stack.processes))
    return found


async def one_mail(server: MailServer, to: str, subject: str, timeout: float = 20) -> EmailMessage:
    """The one mail of this subject to this address, waited for (the sender loop runs every second)."""

    def found() -> list[EmailMessage]:
        return [m for m in server.messages if m["To"] == to and m["Subject"] == subject]

    deadline = time.monotonic() + timeout
    while not found() and time.monotonic() < deadline:
        with contextlib.suppress(AssertionError):  # no further mail within the time left
            await server.wait_for_async(len(server.messages) + 1, timeout=deadline - time.monotonic())
    mails = found()
    assert len(mails) == 1, f"{len(mails)} mails {subject!r} to {to}; all: {[m['Subject'] for m in server.messages]}"
    return mails[0]
