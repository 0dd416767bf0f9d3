"""Processes: the load generator, the echo server, and what /proc says about the stack's processes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")


def run_load(job: dict[str, Any], work_dir: Path, name: str) -> dict[str, Any]:
    """Run bench.load in a process of its own and return its report."""
    job_path, out_path = work_dir / f"{name}.job.json", work_dir / f"{name}.out.json"
    job_path.write_text(json.dumps(job))
    timeout = 2 * float(job["max_seconds"]) + 60
    subprocess.run(
        [sys.executable, "-m", "bench.load", str(job_path), str(out_path)], cwd=ROOT, check=True, timeout=timeout
    )
    report: dict[str, Any] = json.loads(out_path.read_text())
    return report


ECHO_FLAGS = ("--no-access-log", "--log-level", "warning")
"""The flags the stack's processes had when the first benchmarks were written; `bench.hotpath` and `bench.quick`
read the current ones from a running stack process instead (`uvicorn_flags`)."""


@contextlib.contextmanager
def echo_server(port: int, log_path: Path, flags: Sequence[str] = ECHO_FLAGS) -> Iterator[subprocess.Popen[bytes]]:
    """bench.echo_app under uvicorn with the given server flags (default: ECHO_FLAGS); stopped on exit."""
    command = [sys.executable, "-m", "uvicorn", "bench.echo_app:app", "--host", "127.0.0.1", "--port", str(port)]
    command += list(flags)
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
        try:
            _wait_for_echo(process, f"http://127.0.0.1:{port}/echo")
            yield process
        finally:
            stop(process)


def uvicorn_flags(pid: int, app: str) -> list[str]:
    """The uvicorn options of a running server process (from /proc/PID/cmdline), without its app, host and port:
    what a baseline server needs to be served the same way. `app` is the process's app or factory string."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    rest = argv[argv.index("uvicorn") + 1 :]
    flags: list[str] = []
    skip = False
    for token in rest:
        if skip:
            skip = False
        elif token in ("--host", "--port"):
            skip = True
        elif token not in (app, "--factory"):
            flags.append(token)
    return flags


def wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    """Until a child process writes `path` (it says it is ready, or done); an error once it exits or time is up."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {path.name} from {what} within {timeout} s")
        time.sleep(0.01)


def _wait_for_echo(process: subprocess.Popen[bytes], url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the echo server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.post(url, json={"ping": 1}, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the echo server did not answer within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


def largest_rss_mb(pid: int) -> float:
    """The largest VmRSS among a process and its descendants (uvicorn's workers under their supervisor), in MB."""
    children, largest, todo = _children(), 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, RuntimeError):
            largest = max(largest, rss_mb(current))
        todo += children.get(current, [])
    return largest


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    """Parent pid -> its live children's pids, for every process on the machine."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
    return children


def tree_cpu_seconds(pid: int, children: Mapping[int, list[int]] | None = None) -> float:
    """CPU time of a process and its descendants: utime + stime of the process and of every live descendant,
    plus cutime + cstime (the children they have already reaped, e.g. PostgreSQL's ended backends). All threads
    are in a process's figures. A process that has gone reads as 0."""
    children = _children() if children is None else children
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, IndexError):
            fields = _stat_fields(current)
            total += sum(int(x) for x in fields[11:15])
        todo += children.get(current, [])
    return total / _TICKS


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    """tree_cpu_seconds of each named process, and the whole machine's busy CPU seconds under "machine"."""
    children = _children()
    snapshot = {name: tree_cpu_seconds(pid, children) for name, pid in pids.items()}
    snapshot["machine"] = machine_jiffies()[0] / _TICKS
    return snapshot


def cpu_ms_per_request(
    before: Mapping[str, float], after: Mapping[str, float], requests: int, extra: Mapping[str, float] | None = None
) -> dict[str, float | None]:
    """CPU milliseconds per request of each process between two cpu_snapshot() readings; `extra` adds CPU seconds
    measured otherwise (the load generator's, from its rusage). "total" is the sum of the named processes;
    "machine" is what all CPUs of the machine did, and "other" the part of it no named process did (other
    people's work on this machine, the kernel's)."""
    if not requests:
        return {}
    seconds = {n: after[n] - before[n] for n in before if n != "machine"}
    seconds.update(extra or {})
    out: dict[str, float | None] = {n: round(1000 * s / requests, 3) for n, s in seconds.items()}
    total = sum(seconds.values())
    machine = after["machine"] - before["machine"]
    out["total"] = round(1000 * total / requests, 3)
    out["machine"] = round(1000 * machine / requests, 3)
    out["other"] = round(1000 * max(0.0, machine - total) / requests, 3)
    return out


def listener_pid(port: int) -> int | None:
    """The process listening on a local TCP port (from /proc/net/tcp*), or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(entry.name)
    return None


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_percent(since: tuple[int, int]) -> float:
    """Share of all CPUs busy since a machine_jiffies() reading (any process, ours or not)."""
    busy, total = machine_jiffies()
    return round(100 * (busy - since[0]) / max(1, total - since[1]), 1)


def wait_quiet(threshold: float = 25.0, window: float = 2.0, max_wait: float = 10.0) -> dict[str, float]:
    """Wait (bounded) until the machine is mostly idle over a window: other work on this machine, such as
    test runs, competes for the same 2 cores and would distort the figure. Reports what it saw."""
    started = time.monotonic()
    while True:
        since = machine_jiffies()
        time.sleep(window)
        busy = busy_percent(since)
        waited = time.monotonic() - started
        if busy < threshold or waited >= max_wait:
            return {"waited_s": round(waited, 1), "busy_percent": busy}
