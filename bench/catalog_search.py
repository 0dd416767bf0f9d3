"""Public catalogue search at scale: `python -m bench.catalog_search [--quick] [--postgres]`.

Seeds 5 000 published programmes and 20 000 study groups straight into a fresh catalog database (the
same columns and normalised search text the service writes), starts the catalog service and the
gateway as processes (as `make run` does), and measures a mix of searches (words with and without
diacritics, filters, sorting, paging) in closed loop, next to the bare FastAPI echo endpoint served the
same way: latencies, and the CPU milliseconds per request of every process (the load generator, this
process, included) with the machine's load average, since others' work on the machine shows in latencies.
The catalog and its migrations are the ones imported (`PYTHONPATH` may point at another checkout's
`services/catalog/src` to measure older code with this script). Writes bench/out/catalog.json. Not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from catalog.app import DEFINITION
from catalog.db import groups as group_tables
from catalog.db import programmes as programme_tables
from catalog.db import providers as provider_tables
from catalog.domain import programmes as domain
from catalog.domain.groups import GroupInput, GroupStatus, StudyGroup
from catalog.domain.programmes import (
    QUALIFICATIONS,
    OperatingSystem,
    ProgrammeForm,
    ProgrammeInput,
    ProgrammeStatus,
    ProgrammeType,
)
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_runtime import migrations
from prasmes_testing.servers import create_database, free_port, postgres_server
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import procs
from bench.stats import percentile, rounded

OUT = Path(__file__).resolve().parent / "out" / "catalog.json"
MIGRATIONS = DEFINITION.migrations_dir
SEARCH_INDEX = "programme_search"
"""SQLite: the word search's FTS5 table (revision 0005), which triggers on `programmes` fill as rows arrive."""
SEARCH = "/public/programmes"
STACK_ENV = {"DEV_MODE": "true", "RATE_LIMIT_PER_MINUTE": "10000000", "RATE_LIMIT_BURST": "1000000"}
ICT = "Datorsistēmas, datubāzes un datortīkli"
CITIES = ["Rīga", "Valmiera", "Cēsis", "Liepāja", "Daugavpils", "Jelgava", "Ventspils", "Rēzekne"]
TOPICS = [
    ("Datu analīze", "Data analysis"),
    ("Kiberdrošības pamati", "Cybersecurity basics"),
    ("Programmēšana ar Python", "Programming with Python"),
    ("Tīmekļa izstrāde", "Web development"),
    ("Datortīklu administrēšana", "Network administration"),
    ("Mākoņpakalpojumi", "Cloud services"),
    ("Datubāzes un SQL", "Databases and SQL"),
    ("Mākslīgā intelekta rīki", "Artificial intelligence tools"),
    ("Biroja programmatūra", "Office software"),
    ("Projektu vadība digitāli", "Digital project management"),
]
LEVELS = ["iesācējiem", "pamatlīmenis", "vidējais līmenis", "padziļināti", "praktikums"]


@dataclass(frozen=True)
class Plan:
    programmes: int
    groups: int
    requests: int
    warmup: int
    concurrency: int
    max_seconds: float

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(programmes=5000, groups=20000, requests=400, warmup=50, concurrency=16, max_seconds=20)
        return cls(programmes=5000, groups=20000, requests=3000, warmup=200, concurrency=16, max_seconds=60)


# --------------------------------------------------------------------------- seeding


