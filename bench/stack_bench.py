"""Measurements on a running Stack: idle memory, gateway vs echo, end-to-end welcome-notice latency."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prasmes_devtools.devstack import Stack
from prasmes_runtime import registry
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.servers import free_port
from prasmes_testing.support import personal_code

from bench import procs
from bench.stats import percentile, rounded, summary_ms
from bench.wrk_run import Request

STACK_ENV = {"DEV_MODE": "true", "RATE_LIMIT_PER_MINUTE": "10000000", "RATE_LIMIT_BURST": "1000000"}
ACCOUNTS_PATH = "/api/accounts/accounts"
NOTICES_PATH = "/api/notifications/notifications"


class Codes:
    """Distinct valid personal codes across the whole run."""

    def __init__(self) -> None:
        self._next = 0

    def take(self) -> str:
        self._next += 1
        return personal_code(self._next)


@dataclass(frozen=True)
class Learners:
    """Pre-minted tokens and distinct personal codes, one learner per account request."""

    requests: list[dict[str, Any]]
    tokens: dict[str, str]

    @classmethod
    def mint(cls, issuer: TokenIssuer, codes: Codes, prefix: str, count: int) -> Learners:
        tokens = {f"{prefix}-{i}": "" for i in range(count)}
        requests = []
        for subject in tokens:
            tokens[subject] = issuer.issue(subject, ["learner"])
            requests.append(
                {
                    "tag": subject,
                    "headers": {"Authorization": f"Bearer {tokens[subject]}"},
                    "json": {"personal_code": codes.take()},
                }
            )
        return cls(requests, tokens)


# --------------------------------------------------------------------------- idle memory


def idle_footprint(stack: Stack, idle_seconds: float) -> dict[str, Any]:
    """Sit idle, then read each process's VmRSS (of its largest process: with API_WORKERS > 1 uvicorn's workers are
    children of the one started); also the CPU the idle stack burnt meanwhile, children included."""
    pids = {name: process.pid for name, process in stack.processes.items()}
    before = {name: procs.tree_cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(idle_seconds)
    cpu = {
        name: round(100 * (procs.tree_cpu_seconds(pid) - before[name]) / idle_seconds, 1) for name, pid in pids.items()
    }
    return {
        "idle_seconds": idle_seconds,
        "rss_mb": {name: procs.largest_rss_mb(pid) for name, pid in pids.items()},
        "idle_cpu_percent": cpu,
    }


# --------------------------------------------------------------------------- gateway vs echo


def gateway_vs_echo(
    stack: Stack,
    issuer: TokenIssuer,
    codes: Codes,
    seconds: float,
    warmup_seconds: float,
    concurrency: int,
    work_dir: Path,
) -> dict[str, Any]:
    """The same kind of requests (a learner's token, a personal-code body) against the echo app (under the
    stack's own uvicorn flags), the gateway and, for reference, the accounts service directly; closed loop with
    wrk (`bench.wrk_run`), `seconds` per figure after `warmup_seconds`, every account request its own learner
    and code. Each figure has the CPU time every process spent per request (`cpu_ms_per_request`, wrk's too)."""
    from bench.hotpath import Bench, Plan

    bench = Bench(Plan(False, seconds, warmup_seconds, 0, connections=concurrency), work_dir)
    serial = iter(range(10**9))

    def openings(path: str) -> Callable[[int], list[Request]]:
        def build(count: int) -> list[Request]:
            requests = []
            for _ in range(count):
                token = issuer.issue(f"gve{os.getpid()}-{next(serial)}", ["learner"])
                body = {"personal_code": codes.take()}
                requests.append(Request.json("POST", path, body, {"Authorization": f"Bearer {token}"}))
            return requests

        return build

    port = free_port()
    flags = procs.uvicorn_flags(stack.processes["gateway"].pid, registry.entry("gateway").factory)
    with procs.echo_server(port, work_dir / "echo.log", flags) as echo_process:
        echo_posts = openings("/echo")(1000)
        echo = bench.run("echo", f"http://127.0.0.1:{port}", lambda n: echo_posts, {"echo": echo_process.pid})
    pids = {name: process.pid for name, process in stack.processes.items()}
    gateway = bench.run("gateway", stack.gateway_url, openings(ACCOUNTS_PATH), pids, mode="once")
    accounts = bench.run("accounts-direct", stack.url("accounts"), openings("/accounts"), pids, mode="once")
    ratio = gateway["requests_per_s"] / echo["requests_per_s"] if echo["requests_per_s"] else None
    return {
        "load_generator": "wrk",
        "concurrency": concurrency,
        "seconds": seconds,
        "warmup_seconds": warmup_seconds,
        "gateway_open_account": gateway,
        "echo": echo,
        "accounts_direct_open_account": accounts,
        "ratio_rps": None if ratio is None else round(ratio, 3),
    }


# --------------------------------------------------------------------------- end-to-end latency


def e2e_latency(stack: Stack, learners: Learners, warmup: int, rate: float, work_dir: Path) -> dict[str, Any]:
    """Open-loop account openings; then each welcome notice's created_at minus the 201's arrival.

    The warm-up accounts are opened first and their notices awaited, so that the measured run sees a
    pipeline in its steady state (consumer joined, connections open), not the stack's start-up."""
    warm = learners.requests[:warmup]
    warm_started = time.monotonic()
    asyncio.run(_open_accounts(stack.gateway_url, warm))
    warm_created, _ = asyncio.run(
        _notices_created(stack.gateway_url, {r["tag"]: learners.tokens[r["tag"]] for r in warm})
    )
    warm_seconds = time.monotonic() - warm_started
    measured = learners.requests[warmup:]
    job = {
        "mode": "open",
        "url": stack.gateway_url + ACCOUNTS_PATH,
        "requests": measured,
        "warmup": 0,
        "concurrency": 1,
        "rate": rate,
        "expect": 201,
        "max_seconds": len(measured) / rate + 30,
    }
    load = procs.run_load(job, work_dir, f"e2e-{stack.bus}")
    arrivals = {a["tag"]: a["t0"] for a in load.pop("arrivals")}
    created, naive = asyncio.run(_notices_created(stack.gateway_url, {s: learners.tokens[s] for s in arrivals}))
    return {
        "bus": stack.bus,
        **_latencies(arrivals, created),
        "naive_created_at": naive,
        "target_rate_per_s": rate,
        "achieved_rate_per_s": load["sent_rate_per_s"],
        "warmup": {"accounts": len(warm), "notices": len(warm_created), "seconds": round(warm_seconds, 2)},
        "api": load,
    }


def _latencies(arrivals: dict[str, float], created: dict[str, float]) -> dict[str, Any]:
    """created_at - t0 per account, clamped at 0; with the median per second of the run, to tell a
    steady delay from a backlog that grows."""
    first = min(arrivals.values(), default=0.0)
    raw = {s: (created[s] - t0) * 1000 for s, t0 in arrivals.items() if s in created}
    by_second: dict[int, list[float]] = {}
    for subject, ms in raw.items():
        by_second.setdefault(int(arrivals[subject] - first), []).append(max(0.0, ms))
    return {
        **summary_ms([max(0.0, ms) for ms in raw.values()]),
        "accounts_opened": len(arrivals),
        "notices_missing": len(arrivals) - len(raw),
        "stored_before_201_arrived": sum(ms < 0 for ms in raw.values()),
        "unclamped_min_ms": rounded(min(raw.values(), default=None)),
        "p50_ms_by_second": [rounded(percentile(v, 50)) for _, v in sorted(by_second.items())],
    }


async def _open_accounts(base_url: str, requests: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as client:
        for request in requests:
            answer = await client.post(ACCOUNTS_PATH, json=request["json"], headers=request["headers"])
            if answer.status_code != 201:
                raise RuntimeError(f"warm-up account not opened: {answer.status_code} {answer.text[:300]}")


async def _notices_created(base_url: str, tokens: dict[str, str], timeout: float = 60) -> tuple[dict[str, float], int]:
    """Each learner's first notice's created_at (epoch seconds), polling until all arrived or timeout."""
    created: dict[str, float] = {}
    naive = 0
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base_url, timeout=10, trust_env=False) as client:

        async def fetch(subject: str) -> None:
            nonlocal naive
            async with limit:
                answer = await client.get(NOTICES_PATH, headers={"Authorization": f"Bearer {tokens[subject]}"})
            items = answer.json().get("items", []) if answer.status_code == 200 else []
            if items:
                at = datetime.fromisoformat(items[-1]["created_at"])
                naive += at.tzinfo is None
                created[subject] = at.replace(tzinfo=at.tzinfo or UTC).timestamp()

        deadline = time.monotonic() + timeout
        while len(created) < len(tokens) and time.monotonic() < deadline:
            await asyncio.gather(*(fetch(s) for s in tokens if s not in created))
            if len(created) < len(tokens):
                await asyncio.sleep(0.5)
    return created, naive
