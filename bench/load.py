"""The load generator, run in a process of its own: `python -m bench.load JOB.json OUT.json`.

A job names a URL, the requests to send (headers and JSON body each, warm-up ones first) and a mode:

* ``closed``: a fixed number of workers, each sending its next request when the last one answered;
* ``open``: requests started on a fixed schedule (``rate`` per second) whatever the answers do.

Both stop early at ``max_seconds``. The result holds throughput, latency percentiles, the error count
and, in open mode, the wall-clock time each expected answer arrived (for end-to-end latencies).

What it is used for: the **open** mode, at a fixed rate, for the end-to-end latency of `bench.run` (201 ->
welcome notice), where the schedule must not slow down with the server. The closed mode remains for the
benchmarks that replay a finite set of requests once and count them (`bench.surge`, `bench.catalog_search`).
Throughput figures against the echo baseline are driven by wrk instead (`bench.wrk_run`): this generator
needs about a whole core of its own for ~800 requests/s, so it capped the echo baseline it was measuring.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentile, rounded


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    arrivals: list[dict[str, Any]] = field(default_factory=list)

    def failed(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:300])


@dataclass(frozen=True)
class Job:
    mode: str
    url: str
    requests: list[dict[str, Any]]
    warmup: int
    expect: int
    max_seconds: float
    concurrency: int = 32
    rate: float = 100.0

    @classmethod
    def load(cls, path: Path) -> Job:
        return cls(**json.loads(path.read_text()))


async def _send(client: httpx.AsyncClient, job: Job, request: dict[str, Any], outcome: Outcome | None) -> None:
    started = time.perf_counter()
    try:
        response = await client.post(job.url, json=request["json"], headers=request["headers"])
    except httpx.HTTPError as exc:
        if outcome is not None:
            outcome.failed(f"{type(exc).__name__}: {exc}")
        return
    arrived = time.time()
    if outcome is None:
        return
    if response.status_code != job.expect:
        outcome.failed(f"{response.status_code}: {response.text}")
        return
    outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
    if request.get("tag") is not None:
        outcome.arrivals.append({"tag": request["tag"], "t0": arrived})


async def _closed(
    clients: list[httpx.AsyncClient],
    job: Job,
    requests: list[dict[str, Any]],
    outcome: Outcome | None,
    deadline: float,
) -> None:
    """One worker per client, all taking the next request from one queue."""
    queue = iter(requests)

    async def worker(client: httpx.AsyncClient) -> None:
        for request in queue:
            if time.monotonic() > deadline:
                return
            await _send(client, job, request, outcome)

    await asyncio.gather(*(worker(client) for client in clients))


async def _open(
    clients: list[httpx.AsyncClient], job: Job, requests: list[dict[str, Any]], outcome: Outcome, deadline: float
) -> dict[str, float]:
    start = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    worst_slip = 0.0
    for i, request in enumerate(requests):
        due = start + i / job.rate
        if due > deadline:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        worst_slip = max(worst_slip, time.monotonic() - due)
        client = clients[i % len(clients)]
        tasks.append(asyncio.create_task(_send(client, job, request, outcome)))
    sent_span = time.monotonic() - start
    await asyncio.wait(tasks, timeout=max(1.0, deadline - time.monotonic()))
    for task in tasks:
        task.cancel()
    return {"sent": len(tasks), "send_span_s": sent_span, "worst_schedule_slip_ms": worst_slip * 1000}


OPEN_CLIENTS, OPEN_CONNECTIONS_EACH = 64, 4


def _clients(job: Job, stack: contextlib.AsyncExitStack) -> list[httpx.AsyncClient]:
    """Many small clients rather than one big pool: httpx's pool gets slow with many requests in flight
    (encode/httpx#3215), which would make the load generator the bottleneck, or, in open mode, make it
    miss its schedule exactly when the server falls behind. Closed mode: one client (one keep-alive
    connection) per worker, as independent users would have. Open mode: requests spread round-robin
    over OPEN_CLIENTS clients of OPEN_CONNECTIONS_EACH connections."""
    count, each = (OPEN_CLIENTS, OPEN_CONNECTIONS_EACH) if job.mode == "open" else (job.concurrency, 1)
    clients = [
        httpx.AsyncClient(limits=httpx.Limits(max_connections=each), timeout=30, trust_env=False) for _ in range(count)
    ]
    for client in clients:
        stack.push_async_callback(client.aclose)
    return clients


async def run(job: Job) -> dict[str, Any]:
    warmup, measured = job.requests[: job.warmup], job.requests[job.warmup :]
    outcome = Outcome()
    async with contextlib.AsyncExitStack() as stack:
        clients = _clients(job, stack)
        await _closed(clients, job, warmup, None, time.monotonic() + job.max_seconds)
        started, cpu_started = time.perf_counter(), time.process_time()
        deadline = time.monotonic() + job.max_seconds
        schedule = {}
        if job.mode == "open":
            schedule = await _open(clients, job, measured, outcome, deadline)
        else:
            await _closed(clients, job, measured, outcome, deadline)
        elapsed = time.perf_counter() - started
        schedule["load_generator_cpu_s"] = time.process_time() - cpu_started
    return _report(job, outcome, elapsed, schedule)


def _report(job: Job, outcome: Outcome, elapsed: float, schedule: dict[str, float]) -> dict[str, Any]:
    ok = len(outcome.latencies_ms)
    report: dict[str, Any] = {
        "mode": job.mode,
        "requests": len(job.requests) - job.warmup,
        "warmup": job.warmup,
        "ok": ok,
        "errors": outcome.errors,
        "not_sent": len(job.requests) - job.warmup - ok - outcome.errors,
        "error_samples": outcome.error_samples,
        "elapsed_s": rounded(elapsed, 3),
        "requests_per_s": rounded(ok / elapsed if elapsed else 0.0, 1),
        "p50_ms": rounded(percentile(outcome.latencies_ms, 50)),
        "p99_ms": rounded(percentile(outcome.latencies_ms, 99)),
        "max_ms": rounded(max(outcome.latencies_ms, default=0.0)),
    }
    if job.mode == "open":
        report["concurrency"] = None
        report["target_rate_per_s"] = job.rate
        report.update({k: rounded(v, 3) for k, v in schedule.items() if k != "load_generator_cpu_s"})
        span = schedule.get("send_span_s", 0.0)
        report["sent_rate_per_s"] = rounded((schedule["sent"] - 1) / span if span else 0.0, 1)
        report["arrivals"] = outcome.arrivals
    else:
        report["concurrency"] = job.concurrency
    report["load_generator_cpu_percent"] = rounded(
        100 * schedule["load_generator_cpu_s"] / elapsed if elapsed else 0.0, 1
    )
    return report


def main() -> None:
    job_path, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    out_path.write_text(json.dumps(asyncio.run(run(Job.load(job_path)))))


if __name__ == "__main__":
    main()
