"""The last hour before a call's deadline: `python -m bench.deadline [--quick] [--postgres] [--institutions N]`.

500 approved institutions (50 with `--quick`) each draft their offer to one call, run the checks and submit, all at
once with 64 in flight, through the gateway; next to the bare echo served the same way and driven by the same
generator in the same run.

**The stack.** `prasmes_devtools.devstack.Stack` with the rate limit lifted (`bench.stack_bench.STACK_ENV`): the
gateway, catalog and calls (each service an api and a worker process), on the embedded bus with SQLite, or with
`--postgres` on Kafka + PostgreSQL (`prasmes_testing.servers`, one database per service, as `bench.hotpath` does).
Catalog reads a registers file written for the run (catalog's setting `REGISTERS_FILE`): every institution with
its register number, two licensed professional-development programmes, an old vocational licence and two VIIS
addresses, accredited, registered in 2010.

**The set-up, through the services' own APIs and events (nothing seeded into a database).** For each institution,
straight to catalog (not timed): its provider_admin uploads the signed statement (ASiC-E) and registers the
institution, an agency officer approves it, the admin adds a location, uploads two curricula and registers the two
programmes (as licensed: the cost is catalog's own). Calls learns of all of it from catalog's events
(ProviderRegistered / Approved, ProviderUserAdded, ProgrammeRegistered); the script waits until every admin sees
both programmes in calls (`GET /institutions/me/programmes`). An agency_admin then opens a call through the calls
API whose offer window is open now and whose deadline is a few minutes ahead (real time: the stack's processes
share no clock), with IMK-4's institution criteria I1-I3 (accredited, registered 3 years, a vocational licence of
3 years) and programme criteria P1-P6. IMK-4's I4 (programmes delivered on the platform, from accounts'
StudiesCompleted) is left out: it would need accounts and a delivered group with completers per institution.

**The load** (timed), per institution, one request after the other, through the gateway: start the offer; step 1
locations, step 2 programmes, step 3 terms; five attachments (application, experience, the PAdES-signed statement,
a curriculum per programme: `prasmes_testing.samples`); the checks; the submission. Every tenth institution
(`FIX_EVERY`) first sends a wrong cost in step 2: its checks report the `coefficient` problem (counted apart), it
saves step 2 again and checks again before it submits. Closed loop in this process (httpx, asyncio; 64 workers
with a keep-alive connection each, taking the next institution when done); its CPU (`resource.getrusage`) is
reported beside the stack's. The echo baseline (`bench/echo_app.py` under the stack's uvicorn flags,
`bench.procs.echo_server`) gets the same number of requests per institution from the same loop, each a POST of the
step's JSON body (an attachment as a small JSON document: the echo takes JSON only).

**Read back.** After the run an agency officer lists the call's offers (`GET /calls/{id}/offers`): every
submission sent before the deadline must be `submitted` (lost = sent before the deadline and not submitted).

Reported: requests/s, p50/p99/max per step (start, locations, programmes, terms, attachments, the draft saves
together, checks, submit), errors (an unexpected status or no answer), submissions sent / accepted / lost, the CPU
milliseconds per request and per institution of every process (`bench.procs.cpu_snapshot`), of the load generator
and of the rest of the machine, and the load average. Writes `bench/out/deadline.json` (one entry per backend: a
run on one keeps the other's). Not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import tempfile
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from prasmes_devtools.devstack import BACKENDS, Stack
from prasmes_runtime import registry
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing import samples
from prasmes_testing.servers import create_database, free_port, kafka_server, postgres_server

from bench import procs
from bench.hotpath import _merge, stack_pids
from bench.run import _machine, _source, _start
from bench.stack_bench import STACK_ENV
from bench.stats import percentile, rounded

OUT = Path(__file__).resolve().parent / "out" / "deadline.json"
RIGA = ZoneInfo("Europe/Riga")
SERVICES = ("gateway", "catalog", "calls")
CATALOG, CALLS = "", "/api/calls"
"""Set-up goes straight to catalog's api process; the load goes through the gateway."""
FIX_EVERY = 10
"""Every tenth institution first saves a wrong cost, sees the checks find it, and corrects it."""
ICT = "Datorsistēmas, datubāzes un datortīkli"
RATE_PER_HOUR = Decimal("2.00")
"""1.56 EUR/h × ICT's coefficient 1.28, rounded to cents (the coefficient table v1 both services hold)."""
LICENCES = (("Datu analīze ar Python", 160, 64, "2023-05-10"), ("Kiberdrošības pamati", 120, 40, "2022-09-01"))
STATEMENTS = ["data_true", "no_double_funding", "call_terms_accepted"]
TOKEN_TTL = 6 * 3600
PROJECT = "IMK"


