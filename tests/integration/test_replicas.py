"""Two replicas of every backend, each of its api and of its worker process, on PostgreSQL and Kafka behind the
gateway, which spreads the requests over a service's api replicas. Under a steady load of account openings,
applications and approvals one api and one worker replica of every service are killed (SIGKILL) and later restarted,
while the load goes on. Then:

* every request answered with a 2xx took effect, and exactly once: each account and each application exists once
  (through the API), each approval is there; a request that failed (the gateway does not send a POST that reached a
  dying replica again: it may have taken effect) took effect at most once;
* each of those changes is one event on its topic: one event id per account, application, approval and grant
  reserved, however often the relay's at-least-once delivery put that id on the topic (a relay killed between its
  send and its mark sends the rows again; the consumers' inboxes make the copy a no-op), and no event of a change
  that did not happen;
* the read models applied each change once: each learner's notices (notifications) and the public counts
  (statistics) match the changes one for one;
* the outbox relay's lock moved to the surviving worker: within 10 s of the kill it published rows committed after
  the kill (the lock is the database's: the killed worker's connection, and with it its lock, went with it);
* every consumer group rebalanced: the surviving member took all the partitions, and the restarted replica got its
  share back. The topics have `Settings.kafka_partitions` (3) partitions: enough for two members.
"""

from __future__ import annotations

import asyncio
import importlib
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from prasmes_contracts import CloudEvent, Event
from prasmes_contracts.accounts import AccountOpened, ApplicationApproved, ApplicationSubmittedV2, GrantReserved
from prasmes_devtools.devstack import BACKENDS, Stack, free_base_port
from prasmes_runtime import registry
from prasmes_runtime.bus import create_bus
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import outbox
from prasmes_runtime.settings import Settings
from prasmes_testing.events import events_on
from prasmes_testing.servers import create_database
from prasmes_testing.support import personal_code
from prasmes_testing.waiting import caught_up, processes_alive, until

pytestmark = pytest.mark.e2e
REPLICAS = 2
PARTITIONS = 3
CLIENTS = 4
SUFFIX = f"-replicas{uuid.uuid4().hex[:8]}"
"""The consumer groups' (the session's broker is shared with other tests)."""
PREFIX = f"replicas-{uuid.uuid4().hex[:8]}"
FIRST_CODE = 400_000
LOCK_MOVES_WITHIN = 10.0
"""The issue's deadline for the relay's lock to reach the surviving worker."""
PUBLISHED = "prasmes_events_published_total{"
Assignment = frozenset[tuple[str, int]]


def killed(name: str) -> tuple[str, str]:
    """The processes of a service the test kills: the api of replica 2 and the worker of replica 1."""
    return f"{name}#2", f"{name}-worker"


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    server = request.getfixturevalue("postgres_server_url")
    suffix = time.monotonic_ns()
    stack = Stack(
        var_dir=tmp_path_factory.mktemp("replicas"),
        base_port=free_base_port(replicas=REPLICAS),
        bus="kafka",
        kafka_bootstrap=request.getfixturevalue("kafka_bootstrap"),
        database_urls={name: create_database(server, f"replicas_{name}_{suffix}") for name in BACKENDS},
        extra_env={
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "RATE_LIMIT_BURST": "100000",
            "CONSUMER_GROUP_SUFFIX": SUFFIX,
            "KAFKA_PARTITIONS": str(PARTITIONS),
        },
        api_workers=1,
        replicas=REPLICAS,
    )
    try:
        stack.start(("gateway", *BACKENDS), timeout=180)
        yield stack
    finally:
        stack.stop()


# --------------------------------------------------------------------------- the load


@dataclass
class Ledger:
    """What the clients were answered."""

    learners: list[str] = field(default_factory=list)
    """Every learner a client started with (an account opening was sent for each)."""
    accounts: set[str] = field(default_factory=set)
    """Learners whose account opening was answered 201."""
    applications: dict[str, str] = field(default_factory=dict)
    """Application id -> learner, of the submissions answered 201."""
    approvals: set[str] = field(default_factory=set)
    """Applications whose approval was answered 200."""
    answers: Counter[str] = field(default_factory=Counter)
    """`<what> <status>` of every request (`<what> error` when no answer came)."""


