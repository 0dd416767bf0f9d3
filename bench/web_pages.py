"""The web pages under load through the gateway: `python -m bench.web_pages [--quick]` (issue 14).

Seeds 5 000 published programmes and 20 000 study groups straight into a fresh catalog database
(`bench.catalog_search.seed`), starts the gateway (rate limit lifted), accounts, catalog and the web pages as
processes with `Stack` (embedded bus, SQLite), and measures in closed loop with wrk (2 threads; 1, 8 and 32
connections; 10 s per figure after a 2 s warm-up, `--quick` 3 s after 1 s), each figure once the machine is quiet:

* `echo`: the bare FastAPI echo (`bench/echo_app.py`, `GET /echo`) under the web process's own uvicorn flags;
* `catalogue`: `GET /catalogue` on the web process, which asks the gateway for the funding projects (accounts) and
  a page of the search (catalog), then renders it; the query changes with every request (`catalogue_queries`:
  words with and without diacritics, filters, sorting, pages), half the visitors read Latvian and half English.
  These ten searches come round again and again, so catalog answers most from memory (a search asked again within
  5 s: `catalog.service.catalogue.SEARCH_SECONDS`), as it would the catalogue's first pages and popular searches;
* `catalogue_new`: the same page for searches none of which was asked in the last 5 s (`new_searches`: every page
  of the whole catalogue in each of its seven orders; each wrk run, warm-ups too, goes on where the last stopped),
  so catalog reads and renders every one: the cost of a search not kept;
* `apply_details`: `GET /apply/details?programme=<id>&project=IMK`, the application's second question page, for
  200 signed-in learners (each its own session cookie) over 100 programmes; it reads the funding project and the
  programme from the public API;
* `apply_start`: `GET /apply?programme=<id>`, the first question page, for the same learners: it also asks accounts
  for the learner's account with the learner's token (which the gateway and accounts verify), so it is the page
  where the session's token is used.

Signing in is not measured: each learner's session is minted as the web's sign-in would leave it. The cookie is
Starlette's `SessionMiddleware` cookie signed with the web's `SESSION_SECRET` (set here), holding `user` (a
`web.session.User`: subject, name, roles, locale, access token, ID token, expiry) and `csrf`. The access token is a
real one from the stack's signing key (`Stack.token_issuer()`, role learner), as the identity provider's token
endpoint issues it. The ID token is a stand-in of about the same size (only sign-out reads it). Each learner opens
a learning account through the gateway first. The visitors of the catalogue carry the cookie a browser has after its
first page, a session holding only `csrf`. Before the load, every page is fetched once and checked: 200, no new
cookie, and for learners the session's CSRF token in the page (the session was read as minted).

Every answer must be a 200 (a 303 to the sign-in page would show a session refused): any other status, or a
socket error or timeout, fails the run (exit status 1, after the report is written). Reported per scenario and
connection count: requests/s, p50/p95/p99 (from wrk's own record of every answer: `bench/wrk/pages.lua`), the CPU
milliseconds per request of every process (the gateway, accounts and catalog with their workers, web, wrk) and of
the whole machine (`other`: what none of them did), the load average before and after, the ratio of requests/s to
the echo's at the same connection count, and whether the catalogue's p95 is under 200 ms (issue 14's speed bar).
Writes bench/out/web_pages.json and prints a table. Not a timed test.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import itsdangerous
from prasmes_devtools.devstack import Stack
from prasmes_runtime import registry
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.servers import free_port
from prasmes_testing.support import personal_code
from web.app import SESSION_COOKIE
from web.session import User

from bench import catalog_search, procs, wrk_run
from bench.run import _machine, _source, _start
from bench.stack_bench import STACK_ENV

OUT = Path(__file__).resolve().parent / "out" / "web_pages.json"
PAGES_SCRIPT = Path(__file__).resolve().parent / "wrk" / "pages.lua"
PROCESSES = ("gateway", "accounts", "catalog", "web")
"""What the measured pages need: `/catalogue` asks accounts (funding projects) and catalog; the apply pages too."""
PROJECT = "IMK"
TARGET_P95_MS = 200.0
SCENARIOS = ("echo", "catalogue", "catalogue_new", "apply_details", "apply_start")
SORTS = ("title", "start", "cost", "-cost", "hours", "-hours", "-published")
"""The catalogue page's orders (`web.pages.public.SORTS`)."""
PAGE_SIZE = 20
NO_ANSWER = "no answer"


