"""Run the whole platform on one machine: the gateway and every service as separate processes.

    python -m prasmes_devtools.devstack            # embedded defaults: SQLite per service, embedded event log
    python -m prasmes_devtools.devstack --bus kafka # Kafka and PostgreSQL (started here unless the env names them)

Used by `make run`, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from prasmes_runtime import registry
from prasmes_runtime.auth import TokenIssuer, load_or_create_key

from prasmes_devtools.demo_catalog import seed_demo as seed_catalog

DEMO_PERSONAL_CODE = "161175-19997"
"""Anna's, the demo learner's: a synthetic code valid by the checksum rule, used by no one else here."""
SERVICES = registry.SERVICES
BACKENDS = registry.BACKENDS


@dataclass
class Stack:
    var_dir: Path
    base_port: int = 8000
    bus: str = "embedded"
    kafka_bootstrap: str | None = None
    database_urls: Mapping[str, str] = field(default_factory=dict)
    """Per service; services without one get their SQLite file in var_dir."""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.base_port + registry.entry(name).port_offset}"

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    @property
    def signing_key_path(self) -> Path:
        return self.var_dir / "identity" / "signing-key.pem"

    def token_issuer(self) -> TokenIssuer:
        """Tokens as the platform's identity provider signs them (tests and benchmarks)."""
        return TokenIssuer(load_or_create_key(self.signing_key_path), issuer="prasmes-identity", audience="prasmes")

    def env_for(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SERVICE_NAME")}
        env.update(
            SERVICE_NAME=name,
            VAR_DIR=str(self.var_dir),
            BUS=self.bus,
            JWKS_URL=f"{self.gateway_url}/.well-known/jwks.json",
            IDENTITY_URL=self.gateway_url,
            SERVICE_URLS=json.dumps(registry.default_urls(self.base_port)),
            SIGNING_KEY_PATH=str(self.signing_key_path),
            DEV_MODE=env.get("DEV_MODE", "true"),
        )
        if self.kafka_bootstrap:
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.kafka_bootstrap
        if name in self.database_urls:
            env["DATABASE_URL"] = self.database_urls[name]
        env.update(self.extra_env)
        return env

    def start(self, names: tuple[str, ...] | None = None, timeout: float = 60) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        load_or_create_key(self.signing_key_path)  # before any process, so all share one key
        try:
            for name in names or tuple(s.name for s in SERVICES):
                self.start_service(name)
            for name in names or tuple(s.name for s in SERVICES):
                self.wait_ready(name, timeout)
        except BaseException:
            self.stop()  # never leave half a stack running (its consumers would join the next one's groups)
            raise

    def start_service(self, name: str) -> None:
        spec = registry.entry(name)
        log_dir = self.log_dir or self.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        out = (log_dir / f"{name}.log").open("ab")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            spec.factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.base_port + spec.port_offset),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-keep-alive",
            "75",  # longer than the gateway's pooled connections live
            # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 and rewrite the peer before the app sees
            # it: one made-up header per request and the gateway's rate limit is gone. The gateway alone decides
            # whom to believe (its TRUSTED_PROXIES, none by default); no process here lets the server decide.
            "--no-proxy-headers",
        ]
        self.processes[name] = subprocess.Popen(command, env=self.env_for(name), stdout=out, stderr=out)

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {self.var_dir}/logs/{name}.log")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url(name)}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{name} was not ready within {timeout} s")

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        for name in list(self.processes)[::-1]:
            self.stop_service(name)


def free_base_port(start: int | None = None) -> int:
    """The first port of a free block, one port per service (for tests running their own stack).
    It starts at a random place, so that two runs on one machine rarely reach for the same block."""
    start = start if start is not None else random.randrange(20000, 50000)
    step = len(SERVICES)
    candidates: list[int] = [*range(start, 60000, step), *range(20000, start, step)]
    for base in candidates:
        if _block_is_free(base):
            return base
    raise RuntimeError("no free block of ports")


def _block_is_free(base: int) -> bool:
    with contextlib.ExitStack() as sockets:
        try:
            for offset in range(len(SERVICES)):
                sockets.enter_context(socket.socket()).bind(("127.0.0.1", base + offset))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def kafka_backends() -> Iterator[tuple[str, dict[str, str]]]:
    """Kafka and one PostgreSQL database per service: from the environment, or started here."""
    from prasmes_testing.servers import create_database, kafka_server, postgres_server

    with kafka_server() as bootstrap, postgres_server() as server_url:
        yield bootstrap, {name: create_database(server_url, f"prasmes_{name}") for name in BACKENDS}