@dataclass(frozen=True)
class Plan:
    institutions: int
    concurrency: int = 64
    setup_concurrency: int = 16
    deadline_minutes: int = 20
    """The deadline minute, counted from the call's opening (after the set-up): the load must end before it."""

    @classmethod
    def of(cls, quick: bool, institutions: int | None = None) -> Plan:
        count = institutions or (50 if quick else 500)
        return cls(institutions=count, deadline_minutes=8 if count <= 100 else 20)


# --------------------------------------------------------------------------- the registers


@dataclass
class Institution:
    """One institution of the run: its register entry, its provider_admin's token, and what the services gave."""

    n: int
    admin: dict[str, str]
    institution_id: str = ""
    programme_ids: list[str] = field(default_factory=list)
    offer_id: str = ""
    submit_sent_at: float | None = None
    submitted: bool = False

    @property
    def number(self) -> str:
        return f"{5360800000 + self.n}"

    @property
    def name(self) -> str:
        return f"Termiņa mācību centrs {self.n}"

    @property
    def licences(self) -> list[str]:
        return [f"D{self.n}-{i + 1}" for i in range(len(LICENCES))]

    def addresses(self) -> list[dict[str, str]]:
        return [
            {"viis_id": f"VIIS-D{self.n}-1", "address": f"Skolas iela {self.n + 1}, Rīga, LV-1001", "city": "Rīga"},
            {
                "viis_id": f"VIIS-D{self.n}-2",
                "address": f"Rīgas iela {self.n + 1}, Valmiera, LV-4201",
                "city": "Valmiera",
            },
        ]

    def register_entry(self) -> dict[str, Any]:
        licensed = [
            _licence(number, title, hours, theory, licence_date)
            for number, (title, hours, theory, licence_date) in zip(self.licences, LICENCES, strict=True)
        ]
        licensed.append(_licence(f"V{self.n}", "Programmēšana", 1920, 800, "2012-08-20", "vocational"))
        return {
            "register_number": self.number,
            "name": self.name,
            "legal_address": self.addresses()[0]["address"],
            "registration_date": "2010-01-15",
            "accredited": True,
            "accreditation_valid_until": "2030-06-30",
            "licensed_programmes": licensed,
            "addresses": self.addresses(),
        }


def _licence(
    number: str, title: str, hours: int, theory: int, licence_date: str, kind: str = "professional_development"
) -> dict[str, Any]:
    return {
        "licence_number": number,
        "licence_date": licence_date,
        "title": title,
        "hours": hours,
        "theory_hours": theory,
        "practice_hours": hours - theory,
        "content_summary": "Teorija un praktiski darbi mācību klasē.",
        "accredited": True,
        "kind": kind,
    }


def institutions_of(issuer: TokenIssuer, count: int, prefix: str) -> list[Institution]:
    return [
        Institution(n, _bearer(issuer.issue(f"{prefix}-admin-{n}", ["provider_admin"], ttl_seconds=TOKEN_TTL)))
        for n in range(count)
    ]


def write_registers(path: Path, institutions: list[Institution]) -> None:
    about = "Synthetic registers of bench.deadline: every institution passes the offer rules."
    document = {"about": about, "institutions": [i.register_entry() for i in institutions]}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- set-up through catalog


