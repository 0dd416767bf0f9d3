"""The hot path's regression guard: `python -m bench.quick [--fail-above PCT]` (`make bench-quick`, about 1 minute).

On the embedded stack (`make run`'s defaults, rate limit lifted), with wrk for 5 s per figure after 1 s of
warm-up (as `bench.hotpath --quick`, 32 connections): the echo baseline (`POST` and `GET /echo`), account opening
through the gateway (each its own learner and personal code) and the funding-projects list through the gateway.
Reported, beside requests/s and latency: the CPU milliseconds per request of the gateway (on a write and on a
read), of accounts on a write (account opening) and on a read (the list), and of the echo; and each of them
divided by the echo's, a figure that changes little from one machine to another.

Writes `bench/out/quick.json` and prints a table with the change since the run before (the previous
quick.json). `--fail-above PCT` exits 1 when a CPU figure (relative to the echo's) grew by more than PCT %.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import hotpath
from bench.run import _machine, _source

OUT = hotpath.OUT_DIR / "quick.json"


def measure(work: Path) -> dict[str, Any]:
    plan = hotpath.Plan.of(quick=True)
    bench = hotpath.Bench(plan, work)
    results: dict[str, Any] = {}
    results.update(
        hotpath.echo_baseline(bench, hotpath.stack_flags(work), hotpath.Learners(hotpath._issuer(work), "e"))
    )
    with hotpath.started_stack("embedded", plan, work, seed=False) as (stack, servers, _):
        learners = hotpath.Learners(stack.token_issuer(), f"quick{random.randrange(10**6)}")
        pids = hotpath.stack_pids(stack, servers)
        results["open_account_gateway"] = bench.run(
            "open_account_gateway", stack.gateway_url, hotpath._opening(learners, hotpath.ACCOUNTS), pids, mode="once"
        )
        results["projects_gateway"] = bench.run(
            "projects_gateway", stack.gateway_url, hotpath._get(hotpath.PROJECTS), pids
        )
    hotpath.add_ratios(results)
    return results


def headline(results: dict[str, Any]) -> dict[str, float | None]:
    """The guarded figures: CPU ms per request, and the same divided by the echo's (POST for writes, GET for reads)."""

    def cpu(scenario: str, process: str) -> float | None:
        value = results.get(scenario, {}).get("cpu_ms_per_request", {}).get(process)
        return None if value is None else float(value)

    figures = {
        "echo_post_cpu_ms": cpu("echo_post", "echo"),
        "echo_get_cpu_ms": cpu("echo_get", "echo"),
        "gateway_write_cpu_ms": cpu("open_account_gateway", "gateway"),
        "gateway_read_cpu_ms": cpu("projects_gateway", "gateway"),
        "accounts_write_cpu_ms": cpu("open_account_gateway", "accounts"),
        "accounts_read_cpu_ms": cpu("projects_gateway", "accounts"),
    }
    for name, echo in (
        ("gateway_write", "echo_post"),
        ("gateway_read", "echo_get"),
        ("accounts_write", "echo_post"),
        ("accounts_read", "echo_get"),
    ):
        value, base = figures[f"{name}_cpu_ms"], figures[f"{echo}_cpu_ms"]
        figures[f"{name}_x_echo"] = round(value / base, 1) if value is not None and base else None
    return figures


def _previous() -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        previous: dict[str, Any] = json.loads(OUT.read_text())
        return previous
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fail-above", type=float, default=None, metavar="PCT")
    args = parser.parse_args()
    started = time.monotonic()
    previous = _previous()
    work = Path(tempfile.mkdtemp(prefix="prasmes-quick-"))
    results = measure(work)
    figures = headline(results)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "source": _source(),
        "duration_s": round(time.monotonic() - started, 1),
        "headline": figures,
        "results": results,
        "previous": {"date": previous.get("date"), "headline": previous.get("headline")} if previous else None,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(hotpath.table(results, f"bench-quick, embedded bus, {report['date']}"))
    before = previous.get("headline") or {}
    grown = []
    print(f"\n{'CPU per request':24} {'now':>9} {'before':>9} {'change':>8}")
    for name, value in figures.items():
        old = before.get(name)
        change = (value / old - 1) * 100 if value is not None and old else None
        if change is not None and name.endswith("_x_echo") and args.fail_above is not None and change > args.fail_above:
            grown.append(name)
        shown = "" if change is None else f"{change:+.0f} %"
        print(f"{name:24} {value!s:>9} {old!s:>9} {shown:>8}")
    print(f"written to {OUT} in {report['duration_s']} s")
    shutil.rmtree(work, ignore_errors=True)
    if grown:
        print(f"CPU per request grew by more than {args.fail_above} %: {', '.join(grown)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