@dataclass(frozen=True)
class Plan:
    quick: bool
    seconds: float
    warmup_seconds: float
    quiet_max_wait_s: float
    connections: tuple[int, ...] = (1, 8, 32)
    threads: int = 2
    learners: int = 200
    programmes_applied_to: int = 100
    programmes: int = 5000
    groups: int = 20000

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick=True, seconds=3, warmup_seconds=1, quiet_max_wait_s=3)
        return cls(quick=False, seconds=10, warmup_seconds=2, quiet_max_wait_s=30)


@dataclass(frozen=True)
class Load:
    """One scenario's requests: paths on one server, and the Cookie headers they go with (none: no cookie)."""

    url: str
    paths: list[str]
    cookies: list[str]
    fresh: bool = False
    """Each wrk run goes on in `paths` where the previous one stopped (no path asked twice until all were)."""
    header: str = "Cookie"
    """The header `cookies` go in: `Authorization` for an API asked with bearer tokens (`Bearer ...` values)."""
    method: str = "GET"
    """A POST is sent without a body (an API's action that reads, such as an offer's checks)."""


# --------------------------------------------------------------------------- sessions


def signed_session(secret: str, session: Mapping[str, Any]) -> str:
    """The cookie value Starlette's SessionMiddleware would set for `session` (its encoding and signer)."""
    data = base64.b64encode(json.dumps(session).encode("utf-8"))
    return itsdangerous.TimestampSigner(secret).sign(data).decode("utf-8")


def learner_session(issuer: TokenIssuer, subject: str, index: int) -> tuple[dict[str, Any], str]:
    """A signed-in learner's session, as `web.session.sign_in` stores it, and the learner's access token."""
    return minted_session(issuer, subject, ("learner",), f"Mācību Konts {index}", "lv" if index % 2 == 0 else "en")


def minted_session(
    issuer: TokenIssuer, subject: str, roles: Sequence[str], name: str, locale: str, ttl_seconds: int | None = None
) -> tuple[dict[str, Any], str]:
    """A signed-in user's session with these roles, as `web.session.sign_in` stores it, and the access token."""
    ttl = ttl_seconds or issuer.ttl_seconds
    token = issuer.issue(subject, list(roles), ttl_seconds=ttl)
    # Never read by the pages measured (only sign-out sends it): a token of about an ID token's size.
    id_token = issuer.issue(subject, [], ttl_seconds=600, name=name, locale=locale)
    user = User(subject, name, tuple(sorted(roles)), locale, token, id_token, time.time() + ttl)
    stored = user.__dict__ | {"roles": list(user.roles)}
    return {"user": stored, "csrf": secrets.token_urlsafe(32)}, token


def visitor_cookies(secret: str, count: int) -> list[str]:
    """Returning visitors: the session a first page gave them (its CSRF token only); every other one reads English."""
    cookies = []
    for i in range(count):
        cookie = f"{SESSION_COOKIE}={signed_session(secret, {'csrf': secrets.token_urlsafe(32)})}"
        cookies.append(cookie + ("; lang=en" if i % 2 else ""))
    return cookies


def sign_in_learners(stack: Stack, secret: str, count: int) -> tuple[list[str], list[str], dict[str, int]]:
    """`count` learners, each with a learning account opened through the gateway: their Cookie headers, their CSRF
    tokens, and the account openings' answers by status."""
    issuer, prefix = stack.token_issuer(), f"bench-learner-{os.getpid()}"
    cookies: list[str] = []
    csrf: list[str] = []
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=stack.gateway_url, timeout=30, trust_env=False) as client:
        for i in range(count):
            session, token = learner_session(issuer, f"{prefix}-{i}", i)
            body = {"personal_code": personal_code(i + 1)}
            opened = client.post("/api/accounts/accounts", json=body, headers={"Authorization": f"Bearer {token}"})
            statuses[str(opened.status_code)] = statuses.get(str(opened.status_code), 0) + 1
            cookies.append(f"{SESSION_COOKIE}={signed_session(secret, session)}")
            csrf.append(session["csrf"])
    if set(statuses) != {"201"}:
        raise RuntimeError(f"account openings answered {statuses}, not 201 each")
    return cookies, csrf, statuses