@dataclass(frozen=True)
class Documents:
    """The sample documents, made once (each a fresh signature otherwise)."""

    asice: bytes = field(default_factory=samples.asice_container)
    pades: bytes = field(default_factory=samples.pades_pdf)
    pdf: bytes = field(default_factory=samples.plain_pdf)


def _ok(response: httpx.Response, *expected: int) -> dict[str, Any]:
    if response.status_code not in expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


async def _catalog_document(client: httpx.AsyncClient, headers: dict[str, str], purpose: str, content: bytes) -> str:
    answer = await client.post(
        f"{CATALOG}/documents",
        params={"purpose": purpose, "filename": "apliecinajums.edoc" if purpose == "statement" else "plans.pdf"},
        content=content,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    return str(_ok(answer, 201)["id"])


async def register_institution(
    client: httpx.AsyncClient, docs: Documents, officer: dict[str, str], inst: Institution
) -> None:
    """Register, approve, one location, two programmes as licensed: what calls needs to hear of."""
    statement = await _catalog_document(client, inst.admin, "statement", docs.asice)
    body = samples.registration_payload(statement, inst.number) | {"name": inst.name, "legal_address": "Rīga"}
    registered = _ok(await client.post(f"{CATALOG}/providers", json=body, headers=inst.admin), 201)
    inst.institution_id = str(registered["id"])
    base = f"{CATALOG}/providers/{inst.institution_id}"
    _ok(await client.post(f"{base}/approve", headers=officer), 200)
    address = inst.addresses()[0]["address"]
    location = _ok(await client.post(f"{base}/locations", json={"address": address}, headers=inst.admin), 201)
    for licence, (title, hours, theory, licence_date) in zip(inst.licences, LICENCES, strict=True):
        curriculum = await _catalog_document(client, inst.admin, "curriculum", docs.pdf)
        payload = samples.programme_payload(
            [str(location["id"])],
            curriculum,
            title={"lv": title, "en": title},
            licence_number=licence,
            licence_date=licence_date,
            total_hours=hours,
            theory_hours=theory,
            practice_hours=hours - theory,
        )
        programme = _ok(await client.post(f"{base}/programmes", json=payload, headers=inst.admin), 201)
        inst.programme_ids.append(str(programme["id"]))


async def _bounded(items: list[Institution], concurrency: int, work: Callable[[Institution], Awaitable[None]]) -> None:
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await work(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def set_up(stack: Stack, plan: Plan, docs: Documents, institutions: list[Institution]) -> dict[str, Any]:
    officer = _bearer(stack.token_issuer().issue("bench-officer", ["agency_officer"], ttl_seconds=TOKEN_TTL))
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=stack.url("catalog"), timeout=60, trust_env=False) as client:
        await _bounded(institutions, plan.setup_concurrency, lambda i: register_institution(client, docs, officer, i))
    registered = time.perf_counter() - started
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60, trust_env=False) as client:
        await _bounded(institutions, plan.setup_concurrency, lambda i: _until_calls_knows(client, i))
    return {
        "institutions": len(institutions),
        "catalog_seconds": round(registered, 1),
        "calls_read_models_seconds": round(time.perf_counter() - started - registered, 1),
        "through": "catalog's API (straight to its api process); calls from catalog's events",
    }


async def _until_calls_knows(client: httpx.AsyncClient, inst: Institution, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = await client.get(f"{CALLS}/institutions/me/programmes", headers=inst.admin)
        if answer.status_code == 200 and len(answer.json()) == len(LICENCES):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"calls did not learn of institution {inst.n} within {timeout} s")


# --------------------------------------------------------------------------- the call


def _riga_minute(at: datetime) -> str:
    return at.astimezone(RIGA).strftime("%Y-%m-%dT%H:%M")


