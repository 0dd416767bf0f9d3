"""Run the whole platform on one machine: the gateway and every service as separate processes.

    python -m prasmes_devtools.devstack            # embedded defaults: SQLite per service, embedded event log
    python -m prasmes_devtools.devstack --bus kafka # Kafka and PostgreSQL (started here unless the env names them)
    API_WORKERS=2 python -m prasmes_devtools.devstack   # two uvicorn workers per api process and for the gateway

Each service runs as two processes of its code: `<name>` (role `api`: HTTP only, `--workers API_WORKERS`, on the
service's port) and `<name>-worker` (role `worker`: migrations, the outbox relay, the consumers and the jobs, serving
/healthz, /readyz and /metrics on the service's port + the number of services). The gateway is one process
(`--workers API_WORKERS`). Used by `make run`, the end-to-end tests and the benchmarks.

`Stack(replicas=2)` (or `{"accounts": 2}`) runs that many api and worker processes of a backend, `<name>#2` and
`<name>-worker#2` on the ports of the next block (+ `PORTS_PER_STACK`), and lists every api replica in the
gateway's SERVICE_URLS; on Kafka only (the embedded log allows one worker per consumer group).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prasmes_runtime import registry
from prasmes_runtime.auth import TokenIssuer, load_or_create_key

from prasmes_devtools.demo_catalog import seed_demo as seed_catalog

DEMO_PERSONAL_CODE = "161175-19997"
"""Anna's, the demo learner's: a synthetic code valid by the checksum rule, used by no one else here."""
SERVICES = registry.SERVICES
BACKENDS = registry.BACKENDS
PORTS_PER_STACK = 2 * len(SERVICES)
"""A service's api (and the gateway) at base port + its place in the registry; its worker that + len(SERVICES).
Replica k of a backend (`Stack.replicas`) the same in block k: + (k - 1) * PORTS_PER_STACK."""
WORKER_SUFFIX = "-worker"


def _api_workers_from_env() -> int:
    return max(1, int(os.environ.get("API_WORKERS", "1")))


@dataclass
class Stack:
    var_dir: Path
    base_port: int = 8000
    bus: str = "embedded"
    kafka_bootstrap: str | None = None
    database_urls: Mapping[str, str] = field(default_factory=dict)
    """Per service; services without one get their SQLite file in var_dir."""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """One service's own environment, by service name, over `extra_env` (all of its processes): e.g. a test restarts
    `calls` alone with another `CLOCK_START` (`stop_service`, change it here, `start_service`, `wait_ready`)."""
    log_dir: Path | None = None
    api_workers: int = field(default_factory=_api_workers_from_env)
    """uvicorn `--workers` of every api process and of the gateway (env API_WORKERS, default 1)."""
    split_roles: bool = True
    """Each service as a `worker` process and an `api` process; False: one process of role `all` per service."""
    replicas: int | Mapping[str, int] = 1
    """How many api and how many worker processes each backend runs: one number for all, or by service name (the
    others 1). Replica 1 is `<name>` and `<name>-worker`; replica k > 1 `<name>#k` and `<name>-worker#k` (the
    process names `stop_service`, `start_service` and `wait_ready` take). More than one needs bus="kafka"."""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    """By process name: `gateway`, `<service>` (its api process, or its only one) and `<service>-worker`, and
    `<service>#k`, `<service>-worker#k` for replica k > 1."""

    def url(self, name: str, replica: int = 1) -> str:
        """Where a service's HTTP API (its api process; of `replica`) or the gateway listens."""
        return f"http://127.0.0.1:{self.port(name, 'api', replica)}"

    def worker_url(self, name: str, replica: int = 1) -> str:
        """Where a service's worker process (of `replica`) serves /healthz, /readyz and /metrics."""
        return f"http://127.0.0.1:{self.port(name, 'worker', replica)}"

    def replica_count(self, name: str) -> int:
        """How many replicas of each of its processes a service runs (the gateway and the web pages: one)."""
        if not registry.entry(name).backend:
            return 1
        count = self.replicas if isinstance(self.replicas, int) else self.replicas.get(name, 1)
        if count < 1:
            raise ValueError(f"replicas of {name}: {count} (at least 1)")
        return count

    def api_urls(self, name: str) -> list[str]:
        """Where each api replica of a service listens (the gateway's SERVICE_URLS entry)."""
        return [self.url(name, replica) for replica in range(1, self.replica_count(name) + 1)]

    def roles(self, name: str) -> tuple[str, ...]:
        """A service's processes by role, in start order: the worker (it migrates), then the api; the gateway's one."""
        if not registry.entry(name).backend:
            return ("edge",)  # the gateway, a web front end: one process (its uvicorn workers), no worker
        return ("worker", "api") if self.split_roles else ("all",)

    @staticmethod
    def process_name(name: str, role: str, replica: int = 1) -> str:
        process = f"{name}{WORKER_SUFFIX}" if role == "worker" else name
        return process if replica == 1 else f"{process}#{replica}"

    def process_names(self, name: str) -> list[str]:
        """A service's processes in start order: its workers (they migrate), then the rest."""
        replicas = range(1, self.replica_count(name) + 1)
        names = [self.process_name(name, role, k) for role in self.roles(name) for k in replicas]
        return sorted(names, key=lambda process: WORKER_SUFFIX not in process)  # stable: replicas stay in order

    def process_of(self, process: str) -> tuple[str, str, int]:
        """(service, role, replica) of a process name: `accounts`, `accounts#2`, `accounts-worker#2` (`#1` names
        replica 1 too)."""
        base, _, number = process.partition("#")
        replica = int(number) if number.isdigit() else 1
        if base.endswith(WORKER_SUFFIX) and base.removesuffix(WORKER_SUFFIX) in BACKENDS:
            return base.removesuffix(WORKER_SUFFIX), "worker", replica
        registry.entry(base)  # KeyError for no such service
        return base, self.roles(base)[-1], replica

    def port(self, name: str, role: str, replica: int = 1) -> int:
        block = (replica - 1) * PORTS_PER_STACK
        return self.base_port + block + registry.entry(name).port_offset + (len(SERVICES) if role == "worker" else 0)

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    @property
    def web_url(self) -> str:
        """Where the web pages are (the registry's front end): the address to open."""
        (front,) = [s.name for s in SERVICES if s.front]
        return self.url(front)

    def oidc_clients(self) -> dict[str, dict[str, object]]:
        """The gateway's OIDC_CLIENTS: each web front end, with its redirect URIs and the SHA-256 of its secret."""
        return {
            s.name: {
                "secret_sha256": hashlib.sha256(self.service_secret(s.name).encode()).hexdigest(),
                "redirect_uris": [f"{self.url(s.name)}/signin/callback"],
                "post_logout_redirect_uris": [f"{self.url(s.name)}/signed-out"],
            }
            for s in SERVICES
            if s.front
        }

    @property
    def signing_key_path(self) -> Path:
        return self.var_dir / "identity" / "signing-key.pem"

    def token_issuer(self) -> TokenIssuer:
        """Tokens as the platform's identity provider signs them (tests and benchmarks)."""
        return TokenIssuer(load_or_create_key(self.signing_key_path), issuer="prasmes-identity", audience="prasmes")

    def service_secret(self, name: str) -> str:
        """A service's client secret at the identity provider: made once, kept in var_dir/secrets/<name>.secret (0600);
        the service gets it as SERVICE_CLIENT_SECRET, the gateway only its SHA-256 (SERVICE_CLIENTS)."""
        path = self.var_dir / "secrets" / f"{name}.secret"
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w") as file:
                    file.write(secrets.token_urlsafe(32) + "\n")
        return path.read_text().strip()

    def service_clients(self) -> dict[str, str]:
        """The gateway's SERVICE_CLIENTS: every service of the registry by the SHA-256 of its secret."""
        return {s.name: hashlib.sha256(self.service_secret(s.name).encode()).hexdigest() for s in SERVICES if s.backend}

    def env_for(self, name: str, role: str | None = None) -> dict[str, str]:
        inherited_not = (
            "DATABASE_URL",
            "SERVICE_NAME",
            "ROLE",
            "SERVICE_CLIENTS",
            "SERVICE_CLIENT_SECRET",
            "OIDC_CLIENTS",
            "OIDC_CLIENT_SECRET",
        )
        env = {k: v for k, v in os.environ.items() if k not in inherited_not}
        env.update(
            SERVICE_NAME=name,
            VAR_DIR=str(self.var_dir),
            BUS=self.bus,
            JWKS_URL=f"{self.gateway_url}/.well-known/jwks.json",
            IDENTITY_URL=self.gateway_url,
            PUBLIC_URL=self.gateway_url,
            SERVICE_URLS=json.dumps(self._service_urls(name)),
            SIGNING_KEY_PATH=str(self.signing_key_path),
            DEV_MODE=env.get("DEV_MODE", "true"),
        )
        entry = registry.entry(name)
        if entry.edge:
            env["SERVICE_CLIENTS"] = json.dumps(self.service_clients())
            env["OIDC_CLIENTS"] = json.dumps(self.oidc_clients())
        elif entry.front:
            env.update(
                GATEWAY_URL=self.gateway_url,
                WEB_URL=self.url(name),
                OIDC_CLIENT_ID=name,
                OIDC_CLIENT_SECRET=self.service_secret(name),
            )
        else:
            env["SERVICE_CLIENT_SECRET"] = self.service_secret(name)
        if self.kafka_bootstrap:
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.kafka_bootstrap
        if name in self.database_urls:
            env["DATABASE_URL"] = self.database_urls[name]
        env.update(self.extra_env)
        env.update(self.service_env.get(name, {}))
        if role in ("all", "api", "worker"):
            env["ROLE"] = role
        return env

    def _service_urls(self, name: str) -> Mapping[str, str | list[str]]:
        """SERVICE_URLS: for the gateway every api replica of each backend; for the others (whose settings take one
        URL per service) replica 1's."""
        if not registry.entry(name).edge:
            return registry.default_urls(self.base_port)
        return {backend: urls if len(urls := self.api_urls(backend)) > 1 else urls[0] for backend in BACKENDS}

    def _check_replicas(self, name: str) -> None:
        if self.replica_count(name) > 1 and self.bus != "kafka":
            raise ValueError(
                f"{self.replica_count(name)} replicas of {name} need bus='kafka', not {self.bus!r}: the embedded "
                "event log allows one worker per consumer group"
            )

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

    def start_service(self, name: str, role: str | None = None) -> None:
        """Start a service's processes (`process_names`: every replica), or those of the given role, or one process
        by its name (`accounts-worker#2`). An api process serves once the database is at its head revision, which
        the worker migrates to (they start together)."""
        if not _is_service(name):
            self._start_process(*self.process_of(name))
            return
        self._check_replicas(name)
        for process in self.process_names(name):
            service, each, replica = self.process_of(process)
            if role is None or each == role:
                self._start_process(service, each, replica)

    def _start_process(self, name: str, role: str, replica: int) -> None:
        spec = registry.entry(name)
        log_dir = self.log_dir or self.var_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        process_name = self.process_name(name, role, replica)
        out = (log_dir / f"{process_name}.log").open("ab")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            spec.factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port(name, role, replica)),
            # The compiled event loop and HTTP parser (uvicorn[standard]), named so that a missing one fails the start
            # instead of falling back in silence to asyncio's loop and h11 (twice the CPU per request on a bare echo).
            "--loop",
            "uvloop",
            "--http",
            "httptools",
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
        several = role != "worker" and self.api_workers > 1
        if several:
            command += ["--workers", str(self.api_workers)]
        self.processes[process_name] = subprocess.Popen(
            command,
            env=self.env_for(name, role),
            stdout=out,
            stderr=out,
            # uvicorn's workers are children of the process started here: a group of their own, so that a SIGKILL
            # (`stop_service(name, signal.SIGKILL)`) ends them too instead of leaving them serving the port.
            process_group=0 if several else None,
        )

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        """Until every process of the service (or the one process named) answers /healthz (an api process: once the
        schema is migrated)."""
        deadline = time.monotonic() + timeout
        for process_name in self.process_names(name) if _is_service(name) else [name]:
            service, role, replica = self.process_of(process_name)
            process_name = self.process_name(service, role, replica)
            url = f"http://127.0.0.1:{self.port(service, role, replica)}/healthz"
            while True:
                process = self.processes[process_name]
                if process.poll() is not None:
                    log = (self.log_dir or self.var_dir / "logs") / f"{process_name}.log"
                    raise RuntimeError(f"{process_name} exited with {process.returncode}; see {log}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"{process_name} was not ready within {timeout} s")
                time.sleep(0.1)

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop every process of a service (`accounts`: its api and its worker processes, every replica), or one
        process by its name (`accounts-worker`, `accounts#2`, `accounts#1` for replica 1's api)."""
        # A service's api processes first; a process name (`#1` included) as `processes` knows it.
        names = self.process_names(name)[::-1] if _is_service(name) else [self.process_name(*self.process_of(name))]
        self._stop([n for n in names if n in self.processes], sig)

    def stop(self) -> None:
        self._stop(list(self.processes)[::-1], signal.SIGTERM)

    def _stop(self, names: list[str], sig: int) -> None:
        """Signal them all, then wait for each (they shut down in parallel); what does not end in 20 s is killed."""
        processes = [self.processes.pop(name) for name in names]
        for process in processes:
            _signal(process, sig)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait()


def _is_service(name: str) -> bool:
    return any(service.name == name for service in SERVICES)


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    """A SIGKILL reaches a process's uvicorn workers too (its group, when it leads one); other signals go to the
    process alone (uvicorn's supervisor stops its workers itself)."""
    with contextlib.suppress(ProcessLookupError):
        if sig == signal.SIGKILL and os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)


def free_base_port(start: int | None = None, replicas: int = 1) -> int:
    """The first port of a free block, two ports per service (`PORTS_PER_STACK`, times `replicas` for a stack of
    that many; for tests running their own stack). It starts at a random place, so that two runs on one machine
    rarely reach for the same block. The block lies below the kernel's ephemeral range: a port free when checked
    could otherwise be taken, before the service binds it, as the source port of an outgoing connection (to
    PostgreSQL, to Kafka)."""
    size = PORTS_PER_STACK * replicas
    top = _first_ephemeral_port() - size
    start = start if start is not None else random.randrange(20000, top)
    candidates: list[int] = [*range(start, top, size), *range(20000, start, size)]
    for base in candidates:
        if _block_is_free(base, size):
            return base
    raise RuntimeError("no free block of ports")


def _first_ephemeral_port() -> int:
    """Where the kernel starts handing out source ports (Linux: /proc/sys/net/ipv4/ip_local_port_range; 32768,
    Linux's default, elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _block_is_free(base: int, size: int = PORTS_PER_STACK) -> bool:
    with contextlib.ExitStack() as sockets:
        try:
            for offset in range(size):
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
            applied = client.post("/api/accounts/applications", json=_demo_application(client), headers=anna)
            imk = [applied.json()] if applied.status_code == 201 else []
        for application in imk:
            if application["state"] == "submitted":
                client.post(f"/api/accounts/agency/applications/{application['id']}/approval", headers=ilze)
        _seed_catalog(stack, client)


def _demo_application(client: httpx.Client) -> dict[str, str]:
    """Anna's application to IMK, in her own words, and for one of IMK's approved learning needs once the calls
    service has approved any (the first listed); until then IMK has none and the application names none."""
    needs = client.get("/api/accounts/funding-projects/IMK").json().get("learning_needs") or []
    body = {"project_code": "IMK", "learning_need": "datu analīze"}
    return body | ({"learning_need_code": needs[0]["code"]} if needs else {})


def _dev_login(client: httpx.Client, username: str) -> dict[str, str]:
    token = client.post("/auth/dev-login", json={"username": username}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _seed_catalog(stack: Stack, client: httpx.Client) -> None:
    """Catalog's demo institution and programme; then calls replays its demonstration call, whose signed agreement
    publishes the programme; then a group with free places."""
    try:
        ids = seed_catalog(client)
        replay_demonstration(client, ids["programme_id"])
        _schedule_demo_group(client, ids["institution_id"], ids["programme_id"])
        _replay_surveys(client, ids["institution_id"], ids["programme_id"])
    except Exception as exc:  # demo data is a convenience: the platform runs without it
        print(f"warning: the catalog's demo data was not seeded: {exc!r}", flush=True)


DEMO_SURVEY_GROUP = uuid.UUID("7d0c7a3e-8a51-4c1b-b7e0-5e2d2c0a2025")
"""The past group the seed's survey answers are of (surveys does not need catalog to know it)."""


def _replay_surveys(client: httpx.Client, institution_id: str, programme_id: str) -> None:
    """The seed's survey answers for the demo programme (surveys' `POST /dev/demonstration`, idempotent): the
    agency's results, Līga's and the charts show the seed's figures, and the catalogue a public rating."""
    martins, _ = _dev_user(client, "martins")
    body = {"programme_id": programme_id, "institution_id": institution_id, "group_id": str(DEMO_SURVEY_GROUP)}
    replayed = client.post("/api/surveys/dev/demonstration", json=body, headers=martins, timeout=120)
    if replayed.status_code != 200:
        raise RuntimeError(f"surveys did not replay the seed's answers: {replayed.status_code} {replayed.text}")


DEMO_WAIT_SECONDS = 30.0
"""How long the demo waits for an event to reach the next service (calls' read model, the public catalogue)."""


def replay_demonstration(client: httpx.Client, programme_id: str) -> None:
    """Once calls has learned the institution, Līga and the programme from catalog's events, Mārtiņš has calls
    replay its demonstration call (`POST /api/calls/dev/demonstration`) with Ilze evaluating: the signature's
    CooperationAgreementSigned goes through calls' outbox to catalog, which publishes the programme."""
    liga, liga_id = _dev_user(client, "liga")
    _, ilze_id = _dev_user(client, "ilze")
    martins, _ = _dev_user(client, "martins")

    def learned() -> bool:
        mine = client.get("/api/calls/institutions/me/programmes", headers=liga)
        return mine.status_code == 200 and programme_id in {p["programme_id"] for p in mine.json()}

    _wait_for(learned, "calls to learn the demo institution's programme from catalog's events")
    body = {"provider_admin_id": liga_id, "evaluator_id": ilze_id, "programme_ids": [programme_id]}
    replayed = client.post("/api/calls/dev/demonstration", json=body, headers=martins, timeout=120)
    if replayed.status_code != 200:
        raise RuntimeError(f"calls did not replay its demonstration call: {replayed.status_code} {replayed.text}")
    public = f"/api/catalog/public/programmes/{programme_id}"
    _wait_for(lambda: client.get(public).status_code == 200, "catalog to publish the demonstration's programme")


def _dev_user(client: httpx.Client, username: str) -> tuple[dict[str, str], str]:
    """A seeded user's headers and subject (the opaque user id other services know them by)."""
    login = client.post("/auth/dev-login", json={"username": username})
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}, str(login.json()["subject"])