class Load:
    """`CLIENTS` clients, each: a new learner opens an account, applies to IMK, and an officer approves."""

    def __init__(self, client: httpx.AsyncClient, stack: Stack, learning_need: str | None) -> None:
        self.client, self.issuer, self.ledger = client, stack.token_issuer(), Ledger()
        self.officer = self._headers("replicas-officer", "agency_officer")
        self.application: dict[str, str] = {"project_code": "IMK", "learning_need": "datu analīze"}
        if learning_need is not None:
            self.application["learning_need_code"] = learning_need
        self.stopping = asyncio.Event()

    def _headers(self, subject: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(subject, [role])}"}

    def headers(self, learner: str) -> dict[str, str]:
        return self._headers(learner, "learner")

    async def run(self, number: int) -> None:
        n = number
        while not self.stopping.is_set():
            await self._one_learner(n)
            n += CLIENTS
            await asyncio.sleep(0.02)  # steady, not flat out: the machine also restarts replicas meanwhile

    async def _one_learner(self, n: int) -> None:
        learner = f"{PREFIX}-{n}"
        self.ledger.learners.append(learner)
        headers = self.headers(learner)
        body = {"personal_code": personal_code(FIRST_CODE + n)}
        if await self._post("account", "/api/accounts/accounts", body, headers) is not None:
            self.ledger.accounts.add(learner)
        elif not await self._found("/api/accounts/accounts/me", headers):
            return
        applied = await self._post("application", "/api/accounts/applications", self.application, headers)
        if applied is None:
            return  # whether it took effect anyway is read at the end
        self.ledger.applications[applied["id"]] = learner
        approval = f"/api/accounts/agency/applications/{applied['id']}/approval"
        if await self._post("approval", approval, None, self.officer) is not None:
            self.ledger.approvals.add(applied["id"])

    async def _post(self, what: str, path: str, body: Any, headers: dict[str, str]) -> dict[str, Any] | None:
        try:
            answer = await self.client.post(path, json=body, headers=headers)
        except httpx.HTTPError:
            self.ledger.answers[f"{what} error"] += 1
            return None
        self.ledger.answers[f"{what} {answer.status_code}"] += 1
        return dict(answer.json()) if answer.is_success else None

    async def _found(self, path: str, headers: dict[str, str]) -> bool:
        """Whether a failed request took effect after all (a GET: the gateway retries it on another replica)."""
        try:
            return (await self.client.get(path, headers=headers)).status_code == 200
        except httpx.HTTPError:
            return False


# --------------------------------------------------------------------------- Kafka: groups, topics


def consumer_topics() -> dict[str, tuple[str, ...]]:
    """Each backend's consumer (one each) and the topics it subscribes to."""
    topics = {}
    for name in BACKENDS:
        module, attribute = registry.entry(name).definition.split(":")
        (spec,) = getattr(importlib.import_module(module), attribute).consumers
        topics[name] = tuple(spec.topics)
    return topics


async def groups(bootstrap: str) -> dict[str, str]:
    """Each backend's consumer group in this stack (statistics': its projection generation's, `<name>.g<n>`)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        listed = [group for group, _ in await admin.list_consumer_groups()]
    finally:
        await admin.close()
    found = {}
    for group in listed:
        name = group.split("-replicas")[0]
        if SUFFIX in group and name in BACKENDS:
            found[name] = group
    return found


async def assignments(bootstrap: str, group: str) -> list[Assignment]:
    """The partitions each member of a stable group holds; [] while it rebalances."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    (_, _, state, _, _, members) = response.groups[0]
    if state != "Stable":
        return []
    decoded = [ConsumerProtocolMemberAssignment.decode(member[4]) for member in members]
    return [frozenset((tp.topic, tp.partition) for tp in a.partitions()) for a in decoded]


def every_partition(topics: tuple[str, ...]) -> Assignment:
    return frozenset((topic, p) for topic in topics for p in range(PARTITIONS))