def call_body(code: str, now: datetime, deadline_minutes: int) -> dict[str, Any]:
    """Open since the minute before now, deadline `deadline_minutes` ahead (to the minute, Riga time)."""
    deadline = now + timedelta(minutes=deadline_minutes)
    day = deadline.astimezone(RIGA).date()
    today = now.astimezone(RIGA).date()

    def on(d: date, days: int) -> str:
        return (d + timedelta(days=days)).isoformat()

    return {
        "code": code,
        "title": {"lv": "Termiņa uzaicinājums", "en": "Deadline call"},
        "project_code": PROJECT,
        "timeline": {
            "applications_open_on": on(today, -20),
            "applications_close_on": on(today, -10),
            "offers_open_at": _riga_minute(now - timedelta(minutes=1)),
            "offers_deadline_at": _riga_minute(deadline),
            "evaluation_starts_on": on(day, 1),
            "evaluation_ends_on": on(day, 20),
            "decision_on": on(day, 21),
            "agreements_from": on(day, 21),
            "publication_from": on(day, 21),
            "delivery_ends_on": on(day, 200),
        },
        "max_programmes_per_institution": 3,
        "institution_criteria": [
            {"code": "I1", "rule": "accredited", "params": {}},
            {"code": "I2", "rule": "registered_years", "params": {"years": 3}},
            {"code": "I3", "rule": "vocational_programme_years", "params": {"years": 3}},
        ],
        "programme_criteria": [
            {"code": "P1", "rule": "licensed", "params": {}},
            {"code": "P2", "rule": "programme_kind", "params": {"kind": "professional_development"}},
            {"code": "P3", "rule": "form", "params": {"forms": ["in_person"]}},
            {"code": "P4", "rule": "digcomp_range", "params": {"min": 4, "max": 6}},
            {"code": "P5", "rule": "digital_share", "params": {"min_percent": 70}},
            {"code": "P6", "rule": "qualifications", "params": {"any_of": ["programmesanas_tehnikis"]}},
        ],
    }


def open_call(stack: Stack, deadline_minutes: int) -> dict[str, Any]:
    admin = _bearer(stack.token_issuer().issue("bench-agency-admin", ["agency_admin"], ttl_seconds=TOKEN_TTL))
    body = call_body(f"DL-{uuid.uuid4().hex[:6].upper()}", datetime.now(UTC), deadline_minutes)
    answer = httpx.post(f"{stack.gateway_url}{CALLS}/calls", json=body, headers=admin, timeout=60, trust_env=False)
    call = _ok(answer, 201)
    if call["phase"] != "offers":
        raise RuntimeError(f"the call is in phase {call['phase']}, not offers")
    return call


# --------------------------------------------------------------------------- the load


