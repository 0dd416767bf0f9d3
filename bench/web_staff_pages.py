"""The agency's application list at 25 000 applications and an institution's offer checks page under load through
the web service, beside their APIs and the bare echo in the same run: `python -m bench.web_staff_pages [--quick]`
(issue 15).

**The data.** 25 000 learning accounts, each with one application, are written straight into a fresh, migrated
accounts database before the stack starts (`seed_applications`), as `bench.web_pages` seeds catalog and
`bench.allocation` seeds accounts: opening 25 000 accounts and applying 25 000 times through the gateway would take
8–15 minutes of this 2-core machine (about 150 account openings/s at best, issue 9) for rows that the list reads the
same whichever way they were written, and accounts has no bulk route to do it faster (none should exist outside a
benchmark). The rows are what the API would have written: valid personal codes with their birth dates, Latvian
names with diacritics, employment and education, the four funding projects of the migrations (IMK 60 %, VARAM 25 %,
TĀLĀK 10 %, 4242 5 %), every state of an application (submitted, approved, rejected with a reason, withdrawn,
lapsed, enrolled, studying, completed, discontinued; TĀLĀK's all submitted: its window waits for the allocation),
submitted over the window's last 200 days, the grant of each decided one with its ledger entries (reserve, spend,
release) and each project's reserved and spent sums, so that the budget constraints hold. After the start, the
accounts API's own count is checked (`total` of the list = 25 000).

**The offers.** As `bench.deadline` sets them up, through the services' APIs (nothing written into calls' or
catalog's database): `institutions` institutions (12; 6 with `--quick`) register with the signed statement, are
approved, add a location and register two licensed programmes in catalog; calls learns of them from catalog's events;
an agency_admin opens a call whose offer window is open for three hours. Each institution drafts its offer in the
three steps (two locations, both programmes with their hours, equipment and operating systems, the terms) with five
attachments (application, experience, the PAdES-signed statement, a curriculum per programme). Every other one saves
a wrong cost for its first programme, so its checks name a problem (`coefficient`): the page shows a list of
problems for half of the offers and "ready" for the other half. The offers stay drafts: the checks are what an
institution runs before it submits.

**The sessions** are minted as `bench.web_pages` mints the learners' (`bench.web_pages.minted_session`): real access
tokens from the stack's key with the user's roles (officers `agency_officer`, every fourth `agency_admin`; each
institution's `provider_admin`, the subject catalog knows as its administrator); half the users read Latvian.

**The scenarios**, wrk 2 threads, 1, 8 and 32 connections, 10 s per figure after a 2 s warm-up (`--quick`: 3 s
after 1 s), each once the machine is quiet (`bench.web_pages.Bench`):

* `echo`: the bare FastAPI echo (`bench/echo_app.py`) under the web process's own uvicorn flags;
* `applications_api`: accounts' `GET /agency/applications` straight to its api process, with an officer's bearer
  token, for the ten filters and pages of `application_queries` in turn (the page's own page size);
* `applications_gateway`: the same through the gateway (`/api/accounts/agency/applications`);
* `applications_page`: the web page `GET /agency/applications?project=&state=&page=` for the same ten, each
  officer with their own session cookie;
* `checks_api`: calls' `POST /offers/{id}/checks` straight to its api process, each institution's admin its own
  offer (the paths and the tokens are lists of equal length, so `bench/wrk/pages.lua` pairs them);
* `checks_gateway`: the same through the gateway (`/api/calls/offers/{id}/checks`);
* `checks_page`: the web page `GET /institution/offers/{id}/check` of each institution's admin.

Before the load each page is fetched once and checked (200, no new cookie: the minted session was taken) and each
API call too; every answer under load must be a 200, or the run fails (exit status 1, after the report is written).
Reported as `bench.web_pages` reports: requests/s, p50/p95/p99, the ratio to the echo at the same connection count,
CPU ms per request of every process (gateway, accounts, catalog, calls, notifications with their workers, web, wrk)
and of the rest of the machine, the load average; and the issue's bar: p95 under 200 ms for both pages.
`--profile` then records py-spy profiles of web and the page's service under each page's load at 8 connections
(`bench.profiling`: the top costs in the JSON, flame graphs `bench/out/web_staff_pages-<scenario>-<process>.svg`).
Writes bench/out/web_staff_pages.json and prints a table. Not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from accounts import db as accounts_db
from accounts.app import DEFINITION as ACCOUNTS
from prasmes_devtools.devstack import Stack
from prasmes_runtime import migrations, registry
from prasmes_runtime.db import Database
from prasmes_testing.servers import free_port
from prasmes_testing.support import personal_code
from web.app import SESSION_COOKIE

from bench import deadline, procs, profiling, web_pages
from bench.run import _machine, _source, _start
from bench.stack_bench import STACK_ENV
from bench.web_pages import Bench, Load

OUT = Path(__file__).resolve().parent / "out" / "web_staff_pages.json"
PROFILES = OUT.parent
PROCESSES = ("gateway", "accounts", "catalog", "calls", "notifications", "web")
"""What the pages need: accounts (the list), calls (the offer and its checks), catalog (the institutions, and the
registers calls' checks ask it for), notifications (every signed-in page asks for the unread count)."""
SCENARIOS = (
    "echo",
    "applications_api",
    "applications_gateway",
    "applications_page",
    "checks_api",
    "checks_gateway",
    "checks_page",
)
PAGES = ("applications_page", "checks_page")
TARGET_P95_MS = 200.0
TOKEN_TTL = deadline.TOKEN_TTL
CALL_OPEN_MINUTES = 180


@dataclass(frozen=True)
class Plan:
    quick: bool
    seconds: float
    warmup_seconds: float
    quiet_max_wait_s: float
    connections: tuple[int, ...] = (1, 8, 32)
    threads: int = 2
    applications: int = 25_000
    officers: int = 20
    institutions: int = 12

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick=True, seconds=3, warmup_seconds=1, quiet_max_wait_s=3, institutions=6)
        return cls(quick=False, seconds=10, warmup_seconds=2, quiet_max_wait_s=30)


