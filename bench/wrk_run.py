"""Closed-loop load with wrk: `run_wrk(url, requests_file, ...) -> dict`.

What drives what:

* **closed loop, throughput (this module)**: wrk 4.1 (C, LuaJIT) keeps a fixed number of connections busy, each
  sending its next request when the last one answered, for a fixed time. It needs a few percent of a core where
  the Python generator (`bench.load`) needs a whole one, so it can saturate even the bare echo baseline on this
  2-core machine. Its CPU time is measured (from its rusage) and reported beside every figure, to show it was
  not the bottleneck. Used by `bench.hotpath`, `bench.quick` and the gateway-vs-echo figure of `bench.run`.
* **open loop, end-to-end latency (`bench.load`, mode "open")**: requests started on a fixed schedule whatever
  the answers do, with the time each answer arrived, for the 201 -> welcome notice latency of `bench.run`. A
  closed loop would slow down with the server and hide the queueing an open loop shows.

The requests come from a file (`write_requests`): one line each, TAB-separated, `METHOD PATH BODY HEADER...`
(see `bench/wrk/requests.lua`), so every request can carry its own bearer token and body. Mode "once" sends each
line at most once (account openings: the same learner twice would get a 409); "cycle" starts again when the lines
run out (reads, the echo). wrk's timeout is raised from its default 2 s to 30 s, like the Python generator's:
with 2 s, a slower answer is counted as a timeout and left out of the latency percentiles, which would cap
the reported p99 below 2 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "requests.lua"
MARKER = "WRK_JSON "


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    """Sent as is (already serialised)."""

    @classmethod
    def json(cls, method: str, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Request:
        return cls(
            method,
            path,
            {**(headers or {}), "Content-Type": "application/json"},
            json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        )

    def line(self) -> str:
        fields = [self.method, self.path, self.body or "", *(f"{k}: {v}" for k, v in self.headers.items())]
        for value in fields:
            if "\t" in value or "\n" in value or "\r" in value:
                raise ValueError(f"a request field holds a TAB or a newline: {value[:80]!r}")
        return "\t".join(fields)


def write_requests(path: Path, requests: Iterable[Request]) -> int:
    """One line per request, for bench/wrk/requests.lua; returns how many."""
    lines = [r.line() for r in requests]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: `apt-get install -y wrk` (or `make deps-bench`)")
    return found


def run_wrk(
    url: str,
    requests_file: Path,
    *,
    threads: int = 2,
    connections: int = 32,
    seconds: float = 10,
    mode: str = "cycle",
    timeout_s: float = 30,
) -> dict[str, Any]:
    """Run wrk against `url` (scheme, host and port; the paths are in the file) and return its summary.

    Figures: `requests_per_s` counts the 2xx answers (what was served), `completed` every answer; `errors` is
    every non-2xx answer plus every socket error and timeout; latencies in ms from wrk's own record of every
    answer (p50/p90/p99/p99.9/max and a histogram). `load_generator` is wrk's CPU time (user + system, all its
    threads) and its share of one core. `exhausted_threads` > 0 in mode "once" means the lines ran out before
    the time did: the rate is then a lower bound."""
    if mode not in ("once", "cycle"):
        raise ValueError(f"unknown mode {mode!r}")
    command = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={timeout_s:g}s",
        "-s",
        str(WRK_SCRIPT),
        url,
        "--",
        str(requests_file),
        str(threads),
        mode,
    ]
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        killer = threading.Timer(seconds + timeout_s + 60, process.kill)
        killer.start()
        try:
            assert process.stdout is not None
            stdout = process.stdout.read()
            # wait4 rather than wait: the rusage of wrk itself, all its threads, is the load generator's CPU.
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read()
    summary = _summary(stdout)
    if process.returncode != 0 or summary is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr.strip()[-2000:]} {stdout.strip()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    settings = {
        "threads": threads,
        "connections": connections,
        "seconds": seconds,
        "mode": mode,
        "timeout_s": timeout_s,
    }
    return _report(summary, cpu, settings)


def _summary(stdout: str) -> dict[str, Any] | None:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            parsed: dict[str, Any] = json.loads(line[len(MARKER) :])
            return parsed
    return None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value / 1000, 2)


def _report(summary: dict[str, Any], cpu_s: float, settings: dict[str, Any]) -> dict[str, Any]:
    duration = summary["duration_us"] / 1e6
    statuses = summary.get("statuses") or {}
    socket = {k: int(v) for k, v in (summary.get("socket_errors") or {}).items() if k != "status"}
    ok = int(statuses.get("2xx", 0))
    completed = int(summary["requests"])
    latency = summary.get("latency_us") or {}
    non_2xx = {cls: int(n) for cls, n in statuses.items() if cls != "2xx"}
    samples = summary.get("error_samples")
    histogram = summary.get("latency_histogram") or []
    return {
        "requests_per_s": round(ok / duration, 1) if duration else 0.0,
        "completed": completed,
        "ok": ok,
        "duration_s": round(duration, 3),
        "errors": sum(non_2xx.values()) + sum(socket.values()),
        "statuses": {cls: int(n) for cls, n in sorted(statuses.items())},
        "socket_errors": socket,
        "error_samples": samples if isinstance(samples, list) else [],
        "p50_ms": _ms(latency.get("p50")),
        "p75_ms": _ms(latency.get("p75")),
        "p90_ms": _ms(latency.get("p90")),
        "p99_ms": _ms(latency.get("p99")),
        "p999_ms": _ms(latency.get("p999")),
        "max_ms": _ms(latency.get("max")),
        "mean_ms": _ms(latency.get("mean")),
        "latency_histogram_ms": [{"le_ms": None if bound < 0 else bound, "count": int(n)} for bound, n in histogram],
        "exhausted_threads": int(summary.get("exhausted_threads", 0)),
        "lines_loaded": int(summary.get("lines_loaded", 0)),
        "wrk": settings,
        "load_generator": {
            "cpu_s": round(cpu_s, 3),
            "cpu_percent_of_one_core": round(100 * cpu_s / duration, 1) if duration else None,
            "cpu_ms_per_request": round(1000 * cpu_s / completed, 4) if completed else None,
        },
    }
