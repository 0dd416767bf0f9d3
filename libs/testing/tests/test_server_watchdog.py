"""A test run killed hard (SIGKILL) leaves no server running: the watchdog stops it.

The owners here are child Python processes, killed with SIGKILL, so that no fixture teardown,
``finally`` or ``atexit`` of theirs runs. Processes are looked up in /proc (Linux).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prasmes_testing.watchdog import Watchdog

# Starts a server through the same context manager the test fixtures use, then waits forever.
# The environment must not name a server, and Docker must not be chosen: a local one is started.
_SERVER_OWNER = r"""
import json, sys, time
from urllib.parse import urlsplit
import prasmes_testing.servers as servers
servers._docker_available = lambda: False
kind = sys.argv[1]
manager = servers.postgres_server() if kind == "postgres" else servers.kafka_server()
with manager as value:
    port = urlsplit(value if kind == "postgres" else f"//{value}").port
    print(json.dumps({"value": value, "port": port}), flush=True)
    time.sleep(3600)
"""

# Starts a stand-in server (a sleeping Python, optionally deaf to SIGTERM) under a watchdog.
_DUMMY_OWNER = r"""
import json, subprocess, sys, time
from pathlib import Path
from prasmes_testing.watchdog import Watchdog
mode, data = sys.argv[1], Path(sys.argv[2])
deaf = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); " if mode == "stubborn" else ""
code = deaf + "import time; print('ready', flush=True); time.sleep(3600)"
if mode == "pidfile":
    dog = Watchdog.spawn(pidfile=data / "server.pid", grace=5, remove=[data])
server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True)
server.stdout.readline()  # its signal handlers are in place
if mode == "pidfile":
    (data / "server.pid").write_text(f"{server.pid}\n")
else:
    dog = Watchdog.spawn(pid=server.pid, grace=0.5, kill_group=True, remove=[data])
print(json.dumps({"server": server.pid, "watchdog": dog.pid}), flush=True)
time.sleep(3600)
"""


# --------------------------------------------------------------------------- /proc helpers


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of ``pid``, or None when there is no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    """Running: a zombie (exited, not yet reaped by whoever inherited it) counts as gone."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _children(pid: int) -> set[int]:
    return {child for child in _pids() if (stat := _stat(child)) is not None and stat[1] == pid}


def _descendants(pids: set[int]) -> set[int]:
    found, todo = set(pids), list(pids)
    while todo:
        for child in _children(todo.pop()) - found:
            found.add(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _listening_pids(port: int) -> set[int]:
    """The processes holding a listening TCP socket on ``port``."""
    sockets: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    sockets.add(f"socket:[{fields[9]}]")
    holders: set[int] = set()
    for pid in _pids():
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in sockets for fd in Path(f"/proc/{pid}/fd").iterdir()):
                holders.add(pid)
    return holders


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _eventually(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.1)


# --------------------------------------------------------------------------- owners


@contextlib.contextmanager
def _owner(code: str, *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child Python running ``code``; it is SIGKILLed at the end if it still runs."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    with open(log, "wb") as stderr:
        owner = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=stderr, env=env)
    try:
        yield owner
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.wait()
        assert owner.stdout is not None
        owner.stdout.close()


def _first_line(owner: subprocess.Popen[bytes], timeout: float, log: Path) -> dict[str, Any]:
    """The JSON line the owner prints once its server is up."""
    assert owner.stdout is not None
    fd, data = owner.stdout.fileno(), b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the owner reported nothing within {timeout}s:\n{log.read_text()[-4000:]}")
        if select.select([fd], [], [], remaining)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"the owner exited ({owner.wait()}):\n{log.read_text()[-4000:]}")
            data += chunk
    result: dict[str, Any] = json.loads(data.split(b"\n", 1)[0])
    return result


def _kill_leftovers(pids: set[int], data_dir: Path | None) -> None:
    """After a failed assertion, do not leave what the watchdog should have stopped."""
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)


