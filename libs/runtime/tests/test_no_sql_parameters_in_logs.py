"""No SQL parameter reaches a log: a database error inside a request, in a real service process (uvicorn, as the
launcher starts it), logs neither the names, e-mail nor phone it was writing, and the caller gets a plain 500."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prasmes_testing.servers import free_port

PERSONAL = {
    "first_name": "Zīlīte-Q7",
    "last_name": "Marķierīte",
    "email": "zilite.q7@example.lv",
    "phone": "+37129990731",
}

SERVICE_MODULE = textwrap.dedent(
    '''
    """A service whose profile update fails in the database (its table does not exist)."""
    import sqlalchemy as sa
    from fastapi import APIRouter
    from prasmes_runtime.dependencies import DatabaseDep
    from prasmes_runtime.service import ServiceDefinition

    router = APIRouter()


    @router.patch("/profile")
    async def change_profile(body: dict[str, str], database: DatabaseDep) -> dict[str, str]:
        async with database.transaction() as session:
            await session.execute(
                sa.text(
                    "UPDATE no_such_profiles SET first_name = :first_name, last_name = :last_name, "
                    "email = :email, phone = :phone"
                ),
                body,
            )
        return body


    DEFINITION = ServiceDefinition(name="probe", title="Probe", routers=[router])
    app_factory = DEFINITION.app_factory
    '''
)


@pytest.fixture(params=["json", "console"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    (tmp_path / "probe_service.py").write_text(SERVICE_MODULE)
    port = free_port()
    log = tmp_path / "probe.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "SERVICE_NAME": "probe",
        "VAR_DIR": str(tmp_path / "var"),
        "BUS": "embedded",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": request.param,
        "DEV_MODE": "false",
    }
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", "probe_service:app_factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the probe service did not start"
            time.sleep(0.1)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_database_error_logs_no_parameter_and_answers_a_plain_500(service: tuple[str, Path]) -> None:
    url, log = service

    response = httpx.patch(f"{url}/profile", json=PERSONAL, timeout=10)
    time.sleep(0.3)  # let the process flush its log lines

    text = log.read_text(errors="replace")
    assert "no_such_profiles" in text, f"the error was not logged at all:\n{text}"
    for value in PERSONAL.values():
        assert value not in text, f"{value!r} is in the log:\n{text}"
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    for internal in ("no_such_profiles", "UPDATE", "sqlite", "Traceback", *PERSONAL.values()):
        assert internal not in response.text