def seed_demo(stack: Stack) -> None:
    """Demo data through the API, as clients would, and idempotent: a second start finds it and adds nothing.
    Anna opens her account and applies to IMK, and Ilze approves that application; the catalog adds its own
    demo. Jānis is left without an account, for the README's "Try it"."""
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        anna, ilze = _dev_login(client, "anna"), _dev_login(client, "ilze")
        if client.get("/api/accounts/accounts/me", headers=anna).status_code == 404:
            client.post("/api/accounts/accounts", json={"personal_code": DEMO_PERSONAL_CODE}, headers=anna)
        imk = [a for a in client.get("/api/accounts/applications", headers=anna).json() if a["project_code"] == "IMK"]
        if not imk:
            applied = client.post(
                "/api/accounts/applications",
                json={"project_code": "IMK", "learning_need": "datu analīze"},
                headers=anna,
            )
            imk = [applied.json()] if applied.status_code == 201 else []
        for application in imk:
            if application["state"] == "submitted":
                client.post(f"/api/accounts/agency/applications/{application['id']}/approval", headers=ilze)
        _seed_catalog(stack, client)


def _dev_login(client: httpx.Client, username: str) -> dict[str, str]:
    token = client.post("/auth/dev-login", json={"username": username}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _seed_catalog(stack: Stack, client: httpx.Client) -> None:
    try:
        ids = seed_catalog(client)
        _publish_demo_programme(stack, client, ids["institution_id"], ids["programme_id"])
    except Exception as exc:  # demo data is a convenience: the platform runs without it
        print(f"warning: the catalog's demo data was not seeded: {exc!r}", flush=True)


def _publish_demo_programme(stack: Stack, client: httpx.Client, institution_id: str, programme_id: str) -> None:
    """The calls service is not built yet: sign the demo offer's agreement on the bus as it will, then
    schedule a group, so that the public catalogue has a programme with free places."""
    from prasmes_contracts.calls import CooperationAgreementSigned
    from prasmes_runtime.bus.embedded import EmbeddedBus
    from prasmes_runtime.bus.kafka import KafkaBus
    from prasmes_testing.events import publish

    bus = KafkaBus(stack.kafka_bootstrap) if stack.kafka_bootstrap else EmbeddedBus(stack.var_dir / "events.db")
    offer = uuid.uuid5(uuid.NAMESPACE_URL, f"prasmes-demo-offer:{programme_id}")
    signed = CooperationAgreementSigned(
        offer_id=offer,
        call_id=uuid.uuid5(uuid.NAMESPACE_URL, "prasmes-demo-call-4"),
        institution_id=uuid.UUID(institution_id),
        programme_ids=[uuid.UUID(programme_id)],
        at=datetime.now(UTC),
        valid_until=date(2027, 4, 30),
    )
    asyncio.run(publish(bus, signed, source="/prasmes/calls"))
    public = f"/api/catalog/public/programmes/{programme_id}"
    deadline = time.monotonic() + 20
    while client.get(public).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.3)
    liga = _dev_login(client, "liga")
    base = f"/api/catalog/providers/{institution_id}"
    if client.get(public).json().get("groups"):
        return
    location = client.get(f"{base}/locations", headers=liga).json()[0]["id"]
    client.post(
        f"{base}/programmes/{programme_id}/groups",
        headers=liga,
        json={
            "location_id": location,
            "start_date": "2027-01-11",
            "end_date": "2027-03-26",
            "schedule": "Pirmdienās un trešdienās 18:00–21:00",
            "capacity": 16,
            "language": "lv",
            "entry_level": 3,
        },
    )


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bus", choices=["embedded", "kafka"], default="embedded")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--var-dir", type=Path, default=Path("var"))
    args = parser.parse_args()
    with contextlib.ExitStack() as exit_stack:
        stack = Stack(var_dir=args.var_dir.resolve(), base_port=args.port, bus=args.bus)
        if args.bus == "kafka":
            stack.kafka_bootstrap, stack.database_urls = exit_stack.enter_context(kafka_backends())
        exit_stack.callback(stack.stop)
        stack.start()
        seed_demo(stack)
        print(
            f"\nPrasmes is running ({args.bus} bus).\n"
            f"  gateway:   {stack.gateway_url}\n  API docs:  {stack.gateway_url}/docs\n"
            f'  dev login: POST {stack.gateway_url}/auth/dev-login {{"username": "anna"}}\n'
            f"  logs:      {stack.var_dir}/logs/\nPress Ctrl-C to stop.",
            flush=True,
        )
        signal.signal(signal.SIGTERM, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            while all(p.poll() is None for p in stack.processes.values()):
                time.sleep(0.5)
        print("Stopping...", flush=True)


if __name__ == "__main__":
    main()