@dataclass
class Recorder:
    """Latencies by step, errors (unexpected status or no answer) with a few samples."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    checks_with_problems: int = 0
    problem_rules: dict[str, int] = field(default_factory=dict)

    async def send(
        self, client: httpx.AsyncClient, step: str, method: str, url: str, expect: int, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.failed(step, f"{type(exc).__name__}: {exc}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            self.failed(step, f"{response.status_code}: {response.text[:300]}")
            return None
        self.latencies.setdefault(step, []).append(elapsed)
        return response

    def failed(self, step: str, what: str) -> None:
        self.errors[step] = self.errors.get(step, 0) + 1
        if len(self.error_samples) < 8:
            self.error_samples.append(f"{step}: {what}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())


DRAFT_STEPS = ("locations", "programmes", "terms", "attachment")


def programmes_body(inst: Institution, *, wrong_cost: bool = False) -> dict[str, Any]:
    items = []
    for i, (programme_id, (_, hours, theory, _)) in enumerate(zip(inst.programme_ids, LICENCES, strict=True)):
        cost = RATE_PER_HOUR * hours + (Decimal("1.00") if wrong_cost and i == 0 else 0)
        items.append(
            {
                "programme_id": programme_id,
                "theory_hours": theory,
                "practice_hours": hours - theory,
                "cost_per_participant": str(cost),
                "provision": {
                    "equipment": "Dators ar 8 GB RAM un tīmekļa kameru; mācību klasē tas ir nodrošināts",
                    "operating_systems": ["windows", "linux"],
                },
                "location_viis_ids": [inst.addresses()[0]["viis_id"]],
            }
        )
    return {"programmes": items}


def terms_body(inst: Institution) -> dict[str, Any]:
    return {"funding_source": PROJECT, "programme_ids": inst.programme_ids, "statements": STATEMENTS}


def attachments_of(inst: Institution, docs: Documents) -> list[tuple[dict[str, str], bytes]]:
    """(query, content) of the five attachments."""
    plain = [({"kind": kind, "filename": f"{kind}.pdf"}, docs.pdf) for kind in ("application", "experience")]
    signed = [({"kind": "signed_statement", "filename": "apliecinajums.pdf"}, docs.pades)]
    curricula = [
        ({"kind": "curriculum", "programme_id": p, "filename": "macibu-plans.pdf"}, docs.pdf)
        for p in inst.programme_ids
    ]
    return plain + signed + curricula


async def deadline_flow(
    client: httpx.AsyncClient, rec: Recorder, docs: Documents, call_id: str, inst: Institution
) -> None:
    """One institution's last hour: the draft in three steps, the attachments, the checks, the submission."""
    h = inst.admin
    started = await rec.send(client, "start", "POST", f"{CALLS}/calls/{call_id}/offers", 201, headers=h)
    if started is None:
        return
    inst.offer_id = offer = str(started.json()["id"])
    base = f"{CALLS}/offers/{offer}"
    fixing = inst.n % FIX_EVERY == FIX_EVERY - 1
    await rec.send(
        client, "locations", "PUT", f"{base}/locations", 200, json={"locations": inst.addresses()}, headers=h
    )
    programmes = programmes_body(inst, wrong_cost=fixing)
    await rec.send(client, "programmes", "PUT", f"{base}/programmes", 200, json=programmes, headers=h)
    await rec.send(client, "terms", "PUT", f"{base}/terms", 200, json=terms_body(inst), headers=h)
    for params, content in attachments_of(inst, docs):
        headers = {**h, "Content-Type": "application/pdf"}
        await rec.send(
            client, "attachment", "POST", f"{base}/attachments", 201, params=params, content=content, headers=headers
        )
    if not await _checked(client, rec, base, h) and fixing:
        await rec.send(client, "programmes", "PUT", f"{base}/programmes", 200, json=programmes_body(inst), headers=h)
        await _checked(client, rec, base, h)
    inst.submit_sent_at = time.time()
    submitted = await rec.send(client, "submit", "POST", f"{base}/submit", 200, headers=h)
    inst.submitted = submitted is not None and submitted.json()["state"] == "submitted"


async def _checked(client: httpx.AsyncClient, rec: Recorder, base: str, headers: dict[str, str]) -> bool:
    answer = await rec.send(client, "checks", "POST", f"{base}/checks", 200, headers=headers)
    if answer is None:
        return False
    body = answer.json()
    if not body["ready"]:
        rec.checks_with_problems += 1
        for problem in body["problems"]:
            rec.problem_rules[problem["rule"]] = rec.problem_rules.get(problem["rule"], 0) + 1
    return bool(body["ready"])


async def echo_flow(client: httpx.AsyncClient, rec: Recorder, docs: Documents, inst: Institution) -> None:
    """As many requests as an institution's flow makes (the corrections of every tenth one included), each a POST
    of the step's JSON body to the echo; an attachment as a small JSON document."""
    fixing = inst.n % FIX_EVERY == FIX_EVERY - 1
    steps: list[tuple[str, dict[str, Any]]] = [
        ("start", {"call_id": "x"}),
        ("locations", {"locations": inst.addresses()}),
        ("programmes", programmes_body(inst)),
        ("terms", terms_body(inst)),
        *(("attachment", dict(params) | {"size": len(content)}) for params, content in attachments_of(inst, docs)),
        ("checks", {}),
        *((("programmes", programmes_body(inst)), ("checks", {})) if fixing else ()),
        ("submit", {}),
    ]
    for step, body in steps:
        await rec.send(client, step, "POST", "/echo", 200, json=body, headers=inst.admin)


