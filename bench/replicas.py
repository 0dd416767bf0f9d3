"""Account opening through the gateway with one and with two replicas of accounts: `python -m bench.replicas [--quick]`.

In one run, on Kafka + PostgreSQL (more than one worker of a service needs them: `Stack.replicas`), started once: the
gateway and accounts, first with one replica of accounts (its api process and its worker), then with two (both api
replicas in the gateway's SERVICE_URLS, which spreads the requests over them in turn), each on fresh databases.
Closed loop with wrk (`bench.hotpath.Bench`: 2 threads, 32 connections, 10 s per figure after a 2 s warm-up;
`--quick`: 5 s after 1 s), every request its own learner and personal code, sent once. Beside requests/s and latency:
the CPU milliseconds per request of every process (Kafka and PostgreSQL too), and how many requests each api
replica answered (from its own /metrics). Every other process count stays as `make run` has it (API_WORKERS, one
gateway process): the figure is what a second replica buys on this machine, not on one with a core per process.

Beside the measurements, the capacity model's prediction (`bench.capacity.this_machine`, simpy) for both, fed the
CPU per process that the one-replica figure measured: for one replica a check of the model against the same run, for
two a prediction from nothing the two-replica figure measured.

Writes `bench/out/replicas.json` and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from prasmes_devtools.devstack import Stack
from prasmes_testing.servers import create_database, kafka_server, postgres_server

from bench import capacity, procs
from bench.hotpath import ACCOUNTS, OUT_DIR, Bench, Learners, Plan, _opening
from bench.run import _machine, _source, _start
from bench.stack_bench import STACK_ENV

OUT = OUT_DIR / "replicas.json"
NAMES = ("gateway", "accounts")
CONFIGURATIONS = (1, 2)
"""Replicas of accounts, measured in this order."""
OPENED = 'prasmes_http_requests_total{method="POST",route="/accounts",status="201"}'


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str, dict[str, int]]]:
    """Kafka and PostgreSQL for the whole run: (bootstrap, server URL, their pids for the CPU figures)."""
    with kafka_server() as bootstrap, postgres_server() as server_url:
        pids: dict[str, int] = {}
        for name, port in (("kafka", int(bootstrap.rsplit(":", 1)[1])), ("postgres", urlsplit(server_url).port)):
            pid = procs.listener_pid(port) if port else None
            if pid is not None:
                pids[name] = pid
        yield bootstrap, server_url, pids


def measure(bench: Bench, replicas: int, bootstrap: str, server_url: str, servers: dict[str, int]) -> dict[str, Any]:
    """One stack with `replicas` of accounts: account opening through the gateway."""
    suffix = f"{os.getpid()}_{replicas}_{time.monotonic_ns() % 10**9}"
    stack = Stack(
        var_dir=bench.work / f"stack-{replicas}",
        bus="kafka",
        kafka_bootstrap=bootstrap,
        database_urls={"accounts": create_database(server_url, f"replicas_accounts_{suffix}")},
        extra_env=STACK_ENV,
        replicas={"accounts": replicas},
    )
    try:
        _start(stack, timeout=120, names=NAMES)
        learners = Learners(stack.token_issuer(), f"rep{replicas}-{random.randrange(10**6)}")
        pids = {**{name: process.pid for name, process in stack.processes.items()}, **servers}
        before = answered(stack)
        report = bench.run(
            f"open_account_{replicas}", stack.gateway_url, _opening(learners, ACCOUNTS), pids, mode="once"
        )
        after = answered(stack)
    finally:
        stack.stop()
    spread = {url: after[url] - before[url] for url in after}
    return {"replicas": replicas, "processes": sorted(pids), "answered_by_replica": spread, **report}


def answered(stack: Stack) -> dict[str, int]:
    """The account openings each api replica of accounts has answered 201 (its /metrics)."""
    counts = {}
    for url in stack.api_urls("accounts"):
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        lines = [line for line in metrics.splitlines() if line.startswith(OPENED)]
        counts[url] = int(float(lines[0].rsplit(" ", 1)[1])) if lines else 0
    return counts


MODELLED = ("gateway", "accounts", "accounts-worker", "kafka", "postgres")
"""The processes of the one-replica figure whose CPU per account the model is given."""


def predicted(results: dict[str, Any], connections: int) -> dict[str, Any]:
    """The model's account opening on this machine with one and with two replicas, from the one-replica run's CPU."""
    one = results.get("accounts_1", {})
    if "cpu_ms_per_request" not in one:
        return {}
    measured = {name: ms for name, ms in one["cpu_ms_per_request"].items() if name in MODELLED}
    inputs = capacity.Inputs.load()
    models = {n: capacity.this_machine(inputs, connections, n, cpu_ms=measured) for n in CONFIGURATIONS}
    return {f"accounts_{n}": model for n, model in models.items()} | {"cpu_ms_given": measured}


def compare(results: dict[str, Any]) -> dict[str, Any]:
    """Two replicas against one: requests/s and CPU per request (all processes), as ratios."""
    one, two = results.get("accounts_1", {}), results.get("accounts_2", {})
    if "requests_per_s" not in one or "requests_per_s" not in two:
        return {}
    cpu_one, cpu_two = one["cpu_ms_per_request"].get("total"), two["cpu_ms_per_request"].get("total")
    return {
        "requests_per_s_ratio": round(two["requests_per_s"] / one["requests_per_s"], 3)
        if one["requests_per_s"]
        else None,
        "cpu_ms_per_request_ratio": round(cpu_two / cpu_one, 3) if cpu_one and cpu_two else None,
    }


def table(results: dict[str, Any]) -> str:
    rows = [
        f"{'accounts replicas':18} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'CPU ms/req':>10} "
        f"{'model req/s':>11} {'model p99':>9}  spread"
    ]
    for replicas in CONFIGURATIONS:
        r = results.get(f"accounts_{replicas}", {})
        if "error" in r or not r:
            rows.append(f"{replicas:<18} {r.get('error', 'not measured')}")
            continue
        cpu = r["cpu_ms_per_request"]
        spread = "/".join(str(n) for n in r["answered_by_replica"].values())
        model = results.get("predicted", {}).get(f"accounts_{replicas}", {})
        rows.append(
            f"{replicas:<18} {r['requests_per_s']:>8} {r['p50_ms']!s:>7} {r['p99_ms']!s:>7} {r['errors']:>6} "
            f"{cpu.get('total')!s:>10} {model.get('requests_per_s', '-')!s:>11} "
            f"{model.get('latency', {}).get('p99_ms', '-')!s:>9}  {spread}"
        )
    rows.append(f"two / one: {results.get('two_over_one', {})}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 s per figure after 1 s of warm-up")
    plan = Plan.of(parser.parse_args().quick)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="prasmes-replicas-"))
    bench = Bench(plan, work)
    results: dict[str, Any] = {}
    print(f"replicas{' (quick)' if plan.quick else ''}; work files in {work}", flush=True)
    with servers() as (bootstrap, server_url, server_pids):
        for replicas in CONFIGURATIONS:
            print(f"accounts x{replicas} ...", flush=True)
            try:
                results[f"accounts_{replicas}"] = measure(bench, replicas, bootstrap, server_url, server_pids)
            except Exception as exc:
                traceback.print_exc()
                results[f"accounts_{replicas}"] = {"error": f"{type(exc).__name__}: {exc}"}
    results["two_over_one"] = compare(results)
    results["predicted"] = predicted(results, plan.connections)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "bus": "kafka",
        "machine": _machine(),
        "source": _source(),
        "plan": asdict(plan),
        "api_workers": int(os.environ.get("API_WORKERS", "1")),
        "duration_s": round(time.monotonic() - started, 1),
        "results": results,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    print(f"written to {OUT} in {report['duration_s']} s")
    if any("error" in r for r in results.values()):
        print(f"some measurements failed; logs kept in {work}")
        raise SystemExit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