# --------------------------------------------------------------------------- the pages


def catalogue_queries(today: date) -> dict[str, dict[str, Any]]:
    """The searches of `bench.catalog_search`, as the catalogue page's form sends them, and a few of its own filters."""
    return {
        "first page, by title": {},
        "words with diacritics": {"q": "datu analīze"},
        "words without diacritics": {"q": "kiberdrosibas pamati"},
        "words + place + free places": {"q": "python", "city": "Rīga", "free_places": "on"},
        "levels + language, by cost": {"digcomp_level": [4, 5, 6], "language": "lv", "sort": "cost"},
        "form + start dates, by start": {
            "form": "in_person",
            "starts_from": (today + timedelta(days=30)).isoformat(),
            "starts_until": (today + timedelta(days=90)).isoformat(),
            "sort": "start",
        },
        "words, page 6, by cost": {"q": "tīmekļa izstrāde", "sort": "-cost", "page": 6},
        "project IMK (none: the seed has no call)": {"project": PROJECT},
        "page 100, by title": {"page": 100},
        "rare word, no match": {"q": "kvantu"},
    }


def new_searches(programmes: int) -> list[str]:
    """Every full page of the catalogue in each order, interleaved (page 1 in every order, then page 2, ...)."""
    pages = range(1, programmes // PAGE_SIZE + 1)
    return [catalogue_path({"sort": sort, "page": page}) for page in pages for sort in SORTS]


def catalogue_path(params: Mapping[str, Any]) -> str:
    return "/catalogue" + (f"?{urlencode(params, doseq=True)}" if params else "")


def published_ids(gateway_url: str, count: int) -> list[str]:
    """The first `count` published programmes by title, from the public API."""
    answer = httpx.get(f"{gateway_url}/api/catalog/public/programmes", params={"limit": count}, timeout=30)
    answer.raise_for_status()
    ids = [str(p["id"]) for p in answer.json()["items"]]
    if len(ids) < count:
        raise RuntimeError(f"only {len(ids)} published programmes, {count} wanted")
    return ids


def loads(stack: Stack, plan: Plan, secret: str, today: date) -> tuple[dict[str, Load], dict[str, Any]]:
    """The three page scenarios' requests, and what signing the learners in gave (their CSRF tokens for the checks)."""
    learners, csrf, opened = sign_in_learners(stack, secret, plan.learners)
    ids = published_ids(stack.gateway_url, plan.programmes_applied_to)
    paths = [catalogue_path(p) for p in catalogue_queries(today).values()]
    result = {
        "catalogue": Load(stack.web_url, paths, visitor_cookies(secret, plan.learners)),
        "catalogue_new": Load(
            stack.web_url, new_searches(plan.programmes), visitor_cookies(secret, plan.learners), fresh=True
        ),
        "apply_details": Load(
            stack.web_url, [f"/apply/details?programme={i}&project={PROJECT}" for i in ids], learners
        ),
        "apply_start": Load(stack.web_url, [f"/apply?programme={i}" for i in ids], learners),
    }
    return result, {"learners": len(learners), "account_openings": opened, "programmes": len(ids), "csrf": csrf}


def _fetch(client: httpx.Client, path: str, cookie: str) -> httpx.Response:
    answer = client.get(path, headers={"Cookie": cookie})
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code} {answer.headers.get('location', '')}")
    if "set-cookie" in answer.headers:  # a session the web did not accept would be replaced by a new one
        raise RuntimeError(f"GET {path} set a cookie: the minted session was not taken as it is")
    return answer


def check_pages(load: Mapping[str, Load], csrf: Sequence[str], today: date) -> dict[str, Any]:
    """Each page once before the load: 200, no new cookie, a learner's own CSRF token in the learner's pages; and how
    many programmes each search found (the page's result count) and the page's size."""
    found: dict[str, Any] = {}
    with httpx.Client(base_url=load["catalogue"].url, timeout=60, trust_env=False) as client:
        for name, params in catalogue_queries(today).items():
            path = catalogue_path(params)
            page = _fetch(client, path, load["catalogue"].cookies[0]).text
            count = re.search(r'id="result-count">\D*(\d+)', page)
            found[name] = {"path": path, "matched": int(count.group(1)) if count else None, "bytes": len(page)}
        for scenario in ("apply_details", "apply_start"):
            for i in range(3):
                page = _fetch(client, load[scenario].paths[i], load[scenario].cookies[i]).text
                if f'value="{csrf[i]}"' not in page:
                    raise RuntimeError(f"{scenario}: learner {i}'s page does not carry the session's CSRF token")
            found[scenario] = {"path": load[scenario].paths[0], "bytes": len(page)}
    return found