async def held_by(
    bootstrap: str, group: str, topics: tuple[str, ...], members: int, timeout: float, healthy: Callable[[], None]
) -> None:
    """Until `members` members hold every partition of the group's topics between them, each some."""
    seen: list[Assignment] = []

    async def held() -> bool:
        seen[:] = await assignments(bootstrap, group)
        union = frozenset().union(*seen) if seen else frozenset()
        return len(seen) == members and all(seen) and union == every_partition(topics)

    try:
        await until(held, timeout=timeout, interval=0.5, healthy=healthy, what=f"{group} held by {members} member(s)")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {[sorted(a) for a in seen]}") from exc


def ids_by(events: list[CloudEvent], key: str) -> dict[str, set[str]]:
    """Event ids by `key` (the aggregate): copies of one event (the relay's at-least-once) share their id."""
    found: dict[str, set[str]] = {}
    for event in events:
        found.setdefault(str(event.data[key]), set()).add(event.id)
    return found


# --------------------------------------------------------------------------- the relay


async def published(client: httpx.AsyncClient, url: str) -> float:
    """Events a worker's relay has published since it started (its /metrics)."""
    metrics = (await client.get(f"{url}/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(PUBLISHED))


async def last_outbox_id(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0))) or 0)


async def undispatched(database: Database, up_to: int | None = None) -> int:
    """Outbox rows not yet published (of those up to id `up_to`)."""
    rows = sa.select(sa.func.count()).where(outbox.c.dispatched_at.is_(None))
    if up_to is not None:
        rows = rows.where(outbox.c.id <= up_to)
    async with database.session() as session:
        return int(await session.scalar(rows) or 0)


async def dispatched_after(database: Database, after: int) -> int:
    """Outbox rows past id `after` that were published."""
    rows = sa.select(sa.func.count()).where(outbox.c.dispatched_at.is_not(None), outbox.c.id > after)
    async with database.session() as session:
        return int(await session.scalar(rows) or 0)


# --------------------------------------------------------------------------- the test


async def test_replicas_killed_and_restarted_under_load_lose_and_repeat_nothing(stack: Stack) -> None:
    bootstrap = stack.kafka_bootstrap or ""
    bus = KafkaBus(bootstrap, partitions=PARTITIONS)
    topics = consumer_topics()
    accounts_db = Database(stack.database_urls["accounts"])
    alive = processes_alive(stack.processes)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        group_of = await _settled_groups(bootstrap, bus, topics, alive)
        before = await _summary(client)
        load = Load(client, stack, await _learning_need(client))
        clients = [asyncio.create_task(load.run(n)) for n in range(CLIENTS)]
        try:
            await _steady(load, clients, seconds=6)
            moved_after = await _kill_and_watch(stack, client, accounts_db, bootstrap, group_of, topics, load)
            await _restart(stack, bootstrap, group_of, topics, load, clients)
            await _steady(load, clients, seconds=6)
        finally:
            load.stopping.set()
            await asyncio.gather(*clients, return_exceptions=True)
        await _settle(stack, bus, accounts_db, group_of, topics)
        actual = await _actual(client, load)
        await _check_topics(bus, load, actual)
        await _check_read_models(client, load, actual, before)
    await accounts_db.dispose()
    print(f"\nanswers {dict(sorted(load.ledger.answers.items()))}; relay lock moved after {moved_after:.2f} s")


async def _settled_groups(
    bootstrap: str, bus: KafkaBus, topics: dict[str, tuple[str, ...]], alive: Callable[[], None]
) -> dict[str, str]:
    """Every backend's group with both its workers' consumers holding its partitions, and caught up."""
    found: dict[str, str] = {}

    async def all_there() -> bool:
        found.update(await groups(bootstrap))
        return set(found) == set(BACKENDS)

    await until(all_there, timeout=90, healthy=alive, what="every backend's consumer group")
    for name, group in found.items():
        for topic in topics[name]:
            assert await partitions(bootstrap, topic) == set(range(PARTITIONS)), topic

        await held_by(bootstrap, group, topics[name], REPLICAS, timeout=90, healthy=alive)
        await caught_up(bus, group, topics[name], timeout=90, healthy=alive)
    return found


