"""A deadline surge: many learners applying to one funding project at once, through the gateway.

    python -m bench.surge [--quick] [--learners N]

Each learner has an account (opened through the gateway before the timed part); then all of them
submit their application to the same project in a closed loop of 64 clients, as on a window's last
evening. Baseline: the bare FastAPI echo served the same way, same requests. Runs on the `make run`
defaults (SQLite, embedded log) and on PostgreSQL + Kafka. Writes bench/out/surge.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prasmes_devtools.devstack import BACKENDS, Stack
from prasmes_testing.servers import create_database, free_port, kafka_server, postgres_server

from bench import procs
from bench.run import _machine, _start
from bench.stack_bench import STACK_ENV, Codes, Learners

CONCURRENCY = 64
PROJECT = "SURGE"


def _create_project(stack: Stack) -> None:
    admin = stack.token_issuer().issue("bench-admin", ["agency_admin"])
    now = datetime.now(UTC)
    response = httpx.post(
        f"{stack.gateway_url}/api/accounts/funding-projects",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "code": PROJECT,
            "name": "Deadline surge",
            "budget": "100000000.00",
            "grant_per_person": "500.00",
            "window_opens_at": (now - timedelta(days=30)).isoformat(),
            "window_closes_at": (now + timedelta(hours=6)).isoformat(),
            "enrolment_deadline": "2030-01-01",
        },
        timeout=30,
    )
    response.raise_for_status()


def _applications(learners: Learners) -> list[dict[str, Any]]:
    return [
        {"tag": r["tag"], "headers": r["headers"], "json": {"project_code": PROJECT, "learning_need": "datu analīze"}}
        for r in learners.requests
    ]


def _surge(stack: Stack, learners: Learners, work: Path, name: str) -> dict[str, Any]:
    common = {"mode": "closed", "warmup": 0, "concurrency": CONCURRENCY, "max_seconds": 300}
    opened = procs.run_load(
        {**common, "requests": learners.requests, "expect": 201, "url": stack.gateway_url + "/api/accounts/accounts"},
        work,
        f"{name}-accounts",
    )
    assert opened["errors"] == 0, opened
    applications = _applications(learners)
    surge = procs.run_load(
        {**common, "requests": applications, "expect": 201, "url": stack.gateway_url + "/api/accounts/applications"},
        work,
        f"{name}-surge",
    )
    port = free_port()
    with procs.echo_server(port, work / "echo.log"):
        echo = procs.run_load(
            {**common, "requests": applications, "expect": 200, "url": f"http://127.0.0.1:{port}/echo"},
            work,
            f"{name}-echo",
        )
    stored = _stored(stack)
    return {
        "learners": len(applications),
        "concurrency": CONCURRENCY,
        "applications_stored": stored,
        "surge": surge,
        "echo": echo,
        "ratio_rps": round(surge["requests_per_s"] / echo["requests_per_s"], 3) if echo["requests_per_s"] else None,
    }


def _stored(stack: Stack) -> int:
    officer = stack.token_issuer().issue("bench-officer", ["agency_officer"])
    page = httpx.get(
        f"{stack.gateway_url}/api/accounts/agency/applications?project_code={PROJECT}&limit=1",
        headers={"Authorization": f"Bearer {officer}"},
        timeout=30,
    ).json()
    return int(page["total"])


def _run(stack: Stack, count: int, work: Path, name: str, timeout: float) -> dict[str, Any]:
    try:
        _start(stack, timeout=timeout)
        _create_project(stack)
        learners = Learners.mint(stack.token_issuer(), Codes(), f"surge{os.getpid()}{name}", count)
        return _surge(stack, learners, work, name)
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 learners")
    parser.add_argument("--learners", type=int, default=2000)
    args = parser.parse_args()
    count = 300 if args.quick else args.learners
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="prasmes-surge-") as folder:
        work = Path(folder)
        stack = Stack(var_dir=work / "embedded", extra_env=STACK_ENV)
        results["embedded_sqlite"] = _run(stack, count, work, "embedded", 60)
        with kafka_server() as bootstrap, postgres_server() as server:
            suffix = time.monotonic_ns()
            urls = {name: create_database(server, f"surge_{name}_{suffix}") for name in BACKENDS}
            stack = Stack(
                var_dir=work / "kafka", bus="kafka", kafka_bootstrap=bootstrap, database_urls=urls, extra_env=STACK_ENV
            )
            results["kafka_postgresql"] = _run(stack, count, work, "kafka", 120)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "quick": args.quick,
        "results": results,
    }
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "surge.json").write_text(json.dumps(report, indent=2))
    for backend, r in results.items():
        s, e = r["surge"], r["echo"]
        print(
            f"{backend}: surge {s['requests_per_s']}/s p50 {s['p50_ms']} p99 {s['p99_ms']} errors {s['errors']} "
            f"stored {r['applications_stored']}/{r['learners']} | echo {e['requests_per_s']}/s "
            f"p50 {e['p50_ms']} p99 {e['p99_ms']} | ratio {r['ratio_rps']}"
        )


if __name__ == "__main__":
    main()