# --------------------------------------------------------------------------- wrk


def run_pages(
    url: str,
    paths: Path,
    cookies: Path,
    *,
    threads: int,
    connections: int,
    seconds: float,
    header: str = "Cookie",
    method: str = "GET",
) -> dict[str, Any]:
    """wrk with bench/wrk/pages.lua; its summary as `bench.wrk_run.run_wrk` reports it, plus p95 and the exact
    statuses (`codes`)."""
    timeout_s = 30.0
    command = [wrk_run.wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s:g}s"]
    command += ["-s", str(PAGES_SCRIPT), url, "--", str(paths), str(cookies), str(threads), header, method]
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        killer = threading.Timer(seconds + timeout_s + 60, process.kill)
        killer.start()
        try:
            assert process.stdout is not None
            stdout = process.stdout.read()
            _, status, usage = os.wait4(process.pid, 0)  # wrk's own rusage, all its threads: the load generator's CPU
        finally:
            killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read()
    summary = wrk_run._summary(stdout)
    if process.returncode != 0 or summary is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr.strip()[-2000:]} {stdout.strip()[-2000:]}")
    settings = {"threads": threads, "connections": connections, "seconds": seconds, "timeout_s": timeout_s}
    report = wrk_run._report(summary, usage.ru_utime + usage.ru_stime, settings)
    report.pop("exhausted_threads")  # the lists wrap around: they never run out
    codes = {code: int(n) for code, n in sorted((summary.get("codes") or {}).items())}
    return {**report, "p95_ms": wrk_run._ms((summary.get("latency_us") or {}).get("p95")), "codes": codes}


def problems(report: Mapping[str, Any]) -> list[str]:
    """What makes a figure wrong: no answer at all, an answer other than 200, a socket error or a timeout."""
    found = []
    if not report["completed"]:
        found.append(NO_ANSWER)
    others = {code: n for code, n in report["codes"].items() if code != "200"}
    if others:
        found.append(f"answers other than 200: {others} {report['error_samples']}")
    if any(report["socket_errors"].values()):
        found.append(f"socket errors: {report['socket_errors']}")
    return found


@dataclass(frozen=True)
class Bench:
    plan: Plan
    work: Path
    asked: dict[str, int] = field(default_factory=dict)
    """How many of a `fresh` load's paths its wrk runs have taken so far."""

    def _paths(self, name: str, load: Load, connections: int, taken: int | None) -> Path:
        """The paths file of the next run: a `fresh` load's from where the last run stopped (`taken` requests ago,
        with those in flight when it stopped)."""
        if load.fresh and taken is not None:
            self.asked[name] = self.asked.get(name, 0) + taken + connections
        start = self.asked.get(name, 0) % len(load.paths) if load.fresh else 0
        paths = self.work / f"{name}.paths.txt"
        paths.write_text("".join(f"{p}\n" for p in load.paths[start:] + load.paths[:start]), encoding="utf-8")
        return paths

    def measure(self, name: str, load: Load, pids: Mapping[str, int], connections: int) -> dict[str, Any]:
        """A warm-up, a quiet machine, then one measured wrk run with the CPU of every process in `pids`."""
        cookies = self.work / f"{name}.cookies.txt"
        cookies.write_text("".join(f"{c}\n" for c in load.cookies), encoding="utf-8")
        threads = min(self.plan.threads, connections)

        def run(paths: Path, seconds: float) -> dict[str, Any]:
            return run_pages(
                load.url,
                paths,
                cookies,
                threads=threads,
                connections=connections,
                seconds=seconds,
                header=load.header,
                method=load.method,
            )

        paths = self._paths(name, load, connections, None)
        warm = run(paths, self.plan.warmup_seconds)
        paths = self._paths(name, load, connections, warm["completed"])
        quiet, load_before = procs.wait_quiet(max_wait=self.plan.quiet_max_wait_s), os.getloadavg()
        before = procs.cpu_snapshot(pids)
        report = run(paths, self.plan.seconds)
        self._paths(name, load, connections, report["completed"])
        after = procs.cpu_snapshot(pids)
        extra = {"wrk": report["load_generator"]["cpu_s"]}
        report["cpu_ms_per_request"] = procs.cpu_ms_per_request(before, after, report["completed"], extra)
        busy = 100 * (after["machine"] - before["machine"]) / (report["duration_s"] * (os.cpu_count() or 1))
        report.update(
            machine_busy_percent_during=round(busy, 1),
            warmup={"seconds": self.plan.warmup_seconds, "requests_per_s": warm["requests_per_s"]},
            quiet_wait=quiet,
            loadavg_before=[round(x, 2) for x in load_before],
            loadavg_after=[round(x, 2) for x in os.getloadavg()],
            # A warm-up may end before its first answer (the previous figure's requests still being served): only a
            # wrong answer counts against it.
            problems=[f"warm-up: {p}" for p in problems(warm) if p != NO_ANSWER] + problems(report),
        )
        _progress(name, connections, report)
        return report