# --------------------------------------------------------------------------- 25 000 applications

FIRST_NAMES = ("Anna", "Jānis", "Līga", "Pēteris", "Ilze", "Mārtiņš", "Kristīne", "Andris", "Zane", "Edgars", "Dace")
LAST_NAMES = ("Bērziņš", "Kalniņa", "Ozoliņš", "Liepiņa", "Krūmiņš", "Zariņa", "Vītols", "Jansone", "Šmits", "Ķēniņa")
EMPLOYMENT = ("employed", "employed", "employed", "self_employed", "unemployed", "student", "retired", "other")
EDUCATION = ("basic", "secondary", "secondary", "vocational", "bachelor", "bachelor", "master", "doctoral")
PROJECT_SHARES = (("IMK", 60), ("VARAM", 25), ("TALAK", 10), ("4242", 5))
STATE_SHARES = (
    ("submitted", 40),
    ("approved", 18),
    ("rejected", 10),
    ("withdrawn", 4),
    ("lapsed", 2),
    ("enrolled", 8),
    ("studying", 10),
    ("completed", 6),
    ("discontinued", 2),
)
GRANTS = {"IMK": Decimal("500.00"), "VARAM": Decimal("500.00"), "TALAK": Decimal("600.00"), "4242": Decimal("500.00")}
"""The funding projects' grants per person (accounts' migration 0003)."""
NEEDS = (
    "Gribu apgūt datu analīzi ar Python savā darbā grāmatvedībā.",
    "Kiberdrošības pamati mazam uzņēmumam.",
    "Tīmekļa izstrāde, lai mainītu profesiju.",
    None,
)
REJECTIONS = (("not_eligible", "Pieteicējs neatbilst projekta mērķa grupai."), ("duplicate", "Pieteikums jau ir."))


def _weighted(shares: Sequence[tuple[str, int]]) -> list[str]:
    return [name for name, share in shares for _ in range(share)]


