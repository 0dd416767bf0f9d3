"""A service as separate api and worker processes, as the launcher runs it (on SQLite with the embedded log, and on
PostgreSQL with Kafka): an account opened through the gateway and the accounts api process reaches the notifications
consumer, run by the notifications worker; the worker processes alone run the relays and the consumers.

The relays' poll interval is a minute: an api process's commit can only reach its worker's relay in time through the
cross-process wake-up (PostgreSQL's NOTIFY, or the worker's probe of the table on SQLite)."""

import time
from collections.abc import Iterator

import httpx
import pytest
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_testing.servers import create_database
from prasmes_testing.support import eventually, personal_code
from prasmes_testing.waiting import processes_alive

pytestmark = pytest.mark.e2e
SERVICES = ("gateway", "accounts", "notifications")
RELAY_TASK = 'task="outbox-relay"'


@pytest.fixture(scope="module", params=["embedded", "kafka"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        var_dir=tmp_path_factory.mktemp(f"roles-{request.param}"),
        base_port=free_base_port(),
        bus=request.param,
        api_workers=2,
        extra_env={"RELAY_POLL_INTERVAL": "60", "RATE_LIMIT_PER_MINUTE": "100000", "RATE_LIMIT_BURST": "10000"},
    )
    if request.param == "kafka":
        stack.kafka_bootstrap = request.getfixturevalue("kafka_bootstrap")
        server = request.getfixturevalue("postgres_server_url")
        suffix = time.monotonic_ns()
        stack.database_urls = {name: create_database(server, f"roles_{name}_{suffix}") for name in SERVICES[1:]}
    try:
        stack.start(SERVICES, timeout=120)
        yield stack
    finally:
        stack.stop()


def test_each_service_runs_as_an_api_and_a_worker_process(stack: Stack) -> None:
    assert set(stack.processes) == {
        "gateway",
        "accounts",
        "accounts-worker",
        "notifications",
        "notifications-worker",
    }
    assert len({process.pid for process in stack.processes.values()}) == 5


async def test_an_account_opened_through_the_api_process_reaches_the_notifications_consumer(stack: Stack) -> None:
    alive = processes_alive(stack.processes)
    headers = {"Authorization": f"Bearer {stack.token_issuer().issue('roles-learner', ['learner'])}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        opened = await client.post(
            "/api/accounts/accounts", json={"personal_code": personal_code(88_001)}, headers=headers
        )
        assert opened.status_code == 201, opened.text

        async def welcomed() -> bool:
            alive()
            notices = await client.get("/api/notifications/notifications", headers=headers)
            assert notices.status_code == 200, notices.text
            return [notice["kind"] for notice in notices.json()["items"]] == ["welcome"]

        # Far less than the relays' poll interval (60 s): the worker was woken by the api process's commit.
        await eventually(welcomed, timeout=30, interval=0.1)


def test_only_the_workers_run_the_relay_and_the_consumers(stack: Stack) -> None:
    for name in SERVICES[1:]:
        api_ready = httpx.get(f"{stack.url(name)}/readyz", timeout=10).json()
        assert api_ready == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}, name  # no background
        worker_ready = httpx.get(f"{stack.worker_url(name)}/readyz", timeout=10).json()
        assert worker_ready["status"] == "ready" and worker_ready["checks"]["background"] == "ok", (name, worker_ready)

        # The api process has two uvicorn workers: each scrape reaches one of them; none runs a background task.
        for _ in range(6):
            api_metrics = httpx.get(f"{stack.url(name)}/metrics", timeout=10).text
            assert "prasmes_background_task_running{" not in api_metrics, name
        worker_metrics = httpx.get(f"{stack.worker_url(name)}/metrics", timeout=10).text
        running = [line for line in worker_metrics.splitlines() if line.startswith("prasmes_background_task_running{")]
        assert f'prasmes_background_task_running{{service="{name}",{RELAY_TASK}}} 1.0' in running, running
        assert f'prasmes_background_task_running{{service="{name}",task="consumer-{name}"}} 1.0' in running, running
        assert all(line.endswith(" 1.0") for line in running), running

        # The worker serves the probes and the scrape, nothing of the API.
        assert httpx.get(f"{stack.worker_url(name)}/openapi.json", timeout=10).status_code == 404
        assert httpx.get(f"{stack.url(name)}/openapi.json", timeout=10).status_code == 200


def test_stopping_a_service_by_name_stops_both_of_its_processes(stack: Stack) -> None:
    worker, api = stack.processes["notifications-worker"], stack.processes["notifications"]
    stack.stop_service("notifications")
    assert worker.poll() is not None and api.poll() is not None
    assert "notifications" not in stack.processes and "notifications-worker" not in stack.processes
    stack.start(("notifications",), timeout=120)
    assert httpx.get(f"{stack.worker_url('notifications')}/healthz", timeout=10).status_code == 200
