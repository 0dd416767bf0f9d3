"""Real Kafka and PostgreSQL servers for tests, listening on 127.0.0.1 only.

Order of preference in :func:`kafka_server` / :func:`postgres_server`:

1. the environment (``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``),
2. testcontainers, when a Docker engine answers (developer laptops),
3. a local server started here: Apache Kafka (KRaft) from the Maven Central jars in
   ``deploy/kafka/lib``, PostgreSQL from the Debian server binaries.

Nothing is skipped: when no server can be had, a ``RuntimeError`` says why.

A local server is stopped by the context managers (and ``atexit``) on every ordinary exit, and
by a watchdog process (:mod:`prasmes_testing.watchdog`) when the process that started it
is killed hard: a SIGKILLed or crashed test run leaves no PostgreSQL or Kafka running.

CLI: ``python -m prasmes_testing.servers kafka|postgres`` runs one server in the
foreground, prints ``KAFKA_BOOTSTRAP_SERVERS=...`` or ``DATABASE_URL=...`` and stops it on
SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import concurrent.futures
import contextlib
import fcntl
import importlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from prasmes_testing.watchdog import Watchdog

__all__ = [
    "LocalKafkaBroker",
    "LocalPostgres",
    "create_database",
    "ensure_kafka_jars",
    "free_port",
    "kafka_server",
    "postgres_server",
    "repo_root",
]

_T = TypeVar("_T")
_KAFKA_READY = "Kafka Server started"
_PG_DRIVER_SCHEME = "postgresql+asyncpg"
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SCRAM_TOKEN = re.compile(r"^[A-Za-z0-9._~+/-]+$")
"""What a SCRAM user's name or password may hold here: nothing that the storage tool's `[name=...,password=...]`
or the JAAS line would have to quote."""
SCRAM_MECHANISM = "SCRAM-SHA-512"


# --------------------------------------------------------------------------- helpers


def repo_root() -> Path:
    """The monorepo root: the nearest parent of this file holding ``deploy/kafka/pom.xml``."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "deploy" / "kafka" / "pom.xml").is_file():
            return parent
    raise RuntimeError(f"no deploy/kafka/pom.xml above {Path(__file__).resolve()}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _has_jars(lib: Path) -> bool:
    return lib.is_dir() and any(lib.glob("*.jar"))


def ensure_kafka_jars(root: Path | None = None) -> Path:
    """Return ``deploy/kafka/lib``, filling it from Maven Central first if it is missing/empty."""
    kafka_dir = (root or repo_root()) / "deploy" / "kafka"
    lib = kafka_dir / "lib"
    if _has_jars(lib):
        return lib
    with open(kafka_dir / "lib.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _has_jars(lib):
            _download_kafka_jars(kafka_dir, lib)
    return lib


def _download_kafka_jars(kafka_dir: Path, lib: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is needed to fetch the Kafka jars: run `make deps-system`")
    tmp = Path(tempfile.mkdtemp(prefix=".lib-tmp-", dir=kafka_dir))
    try:
        _run_checked(
            [
                mvn,
                "-q",
                "-f",
                str(kafka_dir / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={tmp}",
            ],
            what="mvn copy-dependencies",
        )
        if lib.exists():
            shutil.rmtree(lib)
        tmp.rename(lib)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_checked(cmd: list[str], what: str, timeout: float = 900) -> str:
    """Run ``cmd``; return its output, or raise with the output when it fails."""
    proc = subprocess.run(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
    return proc.stdout


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("Java 17+ is needed for the local Kafka broker: run `make deps-system`")
    return java


# --------------------------------------------------------------------------- Kafka


class LocalKafkaBroker:
    """A one-node Apache Kafka (KRaft, broker+controller) in a child JVM.

    With `users` (name -> password) it runs as operators run it: clients sign in over SASL_PLAINTEXT with
    SCRAM-SHA-512 as one of those users (created when the storage is formatted), and the StandardAuthorizer lets
    each do only what an ACL grants it. `admin` (one of the users) is the super user: the broker's own principal
    between brokers and the one that creates the ACLs. The CONTROLLER listener stays PLAINTEXT on the loopback;
    its principal (ANONYMOUS, the broker talking to its own controller) is a super user too, and no client can
    reach the SASL listener as ANONYMOUS. Without `users`: PLAINTEXT, no authorizer."""

    def __init__(
        self, data_dir: Path | None = None, users: Mapping[str, str] | None = None, admin: str = "admin"
    ) -> None:
        self.users = dict(users or {})
        self.admin = admin
        _check_users(self.users, admin)
        self._owns_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="kafka-"))
        self.port = free_port()
        self.controller_port = free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._watchdog: Watchdog | None = None
        self._atexit_registered = False

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl(self) -> bool:
        """Clients sign in (SASL_PLAINTEXT, SCRAM-SHA-512) and ACLs decide what they may do."""
        return bool(self.users)

    @property
    def log_file(self) -> Path:
        return self.data_dir / "kafka.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def watchdog_pid(self) -> int | None:
        """The watchdog that stops the broker if this process dies (while it runs)."""
        return None if self._watchdog is None else self._watchdog.pid

    def start(self, timeout: float = 90) -> str:
        """Start (or restart) the broker; return the bootstrap string once it serves."""
        if self.running:
            return self.bootstrap
        lib = ensure_kafka_jars()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self._write_properties()
        if not (self.data_dir / "logs" / "meta.properties").exists():
            self._format(lib, props)
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._launch(lib, props)
        self._wait_ready(offset, timeout)
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        return self.bootstrap

    def stop(self, graceful: bool = True) -> None:
        """SIGTERM the broker and wait for it (SIGKILL after 30 s), or SIGKILL it at once when not `graceful`.
        Keeps the data dir."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            if graceful:
                proc.terminate()
            else:
                proc.kill()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.disarm()

    def close(self) -> None:
        """Stop the broker and delete the data dir if this object created it: then at once (a graceful shutdown
        flushes and closes every partition's log, seconds after a whole suite, for a directory about to go)."""
        self.stop(graceful=not self._owns_dir)
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LocalKafkaBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write_properties(self) -> Path:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.partitions": "3",
            "auto.create.topics.enable": "true",
            "log.dirs": str(self.data_dir / "logs"),
        }
        if self.sasl:
            settings.update(self._sasl_properties())
        path = self.data_dir / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        return path

    def _sasl_properties(self) -> dict[str, str]:
        listener = f"SASL_PLAINTEXT://127.0.0.1:{self.port}"
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{self.admin}" password="{self.users[self.admin]}";'
        )
        return {
            "listeners": f"{listener},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listener,
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": SCRAM_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
            f"listener.name.sasl_plaintext.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": jaas,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{self.admin};User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
            # As operators run it: a topic is created on purpose (ensure_topics, a KafkaTopic), never by a
            # client's first request for it.
            "auto.create.topics.enable": "false",
        }

    def _kafka_cmd(self, lib: Path, *args: str) -> list[str]:
        log4j = repo_root() / "deploy" / "kafka" / "log4j2.properties"
        return [
            _java(),
            "-Xms256m",
            "-Xmx768m",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{lib}/*",
            *args,
        ]

    def _format(self, lib: Path, props: Path) -> None:
        cluster_id = (
            _run_checked(
                self._kafka_cmd(lib, "kafka.tools.StorageTool", "random-uuid"),
                what="random-uuid",
            )
            .strip()
            .splitlines()[-1]
        )
        _run_checked(
            self._kafka_cmd(
                lib,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
                *self._scram_arguments(),
            ),
            what="kafka storage format",
        )

    def _scram_arguments(self) -> list[str]:
        """The users' SCRAM credentials, written into the cluster's first metadata by the storage tool."""
        return [
            argument
            for name, password in self.users.items()
            for argument in ("--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]")
        ]

    def _launch(self, lib: Path, props: Path) -> None:
        self._log = open(self.log_file, "ab")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            self._kafka_cmd(lib, "kafka.Kafka", str(props)),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,
        )
        try:
            self._watchdog = Watchdog.spawn(
                pid=self._proc.pid,
                signals=(signal.SIGTERM,),  # the JVM's shutdown hook: a controlled shutdown
                grace=30,
                kill_group=True,
                remove=(self.data_dir,) if self._owns_dir else (),
            )
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, offset: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._log_since(offset).find(_KAFKA_READY) >= 0:
                return
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                self.stop()
                raise RuntimeError(f"Kafka broker exited ({code}):\n{_tail(self.log_file)}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Kafka broker not ready after {timeout}s:\n{_tail(self.log_file)}")

    def _log_since(self, offset: int) -> str:
        with open(self.log_file, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


def _check_users(users: Mapping[str, str], admin: str) -> None:
    if users and admin not in users:
        raise ValueError(f"the admin user {admin!r} is not among the broker's users")
    for name, password in users.items():
        if not (_SCRAM_TOKEN.match(name) and _SCRAM_TOKEN.match(password)):
            raise ValueError(f"user {name!r}: names and passwords may hold letters, digits and ._~+/- only")


# --------------------------------------------------------------------------- PostgreSQL


def _pg_version(bin_dir: Path) -> tuple[int, ...]:
    digits = re.findall(r"\d+", bin_dir.parent.name)
    return tuple(int(d) for d in digits)


def _find_postgres_bin() -> Path:
    """The directory holding initdb/pg_ctl: highest /usr/lib/postgresql/*/bin, else pg_config."""
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if candidates:
        return max(candidates, key=_pg_version)
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        out = subprocess.run(
            [pg_config, "--bindir"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if out and (Path(out) / "initdb").is_file():
            return Path(out)
    initdb = shutil.which("initdb")
    if initdb is not None:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run `make deps-system` "
        "(deploy/postgres/ensure-installed.sh) or set DATABASE_URL"
    )


class LocalPostgres:
    """A throw-away PostgreSQL cluster in a temp dir (trust auth, user ``postgres``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.data_dir: Path | None = None
        self._bin: Path | None = None
        self._as_root = os.geteuid() == 0
        self._watchdog: Watchdog | None = None

    @property
    def watchdog_pid(self) -> int | None:
        """The watchdog that stops the cluster if this process dies (while it runs)."""
        return None if self._watchdog is None else self._watchdog.pid

    @property
    def url(self) -> str:
        return f"{_PG_DRIVER_SCHEME}://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60) -> str:
        """initdb + pg_ctl start; return the SQLAlchemy/asyncpg URL of database ``postgres``."""
        if self.data_dir is not None:
            return self.url
        self._bin = _find_postgres_bin()
        # As root the cluster runs as `postgres`, which must reach the dir: stay in /tmp.
        self.data_dir = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp" if self._as_root else None))
        try:
            # Armed before the server exists: if this process dies during pg_ctl start, the
            # watchdog finds the postmaster in postmaster.pid.
            self._watchdog = Watchdog.spawn(
                pidfile=self.data_dir / "postmaster.pid",
                signals=(signal.SIGINT, signal.SIGQUIT),  # pg_ctl's "fast", then "immediate"
                grace=15,
                kill_group=True,
                remove=(self.data_dir,),
            )
            self._initdb()
            self._pg_ctl_start(timeout)
            self._watch_postmaster()
        except BaseException:
            self._remove_dir()
            self._disarm()
            raise
        atexit.register(self.stop)
        return self.url

    def stop(self) -> None:
        """pg_ctl stop -m immediate (no checkpoint: the data dir is deleted next), then delete the data dir: at once out
        of the way, its files by a process of its own (`_remove_later`)."""
        if self.data_dir is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                self._cmd("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
                capture_output=True,
                check=False,
                timeout=120,
            )
        self._remove_dir(later=True)
        self._disarm()

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _cmd(self, tool: str, *args: str) -> list[str]:
        assert self._bin is not None
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        return [*prefix, str(self._bin / tool), *args]

    def _initdb(self) -> None:
        assert self.data_dir is not None
        if self._as_root:
            shutil.chown(self.data_dir, user="postgres", group="postgres")
        base = ["-D", str(self.data_dir), "-A", "trust", "-U", "postgres", "--encoding=UTF8"]
        try:
            _run_checked(self._cmd("initdb", *base, "--locale=C.UTF-8"), what="initdb", timeout=120)
        except RuntimeError:
            self._empty_dir()
            _run_checked(self._cmd("initdb", *base, "--locale=C"), what="initdb", timeout=120)

    def _pg_ctl_start(self, timeout: float) -> None:
        assert self.data_dir is not None
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=off -c max_connections=300"
        log = self.data_dir / "postgres.log"
        try:
            _run_checked(
                self._cmd(
                    "pg_ctl",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "-o",
                    options,
                    "start",
                ),
                what="pg_ctl start",
                timeout=timeout + 30,
            )
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- postgres.log ---\n{_tail(log)}") from exc

    def _watch_postmaster(self) -> None:
        assert self.data_dir is not None and self._watchdog is not None
        with contextlib.suppress(OSError, ValueError, IndexError):
            self._watchdog.watch(int((self.data_dir / "postmaster.pid").read_text().split()[0]))

    def _disarm(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.disarm()

    def _empty_dir(self) -> None:
        assert self.data_dir is not None
        for child in self.data_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()

    def _remove_dir(self, *, later: bool = False) -> None:
        if self.data_dir is not None:
            if later:
                _remove_later(self.data_dir)
            else:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None


def _remove_later(directory: Path) -> None:
    """Renamed out of the way now, its files deleted by an `rm` of its own that outlives this process: a whole suite's
    server holds hundreds of test databases (3 GB for 300, 12 s to delete), which the run need not wait for."""
    doomed = directory.with_name(f"{directory.name}.removing")
    try:
        directory.rename(doomed)
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)
        return
    subprocess.Popen(
        ["rm", "-rf", "--", str(doomed)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _run_coroutine(coro: Coroutine[Any, Any, _T]) -> _T:
    """asyncio.run, also when called from inside a running event loop (via a thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


async def _create_database(dsn: str, name: str) -> None:
    asyncpg: Any = importlib.import_module("asyncpg")
    conn = await asyncpg.connect(dsn, timeout=30)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Another caller may create it at the same moment.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_url`` if missing; return its URL."""
    if not _DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}")
    _run_coroutine(_create_database(_asyncpg_dsn(server_url), name))
    return _with_database(server_url, name)


# --------------------------------------------------------------------------- selection


def _docker_available() -> bool:
    """True when testcontainers is importable and a Docker engine answers a ping."""
    try:
        importlib.import_module("testcontainers")
        docker: Any = importlib.import_module("docker")
        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _to_asyncpg_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return f"{_PG_DRIVER_SCHEME}://{url[len(prefix) :]}"
    return url


@contextlib.contextmanager
def kafka_server() -> Iterator[str]:
    """Yield a Kafka bootstrap string: env, testcontainers, or a local broker."""
    env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if env:
        yield env
    elif _docker_available():
        kafka: Any = importlib.import_module("testcontainers.kafka")
        with kafka.KafkaContainer() as container:
            yield str(container.get_bootstrap_server())
    else:
        broker = LocalKafkaBroker()
        try:
            yield _start_or_explain(broker.start, "Kafka", "KAFKA_BOOTSTRAP_SERVERS")
        finally:
            broker.close()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a ``postgresql+asyncpg://`` URL: env, testcontainers, or a local cluster."""
    env = os.environ.get("DATABASE_URL")
    if env:
        yield _to_asyncpg_url(env)
    elif _docker_available():
        postgres: Any = importlib.import_module("testcontainers.postgres")
        with postgres.PostgresContainer("postgres:16-alpine", driver="asyncpg") as container:
            yield _to_asyncpg_url(str(container.get_connection_url()))
    else:
        server = LocalPostgres()
        try:
            yield _start_or_explain(server.start, "PostgreSQL", "DATABASE_URL")
        finally:
            server.stop()


def _start_or_explain(start: Callable[[], str], what: str, env_var: str) -> str:
    try:
        return start()
    except RuntimeError as exc:
        raise RuntimeError(
            f"no {what} for the tests: {env_var} is unset, no Docker engine answers, and the "
            f"local server failed to start:\n{exc}"
        ) from exc


# --------------------------------------------------------------------------- CLI


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop.wait(1.0):
        pass


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prasmes_testing.servers",
        description="Run a local server in the foreground until SIGINT/SIGTERM.",
    )
    parser.add_argument("server", choices=["kafka", "postgres"])
    args = parser.parse_args(argv)
    if args.server == "kafka":
        manager, env_var = kafka_server(), "KAFKA_BOOTSTRAP_SERVERS"
    else:
        manager, env_var = postgres_server(), "DATABASE_URL"
    with manager as value:
        print(f"{env_var}={value}", flush=True)
        _wait_for_signal()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
