"""The shared hot path: `python -m bench.hotpath [--quick] [--bus kafka] [--no-profile]`.

Closed loop with wrk (`bench.wrk_run`: 2 threads, 32 connections, 10 s per figure after a 2 s warm-up; `--quick`:
5 s after 1 s), one figure after the other, each once the machine is quiet (`bench.procs.wait_quiet`):

* the baseline: the bare FastAPI echo (`bench/echo_app.py`, `POST /echo` with the account request's token and
  body, `GET /echo`) under uvicorn with the stack's own server flags (read from a stack process's command line);
* account opening (`POST /api/accounts/accounts`) through the gateway, and straight to accounts: every request its
  own learner (token minted before timing) and its own personal code, each sent once;
* the public funding-projects list (`GET /api/accounts/funding-projects`), through the gateway and straight;
* a public catalogue page (`GET /api/catalog/public/programmes`, the first 20 by title, or the older
  `/api/catalog/catalog/public/programmes`), through the gateway and straight, over `Plan.programmes` published
  programmes seeded into the catalog's database before it starts.

The stack is `prasmes_devtools.devstack.Stack` with the rate limit lifted (`bench.stack_bench.STACK_ENV`), on the
embedded bus (SQLite, the embedded event log) or, with `--bus kafka`, on Kafka + PostgreSQL
(`prasmes_testing.servers`). Beside every figure: the CPU milliseconds per request of every process of the stack
(as `Stack.processes` lists them; Kafka and PostgreSQL too on that bus), of wrk, of the whole machine, and the
part of the machine's that none of them did ("other": other people's work). Then (not with `--no-profile`) py-spy
profiles under load (`bench.profiling`) and, without `--quick`, the tail diagnostics (`bench.tail`).

Writes `bench/out/hotpath.json` and `bench/out/hotpath-profile.json` (one entry per bus: a run on one bus keeps
the other's), flame graphs in `bench/out/profiles/`, and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from prasmes_devtools.devstack import BACKENDS, Stack, free_base_port
from prasmes_runtime import registry
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.servers import create_database, free_port, kafka_server, postgres_server
from prasmes_testing.support import personal_code

from bench import procs, profiling, tail
from bench.run import _machine, _source, _start
from bench.stack_bench import STACK_ENV
from bench.wrk_run import Request, run_wrk, write_requests

OUT_DIR = Path(__file__).resolve().parent / "out"
OUT = OUT_DIR / "hotpath.json"
PROFILE_OUT = OUT_DIR / "hotpath-profile.json"
PROFILE_DIR = OUT_DIR / "profiles"
ACCOUNTS = "/api/accounts/accounts"
PROJECTS = "/api/accounts/funding-projects"
QUIET_MAX_WAIT_S = 30.0
"""How long a figure waits for the machine to be quiet (less than 25 % busy over 2 s) before it is measured anyway
(10 s with --quick, as the other benchmarks);
`quiet_wait` and `other` in its CPU figures say what it got."""
CATALOGUE_PATHS = ("/api/catalog/public/programmes", "/api/catalog/catalog/public/programmes")


@dataclass(frozen=True)
class Plan:
    quick: bool
    seconds: float
    warmup_seconds: float
    profile_seconds: float
    programmes: int = 1000
    groups: int = 4000
    threads: int = 2
    connections: int = 32

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick=True, seconds=5, warmup_seconds=1, profile_seconds=4)
        return cls(quick=False, seconds=10, warmup_seconds=2, profile_seconds=10)


class Learners:
    """Learners with a token each (signed by the stack's identity key) and a personal code each, distinct across
    the whole run: an account-opening request is never sent twice."""

    def __init__(self, issuer: TokenIssuer, prefix: str) -> None:
        self.issuer, self.prefix, self.count = issuer, prefix, 0

    def openings(self, path: str, count: int) -> list[Request]:
        requests = []
        for _ in range(count):
            self.count += 1
            token = self.issuer.issue(f"{self.prefix}-{self.count}", ["learner"])
            body = {"personal_code": personal_code(self.count)}
            requests.append(Request.json("POST", path, body, {"Authorization": f"Bearer {token}"}))
        return requests


@dataclass
class Bench:
    """What the measurements of one run share."""

    plan: Plan
    work: Path

    def run(
        self,
        name: str,
        url: str,
        build: Callable[[int], list[Request]],
        pids: dict[str, int],
        *,
        mode: str = "cycle",
        seconds: float | None = None,
        connections: int | None = None,
    ) -> dict[str, Any]:
        """Warm up, wait for a quiet machine, then one measured wrk run with the CPU of every process in `pids`.
        Mode "once": as many fresh requests as 3x the warm-up's rate needs (the run is repeated once, with more,
        if they ran out anyway)."""
        seconds = seconds or self.plan.seconds
        connections = connections or self.plan.connections
        threads = min(self.plan.threads, connections)
        warm_file = self.work / f"{name}.warm.txt"
        warm_count = write_requests(warm_file, build(_warm_count(self.plan.warmup_seconds, mode)))
        warm = run_wrk(url, warm_file, threads=threads, connections=connections, seconds=self.plan.warmup_seconds)
        count = 200 if mode == "cycle" else _measured_count(warm, warm_count, seconds, connections)
        for attempt in (1, 2):
            requests_file = self.work / f"{name}.txt"
            write_requests(requests_file, build(count))
            quiet, load = procs.wait_quiet(max_wait=10 if self.plan.quick else QUIET_MAX_WAIT_S), os.getloadavg()
            before = procs.cpu_snapshot(pids)
            report = run_wrk(url, requests_file, threads=threads, connections=connections, seconds=seconds, mode=mode)
            after = procs.cpu_snapshot(pids)
            if not report["exhausted_threads"] or attempt == 2:
                break
            count *= 3
        extra = {"wrk": report["load_generator"]["cpu_s"]}
        report["cpu_ms_per_request"] = procs.cpu_ms_per_request(before, after, report["completed"], extra)
        report["machine_busy_percent_during"] = round(
            100 * (after["machine"] - before["machine"]) / (report["duration_s"] * (os.cpu_count() or 1)), 1
        )
        report.update(
            warmup={"seconds": self.plan.warmup_seconds, "requests_per_s": warm["requests_per_s"]},
            quiet_wait=quiet,
            loadavg_before=[round(x, 2) for x in load],
            requests_file_lines=count,
        )
        cpu = report["cpu_ms_per_request"]
        print(
            f"  {name}: {report['requests_per_s']} req/s, p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms, "
            f"errors {report['errors']}, CPU {cpu.get('total')} ms/req (wrk {cpu.get('wrk')}), "
            f"machine busy {report['machine_busy_percent_during']} %",
            flush=True,
        )
        return report


def _warm_count(seconds: float, mode: str) -> int:
    return 200 if mode == "cycle" else int(400 * seconds) + 100


def _measured_count(warm: dict[str, Any], lines: int, seconds: float, connections: int) -> int:
    rate = max(50.0, float(warm["requests_per_s"]))
    if warm["exhausted_threads"]:
        rate = max(rate, lines / warm["duration_s"]) * 3
    return math.ceil(3 * rate * seconds) + 4 * connections


# --------------------------------------------------------------------------- the baseline


def stack_flags(work: Path) -> list[str]:
    """The uvicorn flags of the stack's processes, read from a gateway started by devstack alone."""
    stack = Stack(var_dir=work / "flags", base_port=free_base_port(), extra_env=STACK_ENV)
    try:
        _start(stack, names=("gateway",))
        return procs.uvicorn_flags(stack.processes["gateway"].pid, registry.entry("gateway").factory)
    finally:
        stack.stop()