async def closed_loop(
    base_url: str,
    institutions: list[Institution],
    concurrency: int,
    flow: Callable[[httpx.AsyncClient, Recorder, Institution], Awaitable[None]],
    warm_path: str,
) -> tuple[Recorder, float, float]:
    """`concurrency` workers, each with one keep-alive connection (opened by a GET of `warm_path` before the clock
    starts), taking the next institution when done. Returns the recorder, the seconds and the load generator's
    CPU seconds of the timed part."""
    rec = Recorder()
    queue = iter(institutions)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as exits:
        clients = [
            await exits.enter_async_context(
                httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120, trust_env=False)
            )
            for _ in range(concurrency)
        ]
        await asyncio.gather(*(c.get(warm_path) for c in clients))

        async def worker(client: httpx.AsyncClient) -> None:
            for inst in queue:
                await flow(client, rec, inst)

        started, own = time.perf_counter(), _own_cpu_seconds()
        await asyncio.gather(*(worker(c) for c in clients))
        return rec, time.perf_counter() - started, _own_cpu_seconds() - own


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured(
    base_url: str,
    institutions: list[Institution],
    concurrency: int,
    flow: Callable[[httpx.AsyncClient, Recorder, Institution], Awaitable[None]],
    pids: dict[str, int],
    warm_path: str,
) -> tuple[Recorder, dict[str, Any]]:
    """The closed loop with the CPU of every process in `pids` and of the load generator (this process)."""
    load_before, cpu_before = os.getloadavg(), procs.cpu_snapshot(pids)
    rec, elapsed, own = asyncio.run(closed_loop(base_url, institutions, concurrency, flow, warm_path))
    cpu_after = procs.cpu_snapshot(pids)
    extra = {"load_generator": own}
    ok = rec.requests - sum(rec.errors.values())
    report = {
        "institutions": len(institutions),
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 2),
        "requests": rec.requests,
        "requests_per_s": rounded(ok / elapsed if elapsed else 0.0, 1),
        "institutions_per_s": rounded(len(institutions) / elapsed if elapsed else 0.0, 2),
        "errors": sum(rec.errors.values()),
        "errors_by_step": rec.errors,
        "error_samples": rec.error_samples,
        "steps": _steps(rec),
        "checks_with_problems": rec.checks_with_problems,
        "problem_rules": rec.problem_rules,
        "cpu_ms_per_request": procs.cpu_ms_per_request(cpu_before, cpu_after, ok, extra),
        "cpu_ms_per_institution": procs.cpu_ms_per_request(cpu_before, cpu_after, len(institutions), extra),
        "load_generator_cpu_percent_of_one_core": round(100 * own / elapsed, 1) if elapsed else None,
        "machine_busy_percent": round(
            100 * (cpu_after["machine"] - cpu_before["machine"]) / (elapsed * (os.cpu_count() or 1)), 1
        ),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
    }
    return rec, report


def _steps(rec: Recorder) -> dict[str, Any]:
    def summary(values: list[float]) -> dict[str, Any]:
        return {
            "count": len(values),
            "p50_ms": rounded(percentile(values, 50)),
            "p99_ms": rounded(percentile(values, 99)),
            "max_ms": rounded(max(values, default=0.0)),
        }

    steps = {step: summary(values) for step, values in rec.latencies.items()}
    steps["draft_saves"] = summary([v for s in DRAFT_STEPS for v in rec.latencies.get(s, [])])
    return steps


# --------------------------------------------------------------------------- read back


