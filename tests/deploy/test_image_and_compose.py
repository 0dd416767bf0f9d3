"""The Dockerfile and deploy/compose.yaml, checked without a Docker engine (there is none here): the image's stages,
its user and what its final stage holds; its entry point starting a service; the compose file's services, roles,
healthchecks and settings; `docker compose config` where the client has the compose plugin."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prasmes_runtime import registry

from tests.deploy.support import ROOT, setting_names

BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "pip install", "uv ", "npm", "apt-get install", "cc ")


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for k, argument in self.instructions if k == keyword]


def dockerfile_stages(text: str) -> list[Stage]:
    """The Dockerfile's stages, each with its instructions (keyword upper-case, continuation lines joined)."""
    stages: list[Stage] = []
    logical = text.replace("\\\n", " ")
    for line in (raw.strip() for raw in logical.splitlines()):
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        if keyword.upper() == "FROM":
            words = argument.split()
            stages.append(Stage(words[0], words[2] if len(words) > 2 and words[1].upper() == "AS" else ""))
        elif stages:
            stages[-1].instructions.append((keyword.upper(), argument.strip()))
    return stages


STAGES = dockerfile_stages((ROOT / "Dockerfile").read_text())


def test_the_image_is_built_in_stages_from_the_lock():
    assert [s.name for s in STAGES] == ["assets", "build", "runtime"]
    build = next(s for s in STAGES if s.name == "build")
    assert any("requirements.lock" in copy for copy in build.all("COPY"))
    assert any("-c /tmp/constraints.txt" in run for run in build.all("RUN"))
    assets = next(s for s in STAGES if s.name == "assets")
    assert any("npm ci" in run for run in assets.all("RUN")) and any("npm run" in run for run in assets.all("RUN"))


def test_the_final_stage_runs_as_a_numeric_non_root_user_and_holds_no_build_tool():
    final = STAGES[-1]
    (user,) = final.all("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000
    runs = " ".join(final.all("RUN"))
    assert "pip uninstall" in runs and [t for t in BUILD_TOOLS if t in runs.replace("pip uninstall", "")] == []
    copied = [c for c in final.all("COPY") if c.startswith("--from=")]
    assert {c.split()[0] for c in copied} == {"--from=build"}  # the venv and the sources, not the node stage
    (entrypoint,) = final.all("ENTRYPOINT")
    assert json.loads(entrypoint) == ["/app/.venv/bin/python", "/app/serve.py"]


def test_the_build_context_leaves_out_what_is_local():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored, "everything is left out but what is named"
    assert "**/node_modules/" in ignored and "services/web/src/web/static/build/" in ignored
    named = [line[1:] for line in ignored if line.startswith("!")]
    for copy in (c for stage in STAGES for c in stage.all("COPY") if not c.startswith("--from=")):
        for source in shlex.split(copy)[:-1]:
            assert any(source.startswith(n.rstrip("/")) for n in named), f"{source} is not in the build context"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_entry_point_starts_the_service_that_service_name_names(tmp_path):
    port = _free_port()
    env = os.environ | {"SERVICE_NAME": "gateway", "VAR_DIR": str(tmp_path), "DEV_MODE": "true"}
    command = [sys.executable, str(ROOT / "deploy/image/serve.py"), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                process.terminate()
                pytest.fail(f"the gateway did not answer within 30 s: {process.communicate()[1]}")
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/.well-known/jwks.json").json()["keys"]
    finally:
        process.terminate()
        process.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_entry_point_refuses_a_service_the_registry_does_not_know():
    env = os.environ | {"SERVICE_NAME": "billing"}
    run = subprocess.run([sys.executable, str(ROOT / "deploy/image/serve.py")], env=env, capture_output=True, text=True)
    assert run.returncode == 1 and "billing" in run.stderr and "gateway" in run.stderr


# --- compose


COMPOSE = ROOT / "deploy/compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as the client reads it: `docker compose config` where it can, or the YAML (its anchors and
    merge keys resolved by the YAML loader as compose resolves them)."""
    version = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
    if version.returncode == 0:
        config = ["docker", "compose", "-f", str(COMPOSE), "config", "--format", "json"]
        return dict(json.loads(subprocess.run(config, capture_output=True, text=True, check=True).stdout))
    return dict(yaml.safe_load(COMPOSE.read_text()))


def test_compose_runs_every_service_in_every_role_with_kafka_and_postgres(compose):
    services = compose["services"]
    expected = {"kafka", "postgres", *(s.name for s in registry.SERVICES)}
    expected |= {f"{name}-worker" for name in registry.BACKENDS}
    assert set(services) == expected
    for name in registry.BACKENDS:
        assert services[name]["environment"]["ROLE"] == "api"
        assert services[f"{name}-worker"]["environment"]["ROLE"] == "worker"
        for role in (name, f"{name}-worker"):
            assert services[role]["environment"]["SERVICE_NAME"] == name
            assert services[role]["environment"]["DATABASE_URL"].endswith(f"/prasmes_{name}")
            assert set(services[role]["depends_on"]) == {"kafka", "postgres"}
    assert set(services["postgres"]["environment"]["PRASMES_DATABASES"].split()) == set(registry.BACKENDS)
    assert all("healthcheck" in service for service in services.values())


def test_compose_runs_the_image_read_only_and_sets_only_settings(compose):
    known = setting_names()
    for name in (s.name for s in registry.SERVICES):
        for role in (name, f"{name}-worker"):
            if role in compose["services"]:
                service = compose["services"][role]
                assert service["image"] == "prasmes:dev" and service["read_only"] is True
                assert set(service["environment"]) - known == set(), role


def test_compose_gives_the_gateway_the_digest_of_every_service_secret(compose):
    services = compose["services"]
    clients = json.loads(services["gateway"]["environment"]["SERVICE_CLIENTS"])
    assert set(clients) == set(registry.BACKENDS)
    for name, digest in clients.items():
        assert hashlib.sha256(services[name]["environment"]["SERVICE_CLIENT_SECRET"].encode()).hexdigest() == digest
    web = json.loads(services["gateway"]["environment"]["OIDC_CLIENTS"])["web"]
    secret = services["web"]["environment"]["OIDC_CLIENT_SECRET"]
    assert hashlib.sha256(secret.encode()).hexdigest() == web["secret_sha256"]


def test_compose_file_names_each_backend_at_its_service(compose):
    for service in compose["services"].values():
        urls = service.get("environment", {}).get("SERVICE_URLS")
        if urls:
            assert json.loads(urls) == {name: f"http://{name}:8000" for name in registry.BACKENDS}


def test_postgres_init_script_is_executable():
    assert Path(ROOT / "deploy/compose/postgres-init.sh").stat().st_mode & 0o111