def application_rows(count: int, now: datetime, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Accounts, their applications (one each), the ledger entries of the granted ones: rows as accounts writes
    them."""
    projects, states = _weighted(PROJECT_SHARES), _weighted(STATE_SHARES)
    rows: dict[str, list[dict[str, Any]]] = {"accounts": [], "applications": [], "ledger_entries": []}
    for n in range(count):
        code = personal_code(n + 1)
        digits = code.replace("-", "")
        born = date(1900 + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))
        account_id, application_id, learner = uuid.uuid4(), uuid.uuid4(), f"bench-learner-{n}"
        project = projects[n % len(projects)]
        state = "submitted" if project == "TALAK" else rng.choice(states)
        submitted = now - timedelta(days=200) + timedelta(seconds=int(200 * 86400 * n / count))
        rows["accounts"].append(
            {
                "id": account_id,
                "learner_id": learner,
                "personal_code": digits,
                "birth_date": born,
                "opened_at": submitted - timedelta(days=rng.randint(0, 30)),
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "email": f"macibas{n}@example.lv",
                "preferred_language": "lv" if n % 5 else "en",
                "education_level": rng.choice(EDUCATION),
                "employment_status": rng.choice(EMPLOYMENT),
            }
        )
        application, entries = _application(application_id, account_id, learner, project, state, submitted, rng)
        rows["applications"].append(application)
        rows["ledger_entries"].extend(entries)
    return rows


def _application(
    application_id: uuid.UUID,
    account_id: uuid.UUID,
    learner: str,
    project: str,
    state: str,
    submitted: datetime,
    rng: random.Random,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    grant = GRANTS[project]
    decided = None if state == "submitted" else submitted + timedelta(days=rng.randint(1, 10))
    granted = state not in ("submitted", "rejected")
    reserved = grant if granted else Decimal("0")
    spent = grant if state in ("completed", "discontinued") else Decimal("0")
    released = grant if state in ("withdrawn", "lapsed") else Decimal("0")
    reason_code, reason = rng.choice(REJECTIONS) if state == "rejected" else (None, None)
    row = {
        "id": application_id,
        "account_id": account_id,
        "learner_id": learner,
        "project_code": project,
        "state": state,
        "submitted_at": submitted,
        "learning_need": rng.choice(NEEDS),
        "decided_at": decided,
        "reason": reason,
        "reason_code": reason_code,
        "reserved": reserved,
        "spent": spent,
        "released": released,
        "version": 1 if state == "submitted" else 2,
    }
    entries = []
    for kind, amount, cause in (
        ("reserve", reserved, "approved"),
        ("spend", spent, state),
        ("release", released, state),
    ):
        if amount:
            at = decided or submitted
            entries.append(
                {
                    "application_id": application_id,
                    "learner_id": learner,
                    "project_code": project,
                    "kind": kind,
                    "amount": amount,
                    "cause": cause,
                    "at": at,
                }
            )
    return row, entries


async def _write(url: str, rows: Mapping[str, list[dict[str, Any]]]) -> dict[str, int]:
    database = Database(url)
    tables = {"accounts": accounts_db.accounts, "applications": accounts_db.applications}
    tables["ledger_entries"] = accounts_db.ledger_entries
    try:
        for name, table in tables.items():
            for start in range(0, len(rows[name]), 5_000):
                async with database.transaction() as session:
                    await session.execute(table.insert(), rows[name][start : start + 5_000])
        async with database.transaction() as session:
            for code in GRANTS:
                mine = [a for a in rows["applications"] if a["project_code"] == code]
                spent = sum((a["spent"] for a in mine), Decimal("0"))
                outstanding = sum((a["reserved"] - a["spent"] - a["released"] for a in mine), Decimal("0"))
                projects = accounts_db.funding_projects
                await session.execute(
                    projects.update().where(projects.c.code == code).values(reserved=outstanding, spent=spent)
                )
    finally:
        await database.dispose()
    return {name: len(values) for name, values in rows.items()}


def seed_applications(url: str, count: int, rng_seed: int = 15) -> dict[str, Any]:
    """A fresh, migrated accounts database holding `count` accounts with one application each."""
    started = time.perf_counter()
    migrations.upgrade(ACCOUNTS.migrations_dir, url)
    rows = application_rows(count, datetime.now(UTC), random.Random(rng_seed))
    counted = asyncio.run(_write(url, rows))
    by_state: dict[str, int] = {}
    by_project: dict[str, int] = {}
    for a in rows["applications"]:
        by_state[a["state"]] = by_state.get(a["state"], 0) + 1
        by_project[a["project_code"]] = by_project.get(a["project_code"], 0) + 1
    return {
        **counted,
        "by_project": by_project,
        "by_state": by_state,
        "seconds": round(time.perf_counter() - started, 1),
        "through": "straight into accounts' migrated SQLite database before the stack started",
    }


# --------------------------------------------------------------------------- the application list


def application_queries(today: date) -> dict[str, dict[str, Any]]:
    """The list as officers read it (the page's parameters): each filter's first pages, the orders, a name, a
    period, and a few deep pages."""
    return {
        "all, page 1": {},
        "IMK submitted": {"project": "IMK", "state": "submitted"},
        "IMK submitted, page 2": {"project": "IMK", "state": "submitted", "page": 2},
        "VARAM approved, latest decided": {"project": "VARAM", "state": "approved", "sort": "-decided"},
        "rejected, newest first": {"state": "rejected", "sort": "-submitted"},
        "a name, any project": {"q": "Bērziņš"},
        "IMK, last 30 days, by name": {
            "project": "IMK",
            "from": (today - timedelta(days=30)).isoformat(),
            "to": today.isoformat(),
            "sort": "name",
        },
        "TALAK submitted, page 5": {"project": "TALAK", "state": "submitted", "page": 5},
        "IMK by state, page 50": {"project": "IMK", "sort": "state", "page": 50},
        "all, page 500": {"page": 500},
    }


def page_path(params: Mapping[str, Any]) -> str:
    return "/agency/applications" + (f"?{urlencode(params)}" if params else "")


def api_path(params: Mapping[str, Any]) -> str:
    """The same list as the page asks accounts for it (`web.pages.agency_applications`: its filters, its page
    size)."""
    from web.pages import agency_applications as page

    def get(name: str, default: str = "") -> str:
        return str(params.get(name, default))

    chosen = page._filters(get("project"), get("state"), get("q"), get("from"), get("to"), get("sort", "submitted"))
    offset = (int(params.get("page", 1)) - 1) * page.PAGE_SIZE
    return f"/agency/applications?{urlencode({**page._api_query(chosen), 'limit': page.PAGE_SIZE, 'offset': offset})}"


def officers(stack: Stack, secret: str, count: int) -> tuple[list[str], list[str]]:
    """Agency staff's web sessions and bearer tokens: officers, every fourth an administrator; half read Latvian."""
    issuer = stack.token_issuer()
    cookies, tokens = [], []
    for i in range(count):
        roles = ("agency_admin",) if i % 4 == 3 else ("agency_officer",)
        session, token = web_pages.minted_session(
            issuer, f"bench-officer-{i}", roles, f"Aģentūras Darbinieks {i}", "lv" if i % 2 == 0 else "en", TOKEN_TTL
        )
        cookie = f"{SESSION_COOKIE}={web_pages.signed_session(secret, session)}"
        cookies.append(cookie)
        tokens.append(f"Bearer {token}")
    return cookies, tokens


# --------------------------------------------------------------------------- the offers


async def draft_offer(
    client: httpx.AsyncClient, docs: deadline.Documents, call_id: str, inst: deadline.Institution
) -> None:
    """An offer in its three steps with five attachments, left a draft; every other one with a wrong cost."""
    h = inst.admin
    started = deadline._ok(await client.post(f"{deadline.CALLS}/calls/{call_id}/offers", headers=h), 201)
    inst.offer_id = str(started["id"])
    base = f"{deadline.CALLS}/offers/{inst.offer_id}"
    wrong = inst.n % 2 == 1
    steps = (
        ("locations", {"locations": inst.addresses()}),
        ("programmes", deadline.programmes_body(inst, wrong_cost=wrong)),
        ("terms", deadline.terms_body(inst)),
    )
    for step, body in steps:
        deadline._ok(await client.put(f"{base}/{step}", json=body, headers=h), 200)
    for params, content in deadline.attachments_of(inst, docs):
        headers = {**h, "Content-Type": "application/pdf"}
        answer = await client.post(f"{base}/attachments", params=params, content=content, headers=headers)
        deadline._ok(answer, 201)


async def _drafts(stack: Stack, docs: deadline.Documents, call_id: str, insts: list[deadline.Institution]) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=120, trust_env=False) as client:
        await deadline._bounded(insts, 4, lambda i: draft_offer(client, docs, call_id, i))


def offers(stack: Stack, insts: list[deadline.Institution]) -> dict[str, Any]:
    """The institutions registered and approved in catalog, a call open for offers, a draft offer each."""
    docs = deadline.Documents()
    started = time.perf_counter()
    setup_plan = deadline.Plan(institutions=len(insts), setup_concurrency=4)
    registered = asyncio.run(deadline.set_up(stack, setup_plan, docs, insts))
    call = deadline.open_call(stack, CALL_OPEN_MINUTES)
    asyncio.run(_drafts(stack, docs, str(call["id"]), insts))
    return {
        **registered,
        "call": {"id": call["id"], "code": call["code"], "deadline_riga": call["timeline"]["offers_deadline_riga"]},
        "offers": len(insts),
        "with_a_wrong_cost": sum(i.n % 2 == 1 for i in insts),
        "seconds": round(time.perf_counter() - started, 1),
    }


def institution_users(stack: Stack, secret: str, insts: list[deadline.Institution], prefix: str) -> OfferSet:
    """Each institution admin's web session and bearer token (the subject catalog knows as the institution's
    administrator: `bench.deadline.institutions_of`'s), with the admin's offer."""
    issuer = stack.token_issuer()
    cookies, tokens = [], []
    for inst in insts:
        session, token = web_pages.minted_session(
            issuer,
            f"{prefix}-admin-{inst.n}",
            ("provider_admin",),
            f"Iestādes Administrators {inst.n}",
            "lv" if inst.n % 2 == 0 else "en",
            TOKEN_TTL,
        )
        cookies.append(f"{SESSION_COOKIE}={web_pages.signed_session(secret, session)}")
        tokens.append(f"Bearer {token}")
    return OfferSet([i.offer_id for i in insts], tokens, cookies)


@dataclass(frozen=True)
class OfferSet:
    offer_ids: list[str]
    tokens: list[str]
    """`Bearer ...` of each offer's institution admin, in the order of `offer_ids`."""
    cookies: list[str]
    """Each admin's web session, in the same order."""


# --------------------------------------------------------------------------- the loads and their checks


def loads(stack: Stack, officer_cookies: list[str], officer_tokens: list[str], offer_set: OfferSet) -> dict[str, Load]:
    queries = list(application_queries(datetime.now(UTC).date()).values())
    api = [api_path(q) for q in queries]
    checks = [f"/offers/{o}/checks" for o in offer_set.offer_ids]
    return {
        "applications_api": Load(stack.url("accounts"), api, officer_tokens, header="Authorization"),
        "applications_gateway": Load(
            stack.gateway_url, [f"/api/accounts{p}" for p in api], officer_tokens, header="Authorization"
        ),
        "applications_page": Load(stack.web_url, [page_path(q) for q in queries], officer_cookies),
        "checks_api": Load(stack.url("calls"), checks, offer_set.tokens, header="Authorization", method="POST"),
        "checks_gateway": Load(
            stack.gateway_url,
            [f"/api/calls{p}" for p in checks],
            offer_set.tokens,
            header="Authorization",
            method="POST",
        ),
        "checks_page": Load(
            stack.web_url, [f"/institution/offers/{o}/check" for o in offer_set.offer_ids], offer_set.cookies
        ),
    }


def check_all(stack: Stack, load: Mapping[str, Load], names: Sequence[str], expected_total: int) -> dict[str, Any]:
    """Every request of every scenario once before the load: a 200 (a page: no new cookie either); the API's total
    of the whole list is the number seeded; what each check found (the number of problems), each page's size."""
    found: dict[str, Any] = {}
    with httpx.Client(timeout=120, trust_env=False) as client:
        token = load["applications_api"].cookies[0]
        everything = client.get(
            f"{stack.url('accounts')}/agency/applications?limit=1", headers={"Authorization": token}
        )
        total = everything.json().get("total") if everything.status_code == 200 else None
        if total != expected_total:
            raise RuntimeError(f"accounts lists {total} applications, {expected_total} were seeded")
        found["api_total"] = total
        for name in names:
            each, sizes, notes = load[name], [], []
            for i, path in enumerate(each.paths):
                headers = {each.header: each.cookies[i % len(each.cookies)]}
                answer = client.request(each.method, each.url + path, headers=headers)
                if answer.status_code != 200:
                    raise RuntimeError(
                        f"{name}: {each.method} {path} answered {answer.status_code} {answer.text[:300]}"
                    )
                if each.header == "Cookie" and "set-cookie" in answer.headers:
                    raise RuntimeError(f"{name}: {path} set a cookie: the minted session was not taken as it is")
                sizes.append(len(answer.content))
                notes.append(_note(name, answer))
            found[name] = {"requests": len(each.paths), "bytes": sizes, "found": notes}
    return found


def _note(name: str, answer: httpx.Response) -> Any:
    if name.startswith("checks_") and name != "checks_page":
        body = answer.json()
        return {"ready": body.get("ready"), "problems": [p.get("rule") for p in body.get("problems", [])]}
    if name.startswith("applications_") and name != "applications_page":
        body = answer.json()
        return {"total": body.get("total"), "items": len(body.get("items", []))}
    text = answer.text
    return {"rows": text.count("<tr") - 1 if "<tr" in text else 0, "csrf_in_page": 'name="csrf_token"' in text}


# --------------------------------------------------------------------------- the run


@contextlib.contextmanager
def seeded_stack(plan: Plan, work: Path, secret: str, registers: Path) -> Iterator[tuple[Stack, dict[str, Any]]]:
    env = {**STACK_ENV, "REGISTERS_FILE": str(registers)}
    stack = Stack(var_dir=work / "stack", extra_env=env, service_env={"web": {"SESSION_SECRET": secret}})
    seeded = seed_applications(f"sqlite+aiosqlite:///{stack.var_dir / 'accounts.db'}", plan.applications)
    try:
        _start(stack, timeout=180, names=PROCESSES)
        yield stack, seeded
    finally:
        stack.stop()


def prepare(plan: Plan, work: Path) -> tuple[list[deadline.Institution], str]:
    """The stack's signing key made first (`Stack.start` keeps it), the institutions' admins' tokens from it, and the
    registers file catalog reads them from; the admins' subjects' prefix."""
    probe = Stack(var_dir=work / "stack")
    probe.var_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"ws{os.getpid()}"
    insts = deadline.institutions_of(probe.token_issuer(), plan.institutions, prefix)
    deadline.write_registers(work / "registers.json", insts)
    return insts, prefix


def measure_all(bench: Bench, stack: Stack, load: Mapping[str, Load]) -> dict[str, Any]:
    pids = {name: process.pid for name, process in stack.processes.items()}
    flags = procs.uvicorn_flags(pids["web"], registry.entry("web").factory)
    results: dict[str, Any] = {}
    port = free_port()
    with procs.echo_server(port, bench.work / "echo.log", flags) as echo:
        baseline = Load(f"http://127.0.0.1:{port}", ["/echo"], [])
        results["echo"] = web_pages._each_connections(bench, "echo", baseline, {"echo": echo.pid})
    for name, each in load.items():
        results[name] = web_pages._each_connections(bench, name, each, pids)
    return {"processes": pids, "echo_uvicorn_flags": flags, "results": results}


def per_query(bench: Bench, stack: Stack, load: Mapping[str, Load], today: date) -> dict[str, Any]:
    """Each of the list's queries alone at one connection: accounts straight, then the page (where the time goes
    by filter and order)."""
    pids = {name: process.pid for name, process in stack.processes.items()}
    out: dict[str, Any] = {}
    for i, label in enumerate(application_queries(today)):
        out[label] = {}
        for name in ("applications_api", "applications_page"):
            each = load[name]
            alone = replace(each, paths=[each.paths[i]])
            out[label][name] = bench.measure(f"{name}[{i}]", alone, pids, 1)
    return out


PROFILED = {"applications_page": ("web", "accounts", "gateway"), "checks_page": ("web", "calls", "gateway")}


def profile_pages(
    bench: Bench, stack: Stack, load: Mapping[str, Load], names: Sequence[str], seconds: float = 8
) -> dict[str, Any]:
    """py-spy of the page's processes under each page's load at 8 connections (figures under a profile are not
    comparable with the others: py-spy pauses the process for each sample)."""
    out: dict[str, Any] = {}
    for name in names:
        each, targets = load[name], PROFILED[name]
        cookies = bench.work / f"{name}.profile.cookies.txt"
        cookies.write_text("".join(f"{c}\n" for c in each.cookies), encoding="utf-8")
        paths = bench.work / f"{name}.profile.paths.txt"
        paths.write_text("".join(f"{p}\n" for p in each.paths), encoding="utf-8")

        def run(duration: float, each: Load = each, paths: Path = paths, cookies: Path = cookies) -> dict[str, Any]:
            return web_pages.run_pages(
                each.url,
                paths,
                cookies,
                threads=2,
                connections=8,
                seconds=duration,
                header=each.header,
                method=each.method,
            )

        pids = {t: stack.processes[t].pid for t in targets}
        out[name] = profiling.profile_under_load(run, pids, seconds, PROFILES, f"web_staff_pages-{name}")
        for target, profile in out[name]["profiles"].items():
            print("\n".join(profiling.summary_lines(f"{name} {target}", profile)), flush=True)
    return out


def target(results: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Issue 15's bar at each connection count: each page's p95 under 200 ms."""
    by_scenario = {
        name: {
            connections: {"p95_ms": r["p95_ms"], "met": r["p95_ms"] is not None and r["p95_ms"] < TARGET_P95_MS}
            for connections, r in results.get(name, {}).items()
        }
        for name in PAGES
        if name in results
    }
    return {"target": f"page p95 < {TARGET_P95_MS:g} ms through the web service", "by_scenario": by_scenario}


CPU_COLUMNS = {
    "echo": "echo",
    "web": "web",
    "gateway": "gateway",
    "accounts": "accounts",
    "calls": "calls",
    "catalog": "catalog",
    "notifications": "notices",
    "accounts-worker": "acc-wrkr",
    "calls-worker": "cal-wrkr",
    "wrk": "wrk",
    "other": "other",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s per figure after 1 s, 6 offers (25 000 applications)")
    parser.add_argument("--only", nargs="*", default=[], choices=SCENARIOS[1:], help="these scenarios only")
    parser.add_argument("--connections", type=int, nargs="*", help="instead of 1 8 32")
    parser.add_argument("--profile", action="store_true", help="then py-spy each page's processes under load")
    parser.add_argument("--per-query", action="store_true", help="then each list query alone, at 1 connection")
    parser.add_argument("--quiet-wait", type=float, help="the longest wait for a quiet machine before each figure (s)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a TERM stops the stack too (the `finally`s run)
    plan = Plan.of(args.quick)
    if args.connections:
        plan = replace(plan, connections=tuple(args.connections))
    if args.quiet_wait is not None:
        plan = replace(plan, quiet_max_wait_s=args.quiet_wait)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="prasmes-web-staff-"))
    secret = secrets.token_urlsafe(48)
    report: dict[str, Any] = {
        "benchmark": "the agency's application list and the offer checks page through the web service (issue 15)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "source": _source(),
        "plan": asdict(plan),
        "application_queries": application_queries(datetime.now(UTC).date()),
    }
    print(f"web staff pages{' (quick)' if plan.quick else ''}; work files in {work}", flush=True)
    try:
        insts, prefix = prepare(plan, work)
        with seeded_stack(plan, work, secret, work / "registers.json") as (stack, seeded):
            report["seeded"] = seeded
            print(f"  seeded: {seeded}", flush=True)
            report["offers"] = offers(stack, insts)
            print(f"  offers: {report['offers']}", flush=True)
            officer_cookies, officer_tokens = officers(stack, secret, plan.officers)
            load = loads(stack, officer_cookies, officer_tokens, institution_users(stack, secret, insts, prefix))
            measured = [name for name in load if not args.only or name in args.only]
            report["checked"] = check_all(stack, load, measured, plan.applications)
            bench = Bench(plan, work)  # type: ignore[arg-type]  # it reads the timing fields both plans have
            report.update(measure_all(bench, stack, {name: load[name] for name in measured}))
            if args.per_query:
                report["per_query"] = per_query(bench, stack, load, datetime.now(UTC).date())
            if args.profile:
                report["profiles"] = profile_pages(bench, stack, load, [n for n in PROFILED if n in measured])
    except BaseException:
        print(f"the run stopped; logs kept in {work}", file=sys.stderr, flush=True)
        raise
    web_pages.add_ratios(report["results"])
    report.update(target=target(report["results"]), failures=web_pages.failures(report["results"]))
    report["duration_s"] = round(time.monotonic() - started, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print(web_pages.table(report, CPU_COLUMNS, "web staff pages"))
    print(f"written to {OUT} in {report['duration_s']} s")
    if report["failures"]:
        print("FAILED: not every answer was a 200:\n  " + "\n  ".join(report["failures"]), file=sys.stderr)
        print(f"logs kept in {work}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