def read_back(stack: Stack, call: dict[str, Any], institutions: list[Institution]) -> dict[str, Any]:
    """Every offer's state as the agency reads it, against what the institutions sent before the deadline."""
    officer = _bearer(stack.token_issuer().issue("bench-reader", ["agency_officer"], ttl_seconds=TOKEN_TTL))
    states: dict[str, str] = {}
    with httpx.Client(base_url=stack.gateway_url, timeout=60, trust_env=False) as client:
        while True:
            page = _ok(
                client.get(
                    f"{CALLS}/calls/{call['id']}/offers", params={"limit": 200, "offset": len(states)}, headers=officer
                ),
                200,
            )
            states.update({str(o["id"]): o["state"] for o in page["items"]})
            if not page["items"] or len(states) >= page["total"]:
                break
    deadline = datetime.fromisoformat(call["timeline"]["offers_deadline_at"]).timestamp() + 60
    on_time = [i for i in institutions if i.submit_sent_at is not None and i.submit_sent_at < deadline]
    lost = [i.n for i in on_time if states.get(i.offer_id) != "submitted"]
    counted: dict[str, int] = {}
    for state in states.values():
        counted[state] = counted.get(state, 0) + 1
    return {
        "offers_read_back": len(states),
        "states": counted,
        "submissions_sent": sum(i.submit_sent_at is not None for i in institutions),
        "sent_before_deadline": len(on_time),
        "accepted_answers": sum(i.submitted for i in institutions),
        "submitted_read_back": counted.get("submitted", 0),
        "lost": len(lost),
        "lost_institutions": lost[:20],
        "deadline_riga": call["timeline"]["offers_deadline_riga"],
        "seconds_left_at_the_end": round(deadline - time.time(), 1),
    }


# --------------------------------------------------------------------------- the stack and the run


@contextlib.contextmanager
def started_stack(postgres: bool, work: Path, registers: Path) -> Iterator[tuple[Stack, dict[str, int]]]:
    """gateway, catalog and calls on the embedded bus + SQLite, or on Kafka + PostgreSQL (bench.hotpath's way)."""
    bus = "kafka" if postgres else "embedded"
    env = {**STACK_ENV, "REGISTERS_FILE": str(registers)}
    with contextlib.ExitStack() as exits:
        stack = Stack(var_dir=work / f"stack-{bus}", bus=bus, extra_env=env)
        servers: dict[str, int] = {}
        if postgres:
            bootstrap = exits.enter_context(kafka_server())
            server_url = exits.enter_context(postgres_server())
            suffix = f"{os.getpid()}_{time.monotonic_ns() % 10**9}"
            stack.kafka_bootstrap = bootstrap
            stack.database_urls = {name: create_database(server_url, f"dl_{name}_{suffix}") for name in BACKENDS}
            for name, port in (("kafka", int(bootstrap.rsplit(":", 1)[1])), ("postgres", urlsplit(server_url).port)):
                pid = procs.listener_pid(port) if port else None
                if pid is not None:
                    servers[name] = pid
        exits.callback(stack.stop)
        _start(stack, timeout=120 if postgres else 60, names=SERVICES)
        yield stack, servers


def echo_baseline(
    stack: Stack, work: Path, plan: Plan, docs: Documents, institutions: list[Institution]
) -> dict[str, Any]:
    flags = procs.uvicorn_flags(stack.processes["gateway"].pid, registry.entry("gateway").factory)
    port = free_port()
    with procs.echo_server(port, work / "echo.log", flags) as echo:
        _, report = measured(
            f"http://127.0.0.1:{port}",
            institutions,
            plan.concurrency,
            lambda c, r, i: echo_flow(c, r, docs, i),
            {"echo": echo.pid},
            "/echo",
        )
    return {"uvicorn_flags": flags, **report}


