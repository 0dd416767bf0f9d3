"""The foundation benchmark: `python -m bench.run [--quick]` (or `make bench`).

Measures on this machine, in one run, and writes bench/out/foundation.json:

1. account opening through the gateway vs a bare FastAPI echo endpoint served the same way (closed loop, wrk);
2. outbox relay events/s (PostgreSQL) vs a raw aiokafka producer on the same broker;
3. latency from the API's 201 to the stored welcome notice at 100 accounts/s (embedded; Kafka+PostgreSQL);
4. resident memory of each process of the idle stack.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from prasmes_devtools.devstack import BACKENDS, Stack, free_base_port
from prasmes_testing.servers import create_database, kafka_server, postgres_server

from bench import procs, relay_bench, stack_bench
from bench.stack_bench import STACK_ENV, Codes, Learners

PACKAGES = ("fastapi", "uvicorn", "httpx", "sqlalchemy", "aiosqlite", "asyncpg", "aiokafka")
OUT = Path(__file__).resolve().parent / "out" / "foundation.json"


@dataclass(frozen=True)
class Plan:
    quick: bool
    seconds: float
    """Closed loop (wrk): seconds per measured figure, after `warmup_seconds` of warm-up."""
    warmup_seconds: float
    concurrency: int
    events: int
    e2e_seconds: float
    e2e_rate: float = 100.0
    e2e_warmup: int = 20
    low_rate: float = 25.0
    """A second, lower e2e rate, for the latency of a pipeline that is not saturated (not a target)."""
    idle_seconds: float = 5.0

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick=True, seconds=3, warmup_seconds=1, concurrency=32, events=3000, e2e_seconds=3)
        return cls(quick=False, seconds=10, warmup_seconds=2, concurrency=32, events=20000, e2e_seconds=10)


# --------------------------------------------------------------------------- phases


def _embedded_phase(plan: Plan, work: Path, codes: Codes, results: dict[str, Any]) -> None:
    """One stack on the `make run` defaults: idle memory, then e2e latency, then gateway vs echo."""
    stack = Stack(var_dir=work / "stack-embedded", extra_env=STACK_ENV)
    try:
        _start(stack)
        issuer = stack.token_issuer()
        _guard(results, "idle_rss_mb", lambda: stack_bench.idle_footprint(stack, plan.idle_seconds))
        _guard(results["e2e_latency"], "embedded", lambda: _e2e(stack, plan, work, codes, "e2e"))
        low = f"embedded_at_{plan.low_rate:g}_per_s"
        _guard(results["e2e_latency"], low, lambda: _e2e(stack, plan, work, codes, "e2l", plan.low_rate))
        _guard(
            results,
            "gateway_vs_echo",
            lambda: stack_bench.gateway_vs_echo(
                stack, issuer, codes, plan.seconds, plan.warmup_seconds, plan.concurrency, work
            ),
        )
    finally:
        stack.stop()


def _e2e(stack: Stack, plan: Plan, work: Path, codes: Codes, prefix: str, rate: float | None = None) -> dict[str, Any]:
    rate = rate or plan.e2e_rate
    count = plan.e2e_warmup + int(plan.e2e_seconds * rate)
    learners = Learners.mint(stack.token_issuer(), codes, f"{prefix}{os.getpid()}", count)
    return stack_bench.e2e_latency(stack, learners, plan.e2e_warmup, rate, work)


def _kafka_phase(plan: Plan, work: Path, codes: Codes, results: dict[str, Any]) -> None:
    """Kafka and PostgreSQL: e2e latency on a Kafka stack, then the relay vs a raw producer.

    In this order because the relay publishes its events to the real accounts.accounts topic: a Kafka
    stack started after it would first have to work through that backlog of welcome notices."""
    suffix = f"{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with kafka_server() as bootstrap, postgres_server() as server_url:
        urls = {name: create_database(server_url, f"bench_{name}_{suffix}") for name in BACKENDS}
        stack = Stack(
            var_dir=work / "stack-kafka",
            bus="kafka",
            kafka_bootstrap=bootstrap,
            database_urls=urls,
            extra_env=STACK_ENV,
        )
        try:
            _start(stack, timeout=120)
            _guard(results["e2e_latency"], "kafka", lambda: _e2e(stack, plan, work, codes, "e2k"))
        finally:
            stack.stop()
        _guard(results, "relay_vs_raw", lambda: relay_bench.relay_vs_raw(bootstrap, server_url, plan.events, suffix))


def _start(stack: Stack, timeout: float = 60, attempts: int = 3, names: tuple[str, ...] | None = None) -> None:
    """Start on a free block of ports. Other test runs on this machine take ports too: a block found free
    may be taken before a service binds it, so a failed start is retried on another block."""
    replicas = max(stack.replica_count(name) for name in BACKENDS)  # a block of ports per replica
    for attempt in range(1, attempts + 1):
        stack.base_port = free_base_port(random.randrange(30000, 50000), replicas=replicas)
        try:
            stack.start(names, timeout=timeout)
            return
        except RuntimeError:
            stack.stop()
            if attempt == attempts:
                raise
            print(f"  stack start failed (attempt {attempt}), retrying on other ports", flush=True)


def _guard(into: dict[str, Any], key: str, measure: Callable[[], dict[str, Any]]) -> None:
    """Run one measurement once the machine is quiet; a failure is recorded in its place and the others
    still run. Beside the figures: the load average before and how busy the whole machine was during."""
    quiet = procs.wait_quiet()
    started, load, since = time.monotonic(), os.getloadavg(), procs.machine_jiffies()
    context = {"quiet_wait": quiet, "loadavg_before": [round(x, 2) for x in load]}
    try:
        into[key] = measure()
    except Exception as exc:
        traceback.print_exc()
        into[key] = {"error": f"{type(exc).__name__}: {exc}"}
    into[key].update(context, machine_busy_percent_during=procs.busy_percent(since))
    print(f"  {key}: {time.monotonic() - started:.1f} s (waited {quiet['waited_s']} s for a quiet machine)", flush=True)


# --------------------------------------------------------------------------- report


def _machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split()
    memory_kb = int(meminfo[meminfo.index("MemTotal:") + 1])
    models = [
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    ]
    versions = {name: metadata.version(name) for name in PACKAGES}
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": models[0] if models else platform.processor(),
        "packages": versions,
    }


def _source() -> dict[str, Any]:
    """The commit measured, and whether tracked files differed from it (None outside a git checkout)."""
    root = OUT.parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD"], check=False, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "tracked_changes": None}
    return {"commit": commit, "tracked_changes": changed.returncode != 0}


def _target(target: str, value: float | None, met: Callable[[float], bool]) -> dict[str, Any]:
    return {"target": target, "value": value, "met": value is not None and met(value)}


def _targets(results: dict[str, Any]) -> dict[str, Any]:
    targets = {
        "gateway_vs_echo_ratio": _target(">= 0.30", results["gateway_vs_echo"].get("ratio_rps"), lambda v: v >= 0.30),
        "relay_vs_raw_ratio": _target(">= 0.50", results["relay_vs_raw"].get("ratio"), lambda v: v >= 0.50),
    }
    for bus in ("embedded", "kafka"):
        e2e = results["e2e_latency"].get(bus, {})
        targets[f"e2e_p99_ms_{bus}"] = _e2e_target(e2e) if "api" in e2e else _target("< 250", None, bool)
    for name, mb in results["idle_rss_mb"].get("rss_mb", {}).items():
        targets[f"idle_rss_mb_{name}"] = _target("< 150", mb, lambda v: v < 150)
    return targets


def _e2e_target(e2e: dict[str, Any]) -> dict[str, Any]:
    """p99 < 250 ms, counted as met only if the 100/s were really offered and every request succeeded."""
    api = e2e["api"]
    sustained = e2e["achieved_rate_per_s"] >= 95 and not api["errors"] and not api["not_sent"]
    complete = not e2e["notices_missing"]
    target = _target("< 250", e2e["p99_ms"], lambda v: v < 250 and sustained and complete)
    return {**target, "rate_sustained_without_errors": sustained, "all_notices_arrived": complete}


def _table(report: dict[str, Any]) -> str:
    rows = [f"{'measure':34} {'value':>12} {'target':>10}  met"]
    for name, t in report["targets"].items():
        value = "n/a" if t["value"] is None else f"{t['value']:g}"
        rows.append(f"{name:34} {value:>12} {t['target']:>10}  {'yes' if t['met'] else 'NO'}")
    r = report["results"]
    gw, rl = r["gateway_vs_echo"], r["relay_vs_raw"]
    if "echo" in gw:
        runs = (
            ("gateway POST /api/accounts/accounts", gw["gateway_open_account"]),
            ("accounts POST /accounts (direct)", gw["accounts_direct_open_account"]),
            ("echo POST /echo", gw["echo"]),
        )
        for label, x in runs:
            rows.append(
                f"  {label}: {x['requests_per_s']} req/s, p50 {x['p50_ms']} ms, p99 {x['p99_ms']} ms, "
                f"errors {x['errors']}"
            )
    if "relay" in rl:
        rows.append(
            f"  relay {rl['relay']['events_per_s']} events/s, raw {rl['raw_producer']['events_per_s']} events/s"
        )
    for bus, e in r["e2e_latency"].items():
        if "p50_ms" in e:
            rows.append(
                f"  e2e {bus}: p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms, max {e['max_ms']} ms, "
                f"n={e['count']}, rate {e['achieved_rate_per_s']}/s, missing {e['notices_missing']}"
            )
    return "\n".join(rows)


def _phase(errors: dict[str, str], name: str, phase: Callable[[], None]) -> None:
    print(f"{name} ...", flush=True)
    try:
        phase()
    except Exception as exc:
        traceback.print_exc()
        errors[name] = f"{type(exc).__name__}: {exc}"


def _failed(results: dict[str, Any]) -> bool:
    measured = [*results.values(), *results["e2e_latency"].values()]
    return any("error" in m for m in measured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer requests and events, shorter e2e run")
    plan = Plan.of(parser.parse_args().quick)
    started = time.monotonic()
    results: dict[str, Any] = {"gateway_vs_echo": {}, "relay_vs_raw": {}, "e2e_latency": {}, "idle_rss_mb": {}}
    codes, phase_errors = Codes(), dict[str, str]()
    work = Path(tempfile.mkdtemp(prefix="prasmes-bench-"))
    _phase(phase_errors, "embedded stack", lambda: _embedded_phase(plan, work, codes, results))
    _phase(phase_errors, "kafka + postgresql", lambda: _kafka_phase(plan, work, codes, results))
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "source": _source(),
        "quick": plan.quick,
        "plan": plan.__dict__,
        "duration_s": round(time.monotonic() - started, 1),
        "results": results,
        "targets": _targets(results),
    }
    if phase_errors:
        report["errors"] = phase_errors
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(_table(report))
    print(f"written to {OUT} in {report['duration_s']} s")
    if phase_errors or _failed(results):
        print(f"some measurements failed; logs kept in {work}")
        raise SystemExit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