def _wait_for(done: Callable[[], bool], what: str, timeout: float = DEMO_WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


def _schedule_demo_group(client: httpx.Client, institution_id: str, programme_id: str) -> None:
    """A group of the public programme, so that the catalogue has free places (once)."""
    if client.get(f"/api/catalog/public/programmes/{programme_id}").json().get("groups"):
        return
    liga = _dev_login(client, "liga")
    base = f"/api/catalog/providers/{institution_id}"
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
    parser.add_argument(
        "--api-workers",
        type=int,
        default=_api_workers_from_env(),
        help="uvicorn workers per api process and for the gateway (default: API_WORKERS or 1)",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as exit_stack:
        stack = Stack(var_dir=args.var_dir.resolve(), base_port=args.port, bus=args.bus, api_workers=args.api_workers)
        if args.bus == "kafka":
            stack.kafka_bootstrap, stack.database_urls = exit_stack.enter_context(kafka_backends())
        exit_stack.callback(stack.stop)
        stack.start(timeout=120)  # fifteen processes starting on two cores
        seed_demo(stack)
        print(
            f"\nPrasmes is running ({args.bus} bus).\n"
            f"  open:      {stack.web_url}\n"
            f"  gateway:   {stack.gateway_url}\n  API docs:  {stack.gateway_url}/docs\n"
            f"  statistics: {stack.gateway_url}/api/statistics/summary\n"
            f'  dev login: POST {stack.gateway_url}/auth/dev-login {{"username": "anna"}}\n'
            f"  logs:      {stack.var_dir}/logs/\nPress Ctrl-C to stop.",
            flush=True,
        )
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGHUP, _interrupt)  # a closed terminal: the processes' groups do not get its SIGHUP
        with contextlib.suppress(KeyboardInterrupt):
            while all(p.poll() is None for p in stack.processes.values()):
                time.sleep(0.5)
        print("Stopping...", flush=True)


if __name__ == "__main__":
    main()