def echo_baseline(bench: Bench, flags: list[str], learners: Learners) -> dict[str, Any]:
    port = free_port()
    results: dict[str, Any] = {"uvicorn_flags": flags}
    with procs.echo_server(port, bench.work / "echo.log", flags) as echo:
        url, pids = f"http://127.0.0.1:{port}", {"echo": echo.pid}
        posts = learners.openings("/echo", 1000)
        results["echo_post"] = _guarded(lambda: bench.run("echo_post", url, lambda n: posts[:n], pids))
        results["echo_get"] = _guarded(lambda: bench.run("echo_get", url, lambda n: [Request("GET", "/echo")], pids))
    return results


# --------------------------------------------------------------------------- the stack


@contextlib.contextmanager
def started_stack(
    bus: str, plan: Plan, work: Path, *, seed: bool = True
) -> Iterator[tuple[Stack, dict[str, int], dict[str, Any]]]:
    """The stack (Kafka + PostgreSQL started first on that bus) with the catalogue seeded (unless not `seed`);
    yields the stack, the pids of the servers beside it (kafka, postgres) and what was seeded."""
    with contextlib.ExitStack() as exits:
        stack = Stack(var_dir=work / f"stack-{bus}", bus=bus, extra_env=STACK_ENV)
        servers: dict[str, int] = {}
        if bus == "kafka":
            bootstrap = exits.enter_context(kafka_server())
            server_url = exits.enter_context(postgres_server())
            suffix = f"{os.getpid()}_{time.monotonic_ns() % 10**9}"
            stack.kafka_bootstrap = bootstrap
            stack.database_urls = {name: create_database(server_url, f"hot_{name}_{suffix}") for name in BACKENDS}
            for name, port in (("kafka", int(bootstrap.rsplit(":", 1)[1])), ("postgres", urlsplit(server_url).port)):
                pid = procs.listener_pid(port) if port else None
                if pid is not None:
                    servers[name] = pid
        seeded = seed_catalogue(stack, plan) if seed else {}
        exits.callback(stack.stop)
        _start(stack, timeout=120 if bus == "kafka" else 60)
        yield stack, servers, seeded