async def partitions(bootstrap: str, topic: str) -> set[int]:
    """The partitions the broker has of a topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return {partition["partition"] for partition in described["partitions"]}


async def _learning_need(client: httpx.AsyncClient) -> str | None:
    """IMK's first approved learning need, where accounts has learned any from calls' events on the session's
    broker (an application must then name one)."""
    needs = (await client.get("/api/accounts/funding-projects/IMK")).json().get("learning_needs") or []
    return str(needs[0]["code"]) if needs else None


async def _summary(client: httpx.AsyncClient) -> dict[str, int]:
    answer = await client.get("/api/statistics/summary")
    assert answer.status_code == 200, answer.text
    return {name: int(value) for name, value in answer.json()["figures"].items()}


async def _steady(load: Load, clients: list[asyncio.Task[None]], seconds: float) -> None:
    started = sum(load.ledger.answers.values())
    await asyncio.sleep(seconds)
    for task in clients:
        if task.done():
            task.result()  # a client that crashed: its exception
    assert sum(load.ledger.answers.values()) > started, "the load goes on"


async def _kill_and_watch(
    stack: Stack,
    client: httpx.AsyncClient,
    accounts_db: Database,
    bootstrap: str,
    group_of: dict[str, str],
    topics: dict[str, tuple[str, ...]],
    load: Load,
) -> float:
    """SIGKILL an api and a worker replica of every backend; then the relay lock and the groups move to the
    survivors. Returns how long the lock took to move."""
    survivor = stack.worker_url("accounts", 2)
    for name in BACKENDS:
        for process in killed(name):
            stack.stop_service(process, signal.SIGKILL)  # returns once the process is gone
    killed_at = time.monotonic()
    committed_by_then = await last_outbox_id(accounts_db)
    published_before = await published(client, survivor)

    async def lock_moved() -> bool:
        # Everything committed before the kill is published, and rows committed after it too, by the survivor (the
        # only relay left: its own count goes up).
        if await undispatched(accounts_db, up_to=committed_by_then) or not await published(client, survivor) > (
            published_before
        ):
            return False
        return await dispatched_after(accounts_db, committed_by_then) > 0

    await until(lock_moved, timeout=LOCK_MOVES_WITHIN, interval=0.1, what="the relay lock at the surviving worker")
    moved_after = time.monotonic() - killed_at
    alive = processes_alive(stack.processes)
    for name, group in group_of.items():
        # The broker drops a killed member after its session timeout (aiokafka's default: 10 s).
        await held_by(bootstrap, group, topics[name], 1, timeout=60, healthy=alive)
    assert sum(load.ledger.answers.values()) > 0
    return moved_after


async def _restart(
    stack: Stack,
    bootstrap: str,
    group_of: dict[str, str],
    topics: dict[str, tuple[str, ...]],
    load: Load,
    clients: list[asyncio.Task[None]],
) -> None:
    """The killed replicas start again and each group shares its partitions with the restarted member."""
    for name in BACKENDS:
        for process in killed(name):
            stack.start_service(process)
    for name in BACKENDS:
        for process in killed(name):
            await asyncio.to_thread(stack.wait_ready, process, 180)
    alive = processes_alive(stack.processes)
    for name, group in group_of.items():
        await held_by(bootstrap, group, topics[name], REPLICAS, timeout=90, healthy=alive)
    await _steady(load, clients, seconds=1)


async def _settle(
    stack: Stack,
    bus: KafkaBus,
    accounts_db: Database,
    group_of: dict[str, str],
    topics: dict[str, tuple[str, ...]],
) -> None:
    """The outbox published and every group caught up: the read models are final."""
    alive = processes_alive(stack.processes)

    async def drained() -> bool:
        return await undispatched(accounts_db) == 0

    await until(drained, timeout=60, healthy=alive, what="the accounts outbox published")
    for name, group in group_of.items():
        await caught_up(bus, group, topics[name], timeout=90, healthy=alive)


@dataclass(frozen=True)
class Actual:
    """What the API says exists, of this test's learners."""

    accounts: set[str]
    applications: dict[str, str]
    """Application id -> learner."""
    approved: set[str]