def _server_stops_when_its_owner_is_killed(kind: str, tmp_path: Path, startup: float) -> None:
    log = tmp_path / "owner.log"
    family: set[int] = set()
    data_dir: Path | None = None
    try:
        with _owner(_SERVER_OWNER, kind, log=log) as owner:
            port = int(_first_line(owner, startup, log)["port"])
            servers = _listening_pids(port)
            assert servers, f"nothing listens on the reported port {port}"
            program = "postgres" if kind == "postgres" else "java"
            assert all(program in _cmdline(pid) for pid in servers), [_cmdline(p) for p in servers]
            family = _descendants(servers)  # the postmaster's children too
            data_dir = directory = Path(os.readlink(f"/proc/{min(servers)}/cwd"))  # postgres: -D; Kafka: cwd
            assert directory.name.startswith("pg-" if kind == "postgres" else "kafka-") and directory.is_dir()
            watchdogs = {pid for pid in _children(owner.pid) if "watchdog" in _cmdline(pid)}
            assert len(watchdogs) == 1, [_cmdline(pid) for pid in _children(owner.pid)]

            owner.send_signal(signal.SIGKILL)
            owner.wait()

            _eventually(lambda: not any(_alive(pid) for pid in family), 90, f"{kind} processes stopped")
            _eventually(lambda: not _port_open(port), 10, f"port {port} refuses connections")
            _eventually(lambda: not any(_alive(pid) for pid in watchdogs), 10, "the watchdog exited")
            _eventually(lambda: not directory.exists(), 10, f"{directory} removed")
    except BaseException:
        print(log.read_text(errors="replace")[-4000:])
        _kill_leftovers(family, data_dir)
        raise


# --------------------------------------------------------------------------- real servers


@pytest.mark.postgres
def test_postgres_stops_when_the_test_run_is_killed(tmp_path: Path) -> None:
    _server_stops_when_its_owner_is_killed("postgres", tmp_path, startup=90)


@pytest.mark.kafka
def test_kafka_stops_when_the_test_run_is_killed(tmp_path: Path) -> None:
    _server_stops_when_its_owner_is_killed("kafka", tmp_path, startup=180)


# --------------------------------------------------------------------------- the mechanism


@pytest.mark.parametrize("mode", ["plain", "stubborn", "pidfile"])
def test_watchdog_stops_a_stand_in_server_when_its_owner_is_killed(mode: str, tmp_path: Path) -> None:
    """SIGTERM; SIGKILL after the grace period for a server deaf to SIGTERM; a PID read from a
    pidfile when the owner never named the server. The data dir goes in each case."""
    data, log = tmp_path / "data", tmp_path / "owner.log"
    data.mkdir()
    (data / "file").write_text("x")
    server: int | None = None
    try:
        with _owner(_DUMMY_OWNER, mode, str(data), log=log) as owner:
            started = _first_line(owner, 30, log)
            server, watchdog = int(started["server"]), int(started["watchdog"])
            assert _alive(server) and _alive(watchdog)
            owner.send_signal(signal.SIGKILL)
            owner.wait()
            _eventually(lambda: not _alive(server), 30, "the stand-in server stopped")
            _eventually(lambda: not _alive(watchdog), 10, "the watchdog exited")
            _eventually(lambda: not data.exists(), 10, "the data dir removed")
        if mode == "stubborn":
            assert "SIGKILL" in log.read_text()
    finally:
        _kill_leftovers(set() if server is None else {server}, None)


@pytest.fixture
def stand_in() -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"], start_new_session=True)
    try:
        yield server
    finally:
        server.kill()
        server.wait()


def test_watchdog_exits_with_its_server_and_leaves_the_dir(stand_in: subprocess.Popen[bytes], tmp_path: Path) -> None:
    dog = Watchdog.spawn(pid=stand_in.pid, remove=[tmp_path])
    try:
        stand_in.terminate()
        stand_in.wait()
        _eventually(lambda: not dog.running, 10, "the watchdog exited with its server")
        assert tmp_path.is_dir()
    finally:
        dog.disarm()


def test_watchdog_named_later_exits_with_its_server(stand_in: subprocess.Popen[bytes]) -> None:
    dog = Watchdog.spawn()
    try:
        dog.watch(stand_in.pid)
        stand_in.terminate()
        stand_in.wait()
        _eventually(lambda: not dog.running, 10, "the watchdog exited with its server")
    finally:
        dog.disarm()


def test_disarmed_watchdog_exits_and_leaves_the_server_alone(stand_in: subprocess.Popen[bytes], tmp_path: Path) -> None:
    dog = Watchdog.spawn(pid=stand_in.pid, remove=[tmp_path])
    dog.disarm()
    assert not dog.running
    dog.disarm()  # idempotent
    assert stand_in.poll() is None
    assert tmp_path.is_dir()