def seed_catalogue(stack: Stack, plan: Plan) -> dict[str, Any]:
    """Published programmes and groups straight into the catalog's fresh database (bench.catalog_search's seed)."""
    try:
        from bench import catalog_search

        url = stack.database_urls.get("catalog") or f"sqlite+aiosqlite:///{stack.var_dir / 'catalog.db'}"
        stack.var_dir.mkdir(parents=True, exist_ok=True)
        seed_plan = catalog_search.Plan(
            plan.programmes, plan.groups, requests=0, warmup=0, concurrency=1, max_seconds=0
        )
        started = time.perf_counter()
        return {**catalog_search.seed(url, seed_plan), "seconds": round(time.perf_counter() - started, 1)}
    except Exception as exc:  # the other figures do not need it; the catalogue page is then an empty one
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}"}


def catalogue_paths(stack: Stack) -> tuple[str, str]:
    """(through the gateway, straight to catalog): the newer prefix if it answers, else the older one."""
    for path in CATALOGUE_PATHS:
        if httpx.get(stack.gateway_url + path, timeout=30).status_code == 200:
            return path, path.removeprefix("/api/catalog")
    raise RuntimeError(f"no catalogue page answered 200 at {CATALOGUE_PATHS}")


def stack_pids(stack: Stack, servers: dict[str, int]) -> dict[str, int]:
    return {**{name: process.pid for name, process in stack.processes.items()}, **servers}


def platform_scenarios(bench: Bench, stack: Stack, pids: dict[str, int], learners: Learners) -> dict[str, Any]:
    gateway, accounts, catalog = stack.gateway_url, stack.url("accounts"), stack.url("catalog")
    results: dict[str, Any] = {}

    def add(name: str, measure: Callable[[], dict[str, Any]]) -> None:
        results[name] = _guarded(measure)

    add(
        "open_account_gateway",
        lambda: bench.run("open_account_gateway", gateway, _opening(learners, ACCOUNTS), pids, mode="once"),
    )
    add(
        "open_account_direct",
        lambda: bench.run("open_account_direct", accounts, _opening(learners, "/accounts"), pids, mode="once"),
    )
    add("projects_gateway", lambda: bench.run("projects_gateway", gateway, _get(PROJECTS), pids))
    add(
        "projects_direct",
        lambda: bench.run("projects_direct", accounts, _get(PROJECTS.removeprefix("/api/accounts")), pids),
    )
    try:
        via, direct = catalogue_paths(stack)
    except Exception as exc:
        results["catalogue_gateway"] = results["catalogue_direct"] = {"error": f"{type(exc).__name__}: {exc}"}
        return results
    add("catalogue_gateway", lambda: {"path": via, **bench.run("catalogue_gateway", gateway, _get(via), pids)})
    add("catalogue_direct", lambda: {"path": direct, **bench.run("catalogue_direct", catalog, _get(direct), pids)})
    return results


def _opening(learners: Learners, path: str) -> Callable[[int], list[Request]]:
    return lambda n: learners.openings(path, n)