def _progress(name: str, connections: int, r: Mapping[str, Any]) -> None:
    cpu, non_200 = r["cpu_ms_per_request"], r["completed"] - r["codes"].get("200", 0)
    problem = "  PROBLEM: " + "; ".join(r["problems"]) if r["problems"] else ""
    print(
        f"  {name} c{connections}: {r['requests_per_s']} req/s, p50 {r['p50_ms']} p95 {r['p95_ms']} p99 {r['p99_ms']}"
        f" ms, non-200 {non_200}, CPU {cpu.get('total')} ms/req (wrk {cpu.get('wrk')}), load {r['loadavg_before'][0]}"
        + problem,
        flush=True,
    )


# --------------------------------------------------------------------------- the run


@contextlib.contextmanager
def seeded_stack(plan: Plan, work: Path, secret: str) -> Iterator[tuple[Stack, dict[str, Any]]]:
    """The catalog's database seeded, then the gateway, accounts, catalog and web started (stopped on exit)."""
    stack = Stack(var_dir=work / "stack", extra_env=STACK_ENV, service_env={"web": {"SESSION_SECRET": secret}})
    stack.var_dir.mkdir(parents=True)
    seed_plan = catalog_search.Plan(plan.programmes, plan.groups, requests=0, warmup=0, concurrency=1, max_seconds=0)
    started = time.perf_counter()
    counted = catalog_search.seed(f"sqlite+aiosqlite:///{stack.var_dir / 'catalog.db'}", seed_plan)
    seeded: dict[str, Any] = {**counted, "seconds": round(time.perf_counter() - started, 1)}
    try:
        _start(stack, timeout=120, names=PROCESSES)
        yield stack, seeded
    finally:
        stack.stop()