async def _actual(client: httpx.AsyncClient, load: Load) -> Actual:
    """Each learner's account and applications through the API; each exists at most once, and every 2xx's is there."""
    ledger = load.ledger
    limit = asyncio.Semaphore(8)
    accounts: set[str] = set()
    applications: dict[str, str] = {}
    approved: set[str] = set()

    async def read(learner: str) -> None:
        async with limit:
            me = await client.get("/api/accounts/accounts/me", headers=load.headers(learner))
            mine = await client.get("/api/accounts/applications", headers=load.headers(learner))
        assert me.status_code in (200, 404) and mine.status_code == 200, (me.text, mine.text)
        if me.status_code == 200:
            accounts.add(learner)
        assert len(mine.json()) <= 1, f"{learner} applied once, at most: {mine.json()}"
        for application in mine.json():
            applications[application["id"]] = learner
            if application["state"] == "approved":
                approved.add(application["id"])

    await asyncio.gather(*(read(learner) for learner in ledger.learners))
    assert ledger.accounts <= accounts, "every 201 account opening took effect"
    assert set(ledger.applications) <= set(applications), "every 201 application took effect"
    assert ledger.approvals <= approved, "every 200 approval took effect"
    assert set(applications.values()) <= accounts
    unexpected = {answer: n for answer, n in ledger.answers.items() if not answer.endswith(("201", "200", "503"))}
    assert not unexpected, f"only a replica's death fails a request (503), nothing else: {unexpected}"
    assert len(accounts) >= 30 and len(approved) >= 20, f"a load worth the name: {len(accounts)}, {len(approved)}"
    return Actual(accounts, applications, approved)


async def _check_topics(bus: KafkaBus, load: Load, actual: Actual) -> None:
    """One event id per change (and none for a change that did not happen), however many copies of it."""
    expected: list[tuple[str, type[Event], str, set[str]]] = [
        ("accounts.accounts", AccountOpened, "learner_id", actual.accounts),
        ("accounts.applications", ApplicationSubmittedV2, "application_id", set(actual.applications)),
        ("accounts.applications", ApplicationApproved, "application_id", actual.approved),
        ("accounts.grants", GrantReserved, "application_id", actual.approved),
    ]
    learners = set(load.ledger.learners)
    for topic, event_type, key, changes in expected:
        events = [e for e in await events_on(bus, topic, event_type) if e.data.get("learner_id") in learners]
        ids = ids_by(events, key)
        assert set(ids) == changes, f"{event_type.__name__}: an event for each change and for nothing else"
        doubled = {aggregate: found for aggregate, found in ids.items() if len(found) != 1}
        assert not doubled, f"{event_type.__name__}: one event per change, not {doubled}"


async def _check_read_models(client: httpx.AsyncClient, load: Load, actual: Actual, before: dict[str, int]) -> None:
    """Notifications: one notice of each change per learner; statistics: the counts grew by the changes."""
    limit = asyncio.Semaphore(8)

    async def notices(learner: str) -> None:
        async with limit:
            answer = await client.get("/api/notifications/notifications?limit=100", headers=load.headers(learner))
        assert answer.status_code == 200, answer.text
        kinds = Counter(item["kind"] for item in answer.json()["items"])
        applied = learner in actual.applications.values()
        granted = any(actual.applications[a] == learner for a in actual.approved)
        expected = Counter({"welcome": 1, "application_submitted": int(applied), "application_approved": int(granted)})
        assert +kinds == +expected, f"{learner}: each change one notice: {dict(kinds)}"

    await asyncio.gather(*(notices(learner) for learner in actual.accounts))
    after = await _summary(client)
    grown = {name: after[name] - before.get(name, 0) for name in ("accounts_opened", "applications", "granted")}
    counted = {"accounts_opened": len(actual.accounts), "applications": len(actual.applications)}
    assert grown == {**counted, "granted": len(actual.approved)}, "statistics counted each change once"


async def test_topics_are_created_with_the_partitions_the_settings_name(kafka_bootstrap: str) -> None:
    """`Settings.kafka_partitions` reaches the topics a worker creates: as many members of a group as partitions."""
    bus = create_bus(Settings(bus="kafka", kafka_bootstrap_servers=kafka_bootstrap, kafka_partitions=5))
    topic = f"replicas.partitions.{uuid.uuid4().hex[:8]}"

    await bus.ensure_topics([topic])

    assert await partitions(kafka_bootstrap, topic) == set(range(5))
