"""Processes: the load generator, the echo server, and what /proc says about the stack's processes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def echo_server(port: int, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """bench.echo_app under uvicorn with the flags the stack's processes use; stopped on exit."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.echo_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
        try:
            _wait_for_echo(process, f"http://127.0.0.1:{port}/echo")
            yield process
        finally:
            stop(process)


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


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