def run_backend(postgres: bool, plan: Plan, work: Path) -> dict[str, Any]:
    docs = Documents()
    registers = work / "registers.json"
    # the issuer's key is the stack's: made before the stack starts (Stack.start keeps an existing key)
    probe = Stack(var_dir=work / f"stack-{'kafka' if postgres else 'embedded'}")
    probe.var_dir.mkdir(parents=True, exist_ok=True)
    institutions = institutions_of(probe.token_issuer(), plan.institutions, f"dl{os.getpid()}")
    write_registers(registers, institutions)
    result: dict[str, Any] = {}
    with started_stack(postgres, work, registers) as (stack, servers):
        pids = stack_pids(stack, servers)
        result["processes"] = {name: {"pid": pid} for name, pid in pids.items()}
        print(f"  set-up: {plan.institutions} institutions through catalog ...", flush=True)
        result["setup"] = asyncio.run(set_up(stack, plan, docs, institutions))
        print(f"  set-up done: {result['setup']}", flush=True)
        call = open_call(stack, plan.deadline_minutes)
        result["call"] = {
            "id": call["id"],
            "code": call["code"],
            "deadline_riga": call["timeline"]["offers_deadline_riga"],
        }
        print("  echo baseline ...", flush=True)
        result["echo"] = echo_baseline(stack, work, plan, docs, institutions)
        _print("echo", result["echo"])
        procs.wait_quiet(max_wait=10)
        print("  the deadline hour ...", flush=True)
        _, result["deadline"] = measured(
            stack.gateway_url,
            institutions,
            plan.concurrency,
            lambda c, r, i: deadline_flow(c, r, docs, call["id"], i),
            pids,
            "/healthz",
        )
        _print("deadline", result["deadline"])
        result["read_back"] = read_back(stack, call, institutions)
        print(f"  read back: {result['read_back']}", flush=True)
    echo_rps = result["echo"]["requests_per_s"]
    result["ratio_rps_to_echo"] = round(result["deadline"]["requests_per_s"] / echo_rps, 4) if echo_rps else None
    result["targets"] = targets(result)
    return result


def targets(result: dict[str, Any]) -> dict[str, Any]:
    checks_p99 = result["deadline"]["steps"].get("checks", {}).get("p99_ms")
    back = result["read_back"]
    return {
        "no_submission_lost": {"value": back["lost"], "met": back["lost"] == 0},
        "no_errors": {"value": result["deadline"]["errors"], "met": result["deadline"]["errors"] == 0},
        "checks_p99_under_500_ms": {"value": checks_p99, "met": checks_p99 is not None and checks_p99 < 500},
    }


def _print(name: str, report: dict[str, Any]) -> None:
    cpu = report["cpu_ms_per_request"]
    print(
        f"  {name}: {report['requests']} requests in {report['elapsed_s']} s, {report['requests_per_s']} req/s, "
        f"errors {report['errors']}, CPU ms/request {cpu}, load {report['load_average']}",
        flush=True,
    )
    for step, s in report["steps"].items():
        print(f"    {step:12} n={s['count']:>5} p50 {s['p50_ms']} ms p99 {s['p99_ms']} ms max {s['max_ms']} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="50 institutions, a smoke run")
    parser.add_argument(
        "--postgres", action="store_true", help="Kafka + PostgreSQL instead of the embedded bus + SQLite"
    )
    parser.add_argument("--institutions", type=int, default=None, help="another number of institutions")
    args = parser.parse_args()
    plan = Plan.of(args.quick, args.institutions)
    backend = "postgres" if args.postgres else "embedded"
    started = time.monotonic()
    date_now = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"deadline, {backend}, {plan.institutions} institutions", flush=True)
    with tempfile.TemporaryDirectory(prefix="prasmes-deadline-") as folder:
        try:
            result = run_backend(args.postgres, plan, Path(folder))
        except Exception as exc:
            traceback.print_exc()
            result = {"error": f"{type(exc).__name__}: {exc}"}
    entry = {
        "date": date_now,
        "backend": backend,
        "quick": args.quick,
        "machine": _machine(),
        "source": _source(),
        "plan": asdict(plan),
        "duration_s": round(time.monotonic() - started, 1),
        **result,
    }
    _merge(OUT, backend, entry)
    print(json.dumps(result.get("targets", result.get("error")), indent=2))
    print(f"written to {OUT} in {entry['duration_s']} s")


if __name__ == "__main__":
    main()