def measure_all(bench: Bench, stack: Stack, secret: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    pages, signed_in = loads(stack, bench.plan, secret, today)
    checked = check_pages(pages, signed_in.pop("csrf"), today)
    pids = {name: process.pid for name, process in stack.processes.items()}
    flags = procs.uvicorn_flags(pids["web"], registry.entry("web").factory)
    results: dict[str, Any] = {}
    port = free_port()
    with procs.echo_server(port, bench.work / "echo.log", flags) as echo:
        baseline = Load(f"http://127.0.0.1:{port}", ["/echo"], [])
        results["echo"] = _each_connections(bench, "echo", baseline, {"echo": echo.pid})
    for name, load in pages.items():
        results[name] = _each_connections(bench, name, load, pids)
    return {
        "processes": pids,
        "echo_uvicorn_flags": flags,
        "signed_in": signed_in,
        "pages_checked": checked,
        "results": results,
    }


def _each_connections(bench: Bench, name: str, load: Load, pids: Mapping[str, int]) -> dict[str, Any]:
    return {str(c): bench.measure(name, load, pids, c) for c in bench.plan.connections}


def add_ratios(results: Mapping[str, dict[str, Any]]) -> None:
    """Each page figure's requests/s divided by the echo's at the same connection count."""
    for name in [n for n in results if n != "echo"]:
        for connections, figure in results[name].items():
            echo = results.get("echo", {}).get(connections, {})
            if echo.get("requests_per_s"):
                figure["ratio_to_echo"] = round(figure["requests_per_s"] / echo["requests_per_s"], 4)


def target(results: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Issue 14's speed bar, at each connection count: the catalogue page's p95 under 200 ms, for searches asked
    again and for new ones."""
    by_scenario = {
        name: {
            connections: {"p95_ms": r["p95_ms"], "met": r["p95_ms"] is not None and r["p95_ms"] < TARGET_P95_MS}
            for connections, r in results.get(name, {}).items()
        }
        for name in ("catalogue", "catalogue_new")
    }
    return {"target": f"catalogue p95 < {TARGET_P95_MS:g} ms through the gateway", "by_scenario": by_scenario}


def failures(results: Mapping[str, dict[str, Any]]) -> list[str]:
    return [
        f"{name} c{connections}: {problem}"
        for name, figures in results.items()
        for connections, r in figures.items()
        for problem in r["problems"]
    ]


CPU_COLUMNS = {
    "echo": "echo",
    "web": "web",
    "gateway": "gateway",
    "catalog": "catalog",
    "catalog-worker": "cat-wrkr",
    "accounts": "accounts",
    "accounts-worker": "acc-wrkr",
    "wrk": "wrk",
    "other": "other",
}
"""The processes' CPU columns of the table (key in `cpu_ms_per_request` -> heading)."""


def table(report: Mapping[str, Any], columns: Mapping[str, str] = CPU_COLUMNS, title: str = "web pages") -> str:
    """requests/s, latencies, non-200 answers, the ratio to the echo, CPU ms per request by process, load average."""
    width = max([14, *(len(name) for name in report.get("results", {}))])
    head = f"{'scenario':{width}} {'conn':>4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'non200':>6}"
    head += f" {'ratio':>6}"
    head += "".join(f" {label:>8}" for label in columns.values()) + f" {'load1':>5}"
    rows = [
        f"{title}, {report['date']}; CPU columns: ms per request (wrk: the load generator; other: the machine's busy"
        " CPU no process of the run used); load1: the load average before",
        head,
    ]
    for name, figures in report.get("results", {}).items():
        for connections, r in figures.items():
            cpu = r["cpu_ms_per_request"]
            non_200 = r["completed"] - r["codes"].get("200", 0)
            ratio = r.get("ratio_to_echo")
            row = f"{name:{width}} {connections:>4} {r['requests_per_s']:>8} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8} "
            row += f"{r['p99_ms']!s:>8} {non_200:>6} {'' if ratio is None else f'{ratio:.3f}':>6}"
            row += "".join(f" {cpu.get(n, '')!s:>8}" for n in columns) + f" {r['loadavg_before'][0]:>5}"
            rows.append(row)
    bar = report.get("target", {})
    for name, figures in bar.get("by_scenario", {}).items():
        met = ", ".join(f"c{c}: {v['p95_ms']} ms {'met' if v['met'] else 'NOT met'}" for c, v in figures.items())
        rows.append(f"{bar.get('target', '')} ({name}): {met}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s per figure after 1 s (the data set stays full size)")
    args = parser.parse_args()
    plan = Plan.of(args.quick)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="prasmes-web-pages-"))
    secret = secrets.token_urlsafe(48)
    report: dict[str, Any] = {
        "benchmark": "web pages under load through the gateway (issue 14)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "source": _source(),
        "plan": asdict(plan),
        "catalogue_queries": catalogue_queries(datetime.now(UTC).date()),
    }
    print(f"web pages{' (quick)' if plan.quick else ''}; work files in {work}", flush=True)
    try:
        with seeded_stack(plan, work, secret) as (stack, seeded):
            report["seeded"] = seeded
            report.update(measure_all(Bench(plan, work), stack, secret))
    except BaseException:
        print(f"the run stopped; logs kept in {work}", file=sys.stderr, flush=True)
        raise
    add_ratios(report["results"])
    report.update(target=target(report["results"]), failures=failures(report["results"]))
    report["duration_s"] = round(time.monotonic() - started, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(table(report))
    print(f"written to {OUT} in {report['duration_s']} s")
    if report["failures"]:
        print("FAILED: not every answer was a 200:\n  " + "\n  ".join(report["failures"]), file=sys.stderr)
        print(f"logs kept in {work}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
