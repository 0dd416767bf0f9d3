"""Why account opening has a long tail at 32 in flight: diagnostics run by `bench.hotpath` (not with `--quick`).

1. A concurrency sweep: account opening straight to accounts with 1, 4, 16, 32 and 64 connections (wrk, 5 s
   each): how p50, p99 and max grow with the requests in flight while the rate stays where it is.
2. SQLite's busy waits: on SQLite every writing transaction starts with `BEGIN IMMEDIATE` and a connection that
   finds the write lock taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
   50, 100, 100, ... ms between its attempts and does not queue: whoever tries while the lock is free takes it,
   however long the others have waited. The sleeps are `clock_nanosleep` calls (usleep), which nothing else in
   the service's process makes (asyncio waits in epoll, aiosqlite's threads on a queue), so their count and
   length, traced with `perf` (kernel tracepoints, nothing stops the process) while wrk opens accounts through
   the gateway at 32 in flight, say how often and how long writers waited for the lock.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prasmes_devtools.devstack import Stack

from bench import procs
from bench.wrk_run import run_wrk, write_requests

if TYPE_CHECKING:
    from bench.hotpath import Bench, Learners

SWEEP = (1, 4, 16, 32, 64)
SWEEP_SECONDS = 5.0
TRACE_SECONDS = 6.0
SLEEP_BUCKETS_MS = (1.5, 3, 7, 12, 17, 22, 27, 40, 75, 150, 1500)
"""Upper bounds that separate the busy handler's sleeps (1, 2, 5, 10, 15, 20, 25, 50, 100 ms) and anything longer."""
EVENTS = ("clock_nanosleep", "nanosleep")


def diagnose(bench: Bench, stack: Stack, pids: dict[str, int], learners: Learners) -> dict[str, Any]:
    accounts = stack.url("accounts")
    sweep = {}
    for connections in SWEEP:
        report = bench.run(
            f"sweep_direct_c{connections}",
            accounts,
            lambda n: learners.openings("/accounts", n),
            pids,
            mode="once",
            seconds=SWEEP_SECONDS,
            connections=connections,
        )
        sweep[str(connections)] = {
            k: report[k]
            for k in ("requests_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors", "latency_histogram_ms")
        }
        sweep[str(connections)]["accounts_cpu_ms_per_request"] = report["cpu_ms_per_request"].get("accounts")
    return {"sweep_direct_open_account": sweep, "busy_waits": busy_waits(bench, stack, pids, learners)}


def busy_waits(bench: Bench, stack: Stack, pids: dict[str, int], learners: Learners) -> dict[str, Any]:
    """The accounts process's sleeps while wrk opens accounts through the gateway, 32 in flight (the stack is
    warm from the figures before: no warm-up here, so that the trace covers the measured run only)."""
    perf = shutil.which("perf")
    if perf is None:
        return {"error": "perf is not installed (Debian: linux-perf)"}
    requests_file = bench.work / "busy-waits.txt"
    write_requests(requests_file, learners.openings("/api/accounts/accounts", 600 * int(TRACE_SECONDS) + 200))
    data = bench.work / "sleeps.perf"
    events = ",".join(f"syscalls:sys_{edge}_{name}" for name in EVENTS for edge in ("enter", "exit"))
    quiet = procs.wait_quiet()
    command = [perf, "record", "-q", "-e", events, "-p", str(pids["accounts"]), "-o", str(data)]
    recorder = subprocess.Popen(
        [*command, "--", "sleep", f"{TRACE_SECONDS + 0.5:g}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(0.3)
        report = run_wrk(stack.gateway_url, requests_file, seconds=TRACE_SECONDS, mode="once")
    finally:
        _, stderr = recorder.communicate(timeout=120)
    if recorder.returncode != 0:
        return {"error": f"perf record failed: {stderr.decode(errors='replace')[-500:]}"}
    sleeps = _sleeps(perf, data)
    requests = report["completed"] or 1
    histogram = Counter(_bucket(ms) for _, ms in sleeps)
    return {
        "quiet_wait": quiet,
        **{k: report[k] for k in ("requests_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors")},
        "latency_histogram_ms": report["latency_histogram_ms"],
        "sleeps": len(sleeps),
        "threads_that_slept": len({tid for tid, _ in sleeps}),
        "slept_s": round(sum(ms for _, ms in sleeps) / 1000, 2),
        "sleeps_per_request": round(len(sleeps) / requests, 3),
        "slept_ms_per_request": round(sum(ms for _, ms in sleeps) / requests, 2),
        "longest_sleep_ms": round(max((ms for _, ms in sleeps), default=0.0), 1),
        "sleeps_by_length_ms": {label: histogram.get(label, 0) for label in _labels()},
    }


def _sleeps(perf: str, data: Path) -> list[tuple[str, float]]:
    """(thread id, duration in ms) of every completed sleep, from the enter/exit tracepoints."""
    script = subprocess.run(
        [perf, "script", "-i", str(data), "-F", "tid,time,event"], capture_output=True, text=True, timeout=120
    ).stdout
    entered: dict[str, float] = {}
    sleeps = []
    for line in script.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        tid, at, event = parts[0], float(parts[1].rstrip(":")), parts[2]
        if "sys_enter_" in event:
            entered[tid] = at
        elif "sys_exit_" in event and tid in entered:
            sleeps.append((tid, 1000 * (at - entered.pop(tid))))
    return sleeps


def _labels() -> list[str]:
    return [f"<={b:g}" for b in SLEEP_BUCKETS_MS] + [f">{SLEEP_BUCKETS_MS[-1]:g}"]


def _bucket(ms: float) -> str:
    for bound in SLEEP_BUCKETS_MS:
        if ms <= bound:
            return f"<={bound:g}"
    return f">{SLEEP_BUCKETS_MS[-1]:g}"
