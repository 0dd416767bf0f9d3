"""A service's roles in one process each: `worker` runs the relay, the consumers and the jobs and serves only the
common endpoints; `api` serves HTTP only, never migrates, and waits for the schema the worker migrates."""

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from accounts.app import DEFINITION as ACCOUNTS
from prasmes_contracts import from_kafka
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.service import ServiceRuntime
from prasmes_testing.harness import harness, local_settings, running
from prasmes_testing.support import eventually, personal_code


def _settings(url: str, tmp_path: Path, role: str, **overrides: Any) -> Any:
    return local_settings(ACCOUNTS, url, tmp_path, role=role, dev_mode=True, **overrides)


def _runtime(app: Any) -> ServiceRuntime:
    runtime: ServiceRuntime = app.state.runtime
    return runtime


async def test_the_worker_serves_only_the_common_endpoints_and_runs_the_background(
    sqlite_url: str, tmp_path: Path
) -> None:
    app = ACCOUNTS.create_app(_settings(sqlite_url, tmp_path, "worker"))
    paths = {getattr(route, "path", None) for route in app.routes}
    assert paths == {"/healthz", "/readyz", "/metrics"}
    async with running(app) as client:
        tasks = {task.get_name() for task in _runtime(app).tasks}
        assert {"outbox-relay", "consumer-accounts", "job-prune-outbox"} <= tasks
        ready = await client.get("/readyz")
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok", "background": "ok"}}
        metrics = (await client.get("/metrics")).text
        assert 'prasmes_background_task_running{service="accounts",task="outbox-relay"} 1.0' in metrics
        assert (await client.get("/accounts/me")).status_code == 404


async def test_an_api_process_does_not_serve_an_unmigrated_database(sqlite_url: str, tmp_path: Path) -> None:
    app = ACCOUNTS.create_app(_settings(sqlite_url, tmp_path, "api", schema_wait_seconds=0.5))
    with pytest.raises(RuntimeError, match="worker migrates it"):
        async with running(app):
            pass
    await _runtime(app).database.dispose()


@pytest.mark.postgres
async def test_an_account_opened_through_the_api_process_is_published_by_the_worker(
    database_url: str, tmp_path: Path, token_issuer: TokenIssuer
) -> None:
    """The api starts first and waits; the worker migrates; the api then serves. Its commits reach the worker's
    relay although they cannot set its in-process signal (another engine), within far less than its poll interval."""
    api_settings = _settings(database_url, tmp_path, "api", relay_poll_interval=60)
    worker_app = ACCOUNTS.create_app(_settings(database_url, tmp_path, "worker", relay_poll_interval=60))
    async with contextlib.AsyncExitStack() as stack:
        api = asyncio.ensure_future(stack.enter_async_context(harness(ACCOUNTS, api_settings, token_issuer)))
        await asyncio.sleep(0.5)
        assert not api.done(), "the api must wait for the schema"
        await stack.enter_async_context(running(worker_app))
        svc = await asyncio.wait_for(api, 60)
        assert _runtime(svc.app).tasks == [], "an api process runs no relay, consumer or job"
        ready = await svc.client.get("/readyz")
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}

        opened = await svc.client.post(
            "/accounts", json={"personal_code": personal_code(77_001)}, headers=svc.as_("roles-1")
        )
        assert opened.status_code == 201, opened.text
        log = EmbeddedBus(tmp_path / "events.db")

        async def published() -> bool:
            assert all(not task.done() for task in _runtime(worker_app).tasks)
            return [from_kafka(d.record).type for d in await log.read_all("accounts.accounts")] == [
                "lv.prasmes.accounts.AccountOpened.v1"
            ]

        await eventually(published, timeout=20, interval=0.05)