def _spec(rng: random.Random, i: int, locations: list[uuid.UUID]) -> ProgrammeInput:
    lv, en = TOPICS[i % len(TOPICS)]
    level = LEVELS[(i // len(TOPICS)) % len(LEVELS)]
    hours = rng.choice([40, 80, 120, 160, 200])
    theory = hours * 2 // 5
    qualifications = rng.sample(sorted(QUALIFICATIONS), k=rng.randint(1, 3))
    digcomp = rng.randint(2, 7)
    return ProgrammeInput(
        title={"lv": f"{lv} {level} {i}", "en": f"{en} {i}"},
        licence_number=f"P-{i:05d}",
        licence_date=date(2022, 1, 1) + timedelta(days=i % 900),
        thematic_area="Informācijas un komunikācijas tehnoloģijas",
        programme_group=ICT,
        programme_type=ProgrammeType.PROFESSIONAL_DEVELOPMENT,
        form=rng.choice(list(ProgrammeForm)),
        digcomp_level=digcomp,
        total_hours=hours,
        theory_hours=theory,
        practice_hours=hours - theory,
        digital_share_percent=Decimal(rng.randint(50, 100)),
        qualifications=tuple(qualifications),
        professional_competences=(f"{lv}: praktiskas prasmes darbā", "Sadarbība komandā digitālā vidē"),
        learning_outcomes=(f"Spēj patstāvīgi lietot {lv.lower()} rīkus", "Spēj novērtēt savu darbu"),
        description=f"Programma '{lv}' ({level}) pieaugušajiem: teorija un praktiski uzdevumi mācību klasē.",
        language=rng.choice(["lv", "lv", "en", "ru"]),
        entry_level=max(1, digcomp - 2),
        prior_knowledge="Datora lietošanas pamatprasmes.",
        equipment="Dators ar interneta pieslēgumu",
        operating_systems=(OperatingSystem.WINDOWS, OperatingSystem.LINUX),
        location_ids=tuple(locations),
        curriculum_document_id=uuid.uuid4(),
    )


def _programme(
    rng: random.Random, i: int, institution: uuid.UUID, name: str, locations: dict[uuid.UUID, str], now: datetime
) -> tuple[dict[str, Any], ProgrammeInput]:
    chosen = rng.sample(sorted(locations), k=min(2, len(locations)))
    spec = _spec(rng, i, chosen)
    table = domain.CoefficientTable(1, Decimal("1.56"), {ICT: Decimal("1.28")}, date(2024, 1, 1), now)
    cost = domain.compute_cost(table, ICT, spec.total_hours)
    programme = domain.Programme(
        uuid.uuid4(),
        institution,
        spec,
        cost,
        ProgrammeStatus.PUBLISHED,
        now,
        "bench",
        published_at=now - timedelta(minutes=i),
        publication_valid_until=date.today() + timedelta(days=365),
        call_id=None,
    )
    search_text = domain.programme_search_text(spec, name, [locations[c] for c in chosen])
    return programme_tables.programme_values(programme, search_text), spec


def _groups(
    rng: random.Random,
    programme: dict[str, Any],
    spec: ProgrammeInput,
    count: int,
    locations: dict[uuid.UUID, str],
    now: datetime,
) -> list[dict[str, Any]]:
    rows = []
    for _ in range(count):
        location = rng.choice(list(spec.location_ids))
        start = date.today() + timedelta(days=rng.randint(-30, 180))
        capacity = rng.choice([10, 12, 15, 20, 25])
        enrolled = rng.randint(0, capacity)
        group = StudyGroup(
            uuid.uuid4(),
            programme["id"],
            programme["institution_id"],
            GroupInput(
                location,
                start,
                start + timedelta(days=60),
                "Otrdienās un ceturtdienās 18:00-21:00",
                capacity,
                spec.language,
                spec.entry_level,
            ),
            locations[location],
            GroupStatus.SCHEDULED if rng.random() > 0.05 else GroupStatus.CANCELLED,
            enrolled,
            now,
            now,
        )
        rows.append(group_tables.group_values(group))
    return rows


def seed(url: str, plan: Plan, rng_seed: int = 42) -> dict[str, int | None]:
    """A fresh, migrated catalog database holding `plan.programmes` published programmes and `plan.groups` groups."""
    migrations.upgrade(MIGRATIONS, url)
    rng = random.Random(rng_seed)
    now = datetime.now(UTC)
    institutions: list[dict[str, Any]] = []
    locations: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    programmes: list[dict[str, Any]] = []
    specs: list[dict[str, Any]] = []
    qualifications: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    per_institution: dict[uuid.UUID, dict[uuid.UUID, str]] = {}
    for n in range(50):
        institution_id = uuid.uuid4()
        institutions.append(
            {
                "id": institution_id,
                "name": f"Mācību centrs {n} {rng.choice(['Digitālās prasmes', 'IT akadēmija', 'Tehnikums'])}",
                "register_number": f"{4360800000 + n}",
                "legal_address": f"Iela {n}, {CITIES[n % len(CITIES)]}",
                "admin_name": "Bench Admin",
                "admin_email": f"admin{n}@example.lv",
                "registered_by": f"bench-{n}",
                "registered_at": now,
                "statement_document_id": uuid.uuid4(),
                "status": "approved",
            }
        )
        per_institution[institution_id] = {}
        for city in rng.sample(CITIES, k=3):
            location_id = uuid.uuid4()
            per_institution[institution_id][location_id] = city
            locations.append(
                {
                    "id": location_id,
                    "institution_id": institution_id,
                    "address": f"Skolas iela {n}, {city}",
                    "city": city,
                    "viis_id": f"VIIS-{location_id.hex[:8]}",
                    "created_at": now,
                }
            )
    names: dict[uuid.UUID, str] = {i["id"]: i["name"] for i in institutions}
    owners = list(per_institution)
    per_programme = plan.groups // plan.programmes
    for i in range(plan.programmes):
        institution_id = owners[i % len(owners)]
        values, spec = _programme(rng, i, institution_id, names[institution_id], per_institution[institution_id], now)
        programmes.append(values)
        specs.append({"programme_id": values["id"], "spec": programme_tables.spec_json(spec)})
        qualifications += [{"programme_id": values["id"], "qualification": q} for q in spec.qualifications]
        links += [{"programme_id": values["id"], "location_id": loc} for loc in spec.location_ids]
        groups += _groups(rng, values, spec, per_programme, per_institution[institution_id], now)
    asyncio.run(_bulk(url, institutions, locations, memberships, programmes, specs, qualifications, links, groups))
    seeded: dict[str, int | None] = {"programmes": len(programmes), "groups": len(groups)}
    return {**seeded, "institutions": len(institutions), "search_index_rows": asyncio.run(_search_index_rows(url))}


async def _search_index_rows(url: str) -> int | None:
    """Rows of SQLite's search table (as many as programmes: the triggers filled it as the service's writes
    would); None where there is none (PostgreSQL's GIN index, or code before revision 0005)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name != "sqlite":
                return None
            known = await conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = ?", (SEARCH_INDEX,))
            if known.first() is None:
                return None
            return int((await conn.exec_driver_sql(f"SELECT count(*) FROM {SEARCH_INDEX}")).scalar_one())
    finally:
        await engine.dispose()


async def _bulk(url: str, *rows: list[dict[str, Any]]) -> None:
    tables = [
        provider_tables.institutions,
        provider_tables.locations,
        provider_tables.memberships,
        programme_tables.programmes,
        programme_tables.programme_specs,
        programme_tables.programme_qualifications,
        programme_tables.programme_locations,
        group_tables.study_groups,
    ]
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for table, values in zip(tables, rows, strict=True):
            for start in range(0, len(values), 1000):
                if values[start : start + 1000]:
                    await conn.execute(table.insert(), values[start : start + 1000])
        await conn.exec_driver_sql("ANALYZE")
    await engine.dispose()


# --------------------------------------------------------------------------- load


def _queries(today: date) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("first page, by title", {}),
        ("words with diacritics", {"q": "datu analīze"}),
        ("words without diacritics", {"q": "kiberdrosibas pamati"}),
        ("words + city + free places", {"q": "python", "city": "Riga", "free_places": "true"}),
        (
            "level + qualification, by cost",
            {"digcomp_level": [4, 5, 6], "qualification": "kiberdrosibas_tehnikis", "sort": "cost"},
        ),
        (
            "form + dates, by start",
            {
                "form": "in_person",
                "starts_from": (today + timedelta(days=30)).isoformat(),
                "starts_until": (today + timedelta(days=90)).isoformat(),
                "sort": "start",
            },
        ),
        ("words, page 6", {"q": "tīmekļa izstrāde", "offset": 100, "sort": "-cost"}),
        ("rare word, no match", {"q": "kvantu"}),
    ]


async def _closed_loop(
    url: str, requests: list[dict[str, Any]], concurrency: int, max_seconds: float, method: str
) -> dict[str, Any]:
    """One keep-alive client per worker (as independent users would have), all taking from one queue."""
    latencies: list[float] = []
    errors: list[str] = []
    queue = iter(requests)
    deadline = time.monotonic() + max_seconds

    async def worker() -> None:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=30, trust_env=False) as client:
            for request in queue:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                try:
                    if method == "GET":
                        response = await client.get(url, params=request)
                    else:
                        response = await client.post(url, json=request)
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                    continue
                if response.status_code != 200:
                    errors.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies) + len(errors),
        "ok": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "concurrency": concurrency,
        "elapsed_s": rounded(elapsed, 3),
        "requests_per_s": rounded(len(latencies) / elapsed if elapsed else 0.0, 1),
        "p50_ms": rounded(percentile(latencies, 50)),
        "p99_ms": rounded(percentile(latencies, 99)),
        "max_ms": rounded(max(latencies, default=0.0)),
    }


def measure(
    url: str, requests: list[dict[str, Any]], plan: Plan, pids: dict[str, int], method: str = "GET"
) -> dict[str, Any]:
    """Warm up, then the measured closed loop, with the CPU per request of the processes in `pids` and of the
    load generator (this process), and the load average before and after."""
    warm, measured = requests[: plan.warmup], requests[plan.warmup :]
    asyncio.run(_closed_loop(url, warm, plan.concurrency, plan.max_seconds, method))
    load_before, cpu_before, own_before = os.getloadavg(), procs.cpu_snapshot(pids), time.process_time()
    report = asyncio.run(_closed_loop(url, measured, plan.concurrency, plan.max_seconds, method))
    own = {"load_generator": time.process_time() - own_before}
    cpu = procs.cpu_ms_per_request(cpu_before, procs.cpu_snapshot(pids), report["ok"], own)
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    return {**report, "cpu_ms_per_request": cpu, "load_average": load}


def per_query(base: str, today: date, repeats: int = 30) -> dict[str, Any]:
    """Each query kind alone, one request at a time: its own latency and how many programmes it matched."""
    found: dict[str, Any] = {}
    with httpx.Client(timeout=30, trust_env=False) as client:
        for name, params in _queries(today):
            latencies = []
            total = None
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(base + SEARCH, params=params)
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                total = response.json()["total"]
            found[name] = {
                "matched": total,
                "p50_ms": rounded(percentile(latencies, 50)),
                "p99_ms": rounded(percentile(latencies, 99)),
            }
    return found


# --------------------------------------------------------------------------- orchestration


def _pids(stack: Stack, database_url: str | None) -> dict[str, int]:
    """The stack's processes (the gateway, catalog's api and worker) and PostgreSQL's, when it serves."""
    pids = {name: process.pid for name, process in stack.processes.items()}
    port = make_url(database_url).port if database_url else None
    server = procs.listener_pid(port) if port else None
    return {**pids, "postgres": server} if server else pids


@contextlib.contextmanager
def _stack(work: Path, database_url: str | None) -> Iterator[Stack]:
    stack = Stack(var_dir=work / "stack", base_port=free_base_port(), extra_env=STACK_ENV)
    if database_url:
        stack.database_urls = {"catalog": database_url}
    stack.start(("gateway", "catalog"))
    try:
        yield stack
    finally:
        stack.stop()


def run_backend(plan: Plan, work: Path, database: str, echo: dict[str, Any]) -> dict[str, Any]:
    if database == "postgres":
        context: contextlib.AbstractContextManager[str | None] = postgres_server()
    else:
        context = contextlib.nullcontext(None)
    with context as server:
        url = create_database(server, f"bench_catalog_{int(time.time())}") if server else None
        seed_url = url or f"sqlite+aiosqlite:///{work / 'stack' / 'catalog.db'}"
        (work / "stack").mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        seeded: dict[str, Any] = {**seed(seed_url, plan), "seconds": rounded(time.perf_counter() - started, 1)}
        with _stack(work, url) as stack:
            today = datetime.now(UTC).date()
            queries = [params for _, params in _queries(today)]
            requests = [queries[i % len(queries)] for i in range(plan.warmup + plan.requests)]
            pids = _pids(stack, url)
            return {
                "seeded": seeded,
                "direct": measure(stack.url("catalog") + SEARCH, requests, plan, pids),
                "via_gateway": measure(stack.gateway_url + "/api/catalog" + SEARCH, requests, plan, pids),
                "per_query_direct": per_query(stack.url("catalog"), today),
                "echo_baseline": echo,
            }


def _echo(plan: Plan, work: Path) -> dict[str, Any]:
    port = free_port()
    with procs.echo_server(port, work / "echo.log") as server:
        body = {"q": "datu analīze", "limit": 20}
        requests = [body] * (plan.warmup + plan.requests)
        return measure(f"http://127.0.0.1:{port}/echo", requests, plan, {"echo": server.pid}, method="POST")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer requests (the data set stays full size)")
    parser.add_argument("--postgres", action="store_true", help="also measure on PostgreSQL")
    args = parser.parse_args()
    plan = Plan.of(args.quick)
    report: dict[str, Any] = {
        "benchmark": "public catalogue search",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": _cpus(), "python": platform.python_version(), "platform": platform.platform()},
        "plan": plan.__dict__,
        "queries": {name: params for name, params in _queries(datetime.now(UTC).date())},
    }
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        work = Path(tmp)
        echo = _echo(plan, work)
        report["sqlite"] = run_backend(plan, work / "sqlite", "sqlite", echo)
        if args.postgres:
            report["postgres"] = run_backend(plan, work / "postgres", "postgres", echo)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(_table(report))


def _cpus() -> int:
    return os.cpu_count() or 0


def _table(report: dict[str, Any]) -> str:
    lines = [
        "| setup | requests/s | p50 ms | p99 ms | errors | CPU ms/request: served (load generator) | load avg |",
        "|---|---|---|---|---|---|---|",
    ]
    echo = report["sqlite"]["echo_baseline"]
    lines.append(_row("bare echo (POST /echo)", echo))
    for backend in ("sqlite", "postgres"):
        if backend not in report:
            continue
        for where in ("direct", "via_gateway"):
            lines.append(_row(f"search, {backend}, {where.replace('_', ' ')}", report[backend][where]))
    return "\n".join(lines)


def _row(name: str, r: dict[str, Any]) -> str:
    cpu = r["cpu_ms_per_request"]
    served = round(cpu["total"] - cpu["load_generator"], 2) if cpu else None
    load = r["load_average"]["before"][0]
    figures = f"{r['requests_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']}"
    return f"| {name} | {figures} | {served} ({cpu.get('load_generator')}) | {load} |"


if __name__ == "__main__":
    main()
