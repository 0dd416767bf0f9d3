"""A service whose relay, consumer or job has died is not ready: its events no longer flow."""

from pathlib import Path

import httpx
from prasmes_runtime.service import PeriodicJob, ServiceDefinition
from prasmes_runtime.settings import Settings
from prasmes_testing.harness import running
from prasmes_testing.support import eventually


class Crash(BaseException):
    """Escapes the job loop's `except Exception`, as a bug in the loop itself would."""


async def _crash(_: object) -> None:
    raise Crash("the job loop died")


def _settings(tmp_path: Path) -> Settings:
    return Settings(service_name="fragile", database_url=f"sqlite+aiosqlite:///{tmp_path / 'f.db'}", var_dir=tmp_path)


async def test_a_dead_background_task_makes_the_service_not_ready(tmp_path: Path) -> None:
    definition = ServiceDefinition(
        name="fragile", title="A service with a job that dies", jobs=[PeriodicJob("crash", 0.05, _crash)]
    )
    async with running(definition.create_app(_settings(tmp_path))) as client:
        answers: list[httpx.Response] = []

        async def not_ready() -> bool:
            answers.append(await client.get("/readyz"))
            return answers[-1].status_code == 503

        await eventually(not_ready, timeout=10, interval=0.05)
        assert answers[-1].json()["checks"]["background"] == "failed: job-crash"
        assert answers[-1].json()["checks"]["database"] == "ok"


async def test_a_healthy_service_reports_its_background_tasks_ok(tmp_path: Path) -> None:
    async with running(ServiceDefinition(name="fine", title="A service").create_app(_settings(tmp_path))) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["background"] == "ok"