def _get(path: str) -> Callable[[int], list[Request]]:
    return lambda _: [Request("GET", path)]


def _guarded(measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return measure()
    except Exception as exc:
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}"}


BASELINES = {
    "open_account_gateway": "echo_post",
    "open_account_direct": "echo_post",
    "projects_gateway": "echo_get",
    "projects_direct": "echo_get",
    "catalogue_gateway": "echo_get",
    "catalogue_direct": "echo_get",
}


def add_ratios(results: dict[str, Any]) -> None:
    for name, baseline in BASELINES.items():
        figure, echo = results.get(name, {}), results.get(baseline, {})
        if echo.get("requests_per_s") and "requests_per_s" in figure:
            figure["baseline"] = baseline
            figure["ratio_to_echo"] = round(figure["requests_per_s"] / echo["requests_per_s"], 4)


# --------------------------------------------------------------------------- profiles


def profiles(bench: Bench, stack: Stack, learners: Learners, bus: str) -> dict[str, Any]:
    """py-spy under two loads through the gateway: account opening (the gateway's proxy path, accounts' write, the
    notifications consumer storing each welcome notice) and the funding-projects list (the proxy path, a read)."""
    seconds, out = bench.plan.profile_seconds, PROFILE_DIR
    names = {"gateway", "accounts", "notifications"}
    targets = {n: p for n, p in stack_pids(stack, {}).items() if n.split("-")[0] in names}
    count = math.ceil(400 * (2 * seconds + 8))
    openings = bench.work / "profile-openings.txt"
    write_requests(openings, learners.openings(ACCOUNTS, count))
    reads = bench.work / "profile-reads.txt"
    write_requests(reads, _get(PROJECTS)(1))

    def load(path: Path, mode: str) -> Callable[[float], dict[str, Any]]:
        return lambda duration: run_wrk(stack.gateway_url, path, seconds=duration, mode=mode)

    result: dict[str, Any] = {}
    print("  profiling account opening through the gateway ...", flush=True)
    result["open_account_gateway"] = profiling.profile_under_load(
        load(openings, "once"), targets, seconds, out, f"{bus}-open-account"
    )
    read_targets = {n: p for n, p in targets.items() if not n.startswith("notifications")}
    print("  profiling the funding-projects list through the gateway ...", flush=True)
    result["projects_gateway"] = profiling.profile_under_load(
        load(reads, "cycle"), read_targets, seconds, out, f"{bus}-projects"
    )
    return result


# --------------------------------------------------------------------------- report


def _merge(path: Path, bus: str, entry: dict[str, Any]) -> None:
    """One entry per bus in the file: a run on one bus keeps the other's."""
    existing: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        existing = json.loads(path.read_text())
    runs = existing.get("runs", {}) if isinstance(existing.get("runs"), dict) else {}
    runs[bus] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": runs}, indent=2) + "\n")


FIRST = ("gateway", "accounts", "catalog", "notifications", "kafka", "postgres")
NOT_PROCESSES = frozenset({"wrk", "total", "machine", "other", "echo"})


def _columns(results: dict[str, Any]) -> list[str]:
    """The processes worth a column: every one that took 0.05 ms per request or more somewhere (the stack's own
    list, whatever it holds: a process per service, or an api and a worker each); the others go into "rest"."""
    cpus = [r.get("cpu_ms_per_request", {}) for r in results.values() if isinstance(r, dict)]
    names = {n for cpu in cpus for n, v in cpu.items() if n not in NOT_PROCESSES and v is not None and v >= 0.05}
    return [n for n in FIRST if n in names] + sorted(names - set(FIRST))


def table(results: dict[str, Any], title: str) -> str:
    """requests/s, p50/p99, errors, ratio to the echo; CPU ms per request per process, all of the stack, wrk."""
    columns = _columns(results)
    header = f"{'scenario':22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'err':>5} {'ratio':>7}"
    header += "".join(f" {n[:8]:>8}" for n in ["echo", *columns, "rest"]) + f" {'stack':>7} {'wrk':>6} {'other':>6}"
    rows = [
        title,
        "CPU columns: ms per request; stack = all the processes served (+ kafka, postgres); wrk = the load generator;"
        " other = the rest of the machine's busy CPU (other people's work)",
        header,
    ]
    for name, r in results.items():
        if not isinstance(r, dict) or "requests_per_s" not in r:
            if isinstance(r, dict) and "error" in r:
                rows.append(f"{name:22} error: {r['error'][:150]}")
            continue
        cpu = r.get("cpu_ms_per_request", {})
        ratio = r.get("ratio_to_echo")
        row = f"{name:22} {r['requests_per_s']:>8} {r['p50_ms']!s:>8} {r['p99_ms']!s:>8} {r['max_ms']!s:>8} "
        row += f"{r['errors']:>5} {'' if ratio is None else f'{ratio:.3f}':>7}"
        served = {n: v for n, v in cpu.items() if n not in NOT_PROCESSES - {"echo"}}
        rest = sum(v for n, v in served.items() if n not in columns and n != "echo")
        row += "".join(f" {served.get(n, ''):>8}" for n in ["echo", *columns])
        row += f" {round(rest, 3) if 'echo' not in cpu else '':>8}"
        row += f" {round(sum(served.values()), 3):>7} {cpu.get('wrk', '')!s:>6} {cpu.get('other', '')!s:>6}"
        rows.append(row)
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 s per figure, shorter profiles, no tail diagnostics")
    parser.add_argument("--bus", choices=["embedded", "kafka"], default="embedded")
    parser.add_argument("--no-profile", action="store_true", help="no py-spy profiles")
    args = parser.parse_args()
    plan = Plan.of(args.quick)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="prasmes-hotpath-"))
    bench = Bench(plan, work)
    date = datetime.now(UTC).isoformat(timespec="seconds")
    results: dict[str, Any] = {}
    profile_results: dict[str, Any] = {}
    diagnostics: dict[str, Any] = {}
    print(f"hotpath, {args.bus} bus{' (quick)' if plan.quick else ''}; work files in {work}", flush=True)
    flags = stack_flags(work)
    print("echo baseline ...", flush=True)
    results.update(echo_baseline(bench, flags, Learners(_issuer(work), "echo")))
    print(f"{args.bus} stack ...", flush=True)
    seeded: dict[str, Any] = {}
    try:
        with started_stack(args.bus, plan, work) as (stack, servers, seeded):
            learners = Learners(stack.token_issuer(), f"hot{random.randrange(10**6)}")
            pids = stack_pids(stack, servers)
            results["processes"] = {name: {"pid": pid} for name, pid in pids.items()}
            results.update(platform_scenarios(bench, stack, pids, learners))
            if not args.no_profile:
                profile_results = _guarded(lambda: profiles(bench, stack, learners, args.bus))
            if not plan.quick:
                print("tail diagnostics ...", flush=True)
                diagnostics = _guarded(lambda: tail.diagnose(bench, stack, pids, learners))
    except Exception as exc:
        traceback.print_exc()
        results["stack_error"] = f"{type(exc).__name__}: {exc}"
    add_ratios(results)
    entry = {
        "date": date,
        "bus": args.bus,
        "machine": _machine(),
        "source": _source(),
        "plan": asdict(plan),
        "duration_s": round(time.monotonic() - started, 1),
        "catalogue_seed": seeded,
        "results": results,
        "tail_diagnostics": diagnostics,
    }
    _merge(OUT, args.bus, entry)
    if profile_results:
        _merge(PROFILE_OUT, args.bus, {"date": date, "bus": args.bus, **profile_results})
    print(table(results, f"hotpath, {args.bus} bus, {date}"))
    for load, p in profile_results.items() if isinstance(profile_results, dict) else ():
        if isinstance(p, dict) and "profiles" in p:
            print(f"profile under {load}:")
            for name, prof in p["profiles"].items():
                print("\n".join(profiling.summary_lines(name, prof)))
    print(f"written to {OUT} in {entry['duration_s']} s")
    if "stack_error" in results or any(isinstance(r, dict) and "error" in r for r in results.values()):
        print(f"some measurements failed; logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def _issuer(work: Path) -> TokenIssuer:
    """Any signing key will do for the echo: it does not check the tokens."""
    from prasmes_runtime.auth import load_or_create_key

    return TokenIssuer(load_or_create_key(work / "echo-key.pem"), issuer="bench", audience="bench")


if __name__ == "__main__":
    main()
