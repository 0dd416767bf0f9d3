"""Survey results at 200 000 answers (issue #11): `python -m bench.survey_results [--quick] [--postgres] [--answers N]`.

**The data.** One institution, 400 programmes × 10 groups (`Plan`), 200 000 submitted answers (180 000 completion,
20 000 discontinuation) and 20 000 invitations left unanswered (closed by the clock), each in a group drawn at
random; seeded (`Plan.seed`), so every run writes the same rows. Completion answers: the stars of each aspect drawn
from the seed's distributions (`STAR_SHARES`: mostly 4-5), the three checks yes 86-95 %, DigComp before (one
decimal, 1.5-5.5) and after (before + 0..2), an improvement text in one of five; discontinuation answers: each of
the eleven reasons chosen with the seed's share (`REASON_SHARES`, 2.2 reasons per answer), "other" with its text.
Every answer is made by the service's own `Survey.submit` (its questionnaire checks included).

**The fill, straight into a fresh, migrated surveys database, before the service starts** (through HTTP it would
take hours): the `surveys` rows as the service writes them (`surveys.db.surveys.add_many`, batches of 2 000); the
tallies by adding up `invitation_counters` and `answer_counters` of every survey in every scope of `scopes_of` in
memory (a Counter) and bulk-inserting the counts into `tallies`: the same rows 220 000 `count_invitation` and
200 000 `count_answer` calls make. `Plan.sample` answers are left out of the bulk tallies and counted afterwards one
by one, each in its own transaction, as a submission does (timed: the per-answer write cost): the first half with
`surveys.db.results.add_to` alone, the second with `surveys.service.results.count_answer` (`add_to`, then its
programme's counters read again and its quality flags compared with those standing, and for a completion answer its
rating computed, a `ProgrammeRatingChanged` in the outbox once the rating is public). The read models: the provider
member (`add_provider_user`, as catalog's `ProviderUserAdded` does) and the programmes' titles.

**Every breakdown** (in this process, before the service starts): for the institution, each programme and each
group, `surveys.db.results.counts` in a read-only session and `results()` over them (what the results endpoint
computes, without HTTP and the membership check): total and per breakdown; beside it each whole level at once
(`surveys.service.results.level_results`, the agency's export) and **the scan baseline**: the institution's
results from all its submitted answers (their rows read, their JSON decoded, `completion_results` and
`reason_shares` of `surveys.domain.aggregates`), what "a scan per request" would cost; the scan's figures are
compared with the tallies' (they must be the same).

**The results endpoint under load** (the service as `make run` starts it: `prasmes_devtools.devstack.Stack`, the
gateway and surveys' api and worker processes, rate limit lifted): wrk, 2 threads × 32 connections, 10 s per figure
after 2 s (`--quick`: 5 s after 1 s), `bench.hotpath.Bench` (it waits for a quiet machine and takes the CPU of
every process): `GET /survey-results/institutions/{id}`, `/programmes/{id}` (cycling over the 400) and
`/groups/{id}` (over the 4 000) straight to surveys' api process, the institution's also through the gateway,
each with the provider member's token (minted before timing); the baseline in the same run: the bare echo
(`GET /echo`, same token header) under surveys' own uvicorn flags.

`--postgres`: the surveys database on PostgreSQL (`prasmes_testing.servers.postgres_server`, ANALYZE after the
bulk fill, as autovacuum would) instead of SQLite; the bus stays embedded (no events in the measured part), and
PostgreSQL's CPU is beside every figure. `--answers N`: another size (90 % completion, N / 10 unanswered).

Reported: the fill's times, per-answer write latency and CPU, every breakdown's time and CPU, the scan's, and per
HTTP figure requests/s, p50/p99/max, errors, CPU ms per request of every process (surveys' api first) with the
echo's beside it, and whether the results page's p99 is under 200 ms. Writes `bench/out/survey_results.json`
(one entry per backend: a run on one keeps the other's). `--profile`: after the figures, py-spy of surveys' api
under the institution's and the groups' load (`bench.profiling`, flame graphs in
`bench/out/profiles/survey-results-*.svg`). Not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from prasmes_devtools.devstack import Stack
from prasmes_runtime import migrations, registry
from prasmes_runtime.db import Database
from prasmes_testing.servers import create_database, free_port, postgres_server
from sqlalchemy.ext.asyncio import AsyncSession
from surveys.app import DEFINITION
from surveys.db import results as tallies_db
from surveys.db import surveys as surveys_db
from surveys.domain.aggregates import STARS, completion_results, reason_shares
from surveys.domain.answers import Answers
from surveys.domain.questionnaires import ASPECTS, OTHER, Kind, current
from surveys.domain.results import (
    CHECKS,
    KINDS,
    MIN_SHOWN,
    Level,
    QualityRules,
    Results,
    answer_counters,
    invitation_counters,
    results,
    scopes_of,
    tally,
)
from surveys.domain.seed import KNOWLEDGE_SKILLS, OTHER_ASPECTS, SEED_REASONS
from surveys.domain.surveys import Enrolment, Survey
from surveys.service import results as results_service
from surveys.settings import SurveysSettings

from bench import hotpath, procs, profiling
from bench.run import _machine, _source, _start
from bench.stack_bench import STACK_ENV
from bench.stats import percentile, rounded
from bench.wrk_run import Request, run_wrk, write_requests

OUT = Path(__file__).resolve().parent / "out" / "survey_results.json"
SERVICES = ("gateway", "surveys")
MEMBER = "bench-provider-admin"
"""The provider user who reads the results: a member of the institution (provider_users)."""
PROJECT = "IMK"
START = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
SPREAD = timedelta(days=330)
"""The invitations are spread evenly over this time from START; an answer comes 10 minutes to 29 days later."""
TARGET_P99_MS = 200.0
BATCH = 2000
TOKEN_TTL = 3 * 3600

STAR_SHARES: dict[str, tuple[int, ...]] = {"knowledge_skills": KNOWLEDGE_SKILLS, **OTHER_ASPECTS}
"""Percent of 1..5 stars per aspect (`surveys.domain.seed`): the seed slide's for knowledge and skills (DOMAIN.md),
the other three with the seed's means (4.5 / 4.6 / 4.5)."""
CHECK_YES = {"description_matched": 0.91, "prior_knowledge_right": 0.86, "equipment_right": 0.95}
REASON_SHARES: dict[str, int] = SEED_REASONS
"""Percent of the discontinuation answers choosing each reason (the seed's, DOMAIN.md; `surveys.domain.seed`)."""
IMPROVEMENTS = (
    "Vairāk praktisko uzdevumu.",
    "Materiālus vajadzētu iedot laikus.",
    "Lēnāks temps sākumā.",
    "More examples from real work.",
    "Nodarbības vakaros, ne brīvdienās.",
)


@dataclass(frozen=True)
class Plan:
    quick: bool
    completion: int = 180_000
    discontinuation: int = 20_000
    unanswered: int = 20_000
    programmes: int = 400
    groups_per_programme: int = 10
    sample: int = 2_000
    """Answers counted one by one after the bulk fill (half `add_to`, half `count_answer`), each timed."""
    scan_repeats: int = 3
    seed: int = 11

    @classmethod
    def of(cls, quick: bool, answers: int | None = None) -> Plan:
        plan = cls(quick=quick, scan_repeats=1 if quick else 3)
        if answers is None:
            return plan
        completion = round(answers * 0.9)
        return replace(
            plan,
            completion=completion,
            discontinuation=answers - completion,
            unanswered=answers // 10,
            sample=min(plan.sample, answers // 10),
        )

    @property
    def answers(self) -> int:
        return self.completion + self.discontinuation


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Institution:
    id: uuid.UUID
    programmes: list[uuid.UUID]
    groups: list[tuple[uuid.UUID, uuid.UUID]]
    """(programme, group)."""
    answered: Counter[tuple[uuid.UUID, str]] = field(default_factory=Counter)
    """(group, kind) -> submitted answers, counted by the fill."""

    def shown_groups(self) -> list[uuid.UUID]:
        """The groups whose results the institution sees: at least MIN_SHOWN answers of a kind (the others: 403)."""
        return [g for _, g in self.groups if max(self.answered[(g, k)] for k in KINDS) >= MIN_SHOWN]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def institution_of(plan: Plan, rng: random.Random) -> Institution:
    institution = _uuid(rng)
    programmes = [_uuid(rng) for _ in range(plan.programmes)]
    groups = [(p, _uuid(rng)) for p in programmes for _ in range(plan.groups_per_programme)]
    return Institution(institution, programmes, groups)


def _completion_values(rng: random.Random) -> tuple[dict[str, object], Decimal]:
    values: dict[str, object] = {a: rng.choices(STARS, weights=STAR_SHARES[a])[0] for a in ASPECTS}
    values.update({c: rng.random() < CHECK_YES[c] for c in CHECKS})
    before = Decimal(rng.randint(15, 55)) / 10
    values["digcomp_after"] = max(1, min(8, int(before) + rng.choice((0, 1, 1, 1, 2))))
    if rng.random() < 0.2:
        values["improvement"] = rng.choice(IMPROVEMENTS)
    return values, before


def _discontinuation_values(rng: random.Random) -> dict[str, object]:
    reasons = [r for r, share in REASON_SHARES.items() if rng.random() < share / 100] or ["time"]
    values: dict[str, object] = {"reasons": reasons}
    if OTHER in reasons:
        values["other_reason"] = "Pārcēlos uz citu pilsētu."
    if rng.random() < 0.1:
        values["improvement"] = rng.choice(IMPROVEMENTS)
    return values


def surveys_of(plan: Plan, institution: Institution, rng: random.Random) -> Iterator[Survey]:
    """Every survey of the institution, invited in time order: submitted (made by `Survey.submit`) or closed."""
    unanswered_completion = round(plan.unanswered * 0.9)
    done: tuple[Kind, Kind] = ("completion", "discontinuation")
    kinds: list[tuple[Kind, bool]] = [
        *[(done[0], True)] * plan.completion,
        *[(done[1], True)] * plan.discontinuation,
        *[(done[0], False)] * unanswered_completion,
        *[(done[1], False)] * (plan.unanswered - unanswered_completion),
    ]
    rng.shuffle(kinds)
    step = SPREAD / len(kinds)
    timing = SurveysSettings.model_construct().timing()
    for i, (kind, answered) in enumerate(kinds):
        programme, group = rng.choice(institution.groups)
        enrolment = Enrolment(_uuid(rng), f"bench-learner-{i}", PROJECT, programme, group, institution.id)
        invited = START + i * step
        survey = Survey(
            _uuid(rng),
            enrolment,
            kind,
            current(kind).version,
            invited,
            invited + timing.remind_after,
            invited + timing.close_after,
        )
        if not answered:
            yield survey.remind(survey.remind_at).close()
            continue
        at = invited + timedelta(minutes=rng.randrange(10, 29 * 24 * 60))
        if at >= survey.remind_at:
            survey = survey.remind(survey.remind_at)
        if kind == "completion":
            values, before = _completion_values(rng)
            yield survey.submit(values, at, before)
        else:
            yield survey.submit(_discontinuation_values(rng), at)


# --------------------------------------------------------------------------- the fill

TallyKey = tuple[str, str, str, str, str]
"""(level, scope_id, kind, metric, bucket): the primary key of `tallies`."""


class CpuClock:
    """This process's CPU seconds (all its threads: aiosqlite's too) and, on PostgreSQL, the server's."""

    def __init__(self, servers: Mapping[str, int]) -> None:
        self.servers = dict(servers)

    def now(self) -> dict[str, float]:
        return {"bench": time.process_time(), **{n: procs.tree_cpu_seconds(p) for n, p in self.servers.items()}}

    @staticmethod
    def spent(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
        return {n: round(after[n] - before[n], 3) for n in before}


async def _insert(database: Database, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        async with database.transaction() as session:
            await session.execute(table.insert(), rows)


async def _add_surveys(database: Database, made: list[Survey]) -> None:
    async with database.transaction() as session:
        await surveys_db.add_many(session, made)


async def fill(
    database: Database, plan: Plan, institution: Institution, rng: random.Random
) -> tuple[dict[str, Any], list[Survey]]:
    """The surveys rows and the tallies of every survey but the sample's answers; returns those answers."""
    sampled = set(rng.sample(range(plan.answers), plan.sample))
    tallied: Counter[TallyKey] = Counter()
    owner: dict[tuple[str, str], uuid.UUID | None] = {}
    sample: list[Survey] = []
    batch: list[Survey] = []
    answered = comments = 0
    spent = dict.fromkeys(("making_surveys", "tallying_in_memory", "inserting_surveys"), 0.0)
    started = time.perf_counter()
    made = surveys_of(plan, institution, rng)
    while True:
        at = time.perf_counter()
        survey = next(made, None)
        if survey is None:
            break
        batch.append(survey)
        tallying = time.perf_counter()
        keys = invitation_counters(survey)
        if survey.status == "submitted":
            comments += bool(survey.comments)
            institution.answered[(survey.enrolment.group_id, survey.kind)] += 1
            if answered in sampled:
                sample.append(survey)
            else:
                keys = keys + answer_counters(survey, survey.digcomp_before)
            answered += 1
        for scope in scopes_of(survey.enrolment):
            owner.setdefault((scope.level, scope.scope_id), None if scope.level == "all" else institution.id)
            for kind, metric, bucket in keys:
                tallied[(scope.level, scope.scope_id, kind, metric, bucket)] += 1
        inserting = time.perf_counter()
        if len(batch) >= BATCH:
            await _add_surveys(database, batch)
            batch = []
        spent["making_surveys"] += tallying - at
        spent["tallying_in_memory"] += inserting - tallying
        spent["inserting_surveys"] += time.perf_counter() - inserting
    inserting = time.perf_counter()
    await _add_surveys(database, batch)
    spent["inserting_surveys"] += time.perf_counter() - inserting
    mark = time.perf_counter()
    tally_rows = [
        {
            "level": level,
            "scope_id": scope_id,
            "kind": kind,
            "metric": metric,
            "bucket": bucket,
            "institution_id": owner[(level, scope_id)],
            "count": n,
        }
        for (level, scope_id, kind, metric, bucket), n in tallied.items()
    ]
    for at in range(0, len(tally_rows), 5 * BATCH):
        await _insert(database, tallies_db.tallies, tally_rows[at : at + 5 * BATCH])
    async with database.transaction() as session:
        await tallies_db.add_provider_user(session, MEMBER, institution.id)
        for n, programme in enumerate(institution.programmes):
            await tallies_db.save_programme(session, programme, institution.id, f"Digitālās prasmes {n + 1}")
    spent["inserting_tallies_and_read_models"] = time.perf_counter() - mark
    if database.is_postgres:
        async with database.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).exec_driver_sql("ANALYZE")
    report = {
        "surveys_rows": answered + plan.unanswered,
        "submitted": answered,
        "with_comments": comments,
        "tally_rows": len(tally_rows),
        "tally_rows_by_level": dict(Counter(level for level, *_ in tallied)),
        "left_for_the_sample": len(sample),
        "groups_shown_to_the_institution": len(institution.shown_groups()),
        "answers_per_group": _spread([sum(institution.answered[(g, k)] for k in KINDS) for _, g in institution.groups]),
        "seconds": {k: round(v, 1) for k, v in spent.items()},
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    return report, sample


# --------------------------------------------------------------------------- per-answer writes


async def _add_to(session: AsyncSession, survey: Survey, _: QualityRules) -> None:
    e = survey.enrolment
    added = tally(answer_counters(survey, survey.digcomp_before))
    await tallies_db.add_to(session, scopes_of(e), added, e.institution_id)


async def _count_answer(session: AsyncSession, survey: Survey, rules: QualityRules) -> None:
    assert survey.submitted_at is not None
    await results_service.count_answer(session, survey, rules, survey.submitted_at)


async def per_answer_writes(database: Database, sample: list[Survey], clock: CpuClock) -> dict[str, Any]:
    """Each sampled answer counted in its own writing transaction (commit included in its time)."""
    rules = SurveysSettings.model_construct().quality_rules()
    half = len(sample) // 2
    out: dict[str, Any] = {}
    writers = (("add_to", sample[:half], _add_to), ("count_answer", sample[half:], _count_answer))
    for name, chunk, write in writers:
        latencies: dict[str, list[float]] = {"completion": [], "discontinuation": []}
        rows = 0
        before, started = clock.now(), time.perf_counter()
        for survey in chunk:
            rows += len(scopes_of(survey.enrolment)) * len(answer_counters(survey, survey.digcomp_before))
            at = time.perf_counter()
            async with database.transaction() as session:
                await write(session, survey, rules)
            latencies[survey.kind].append((time.perf_counter() - at) * 1000)
        elapsed = time.perf_counter() - started
        cpu = CpuClock.spent(before, clock.now())
        every = [v for values in latencies.values() for v in values]
        out[name] = {
            "answers": len(chunk),
            "seconds": round(elapsed, 2),
            "answers_per_s": round(len(chunk) / elapsed, 1) if elapsed else None,
            "counter_rows_per_answer": round(rows / len(chunk), 1) if chunk else None,
            **_summary(every),
            "by_kind": {kind: _summary(values) for kind, values in latencies.items()},
            "cpu_ms_per_answer": {n: round(1000 * s / len(chunk), 3) for n, s in cpu.items()} if chunk else {},
        }
    return out


def _spread(values: Sequence[int]) -> dict[str, Any]:
    return {"min": min(values, default=None), "p50": percentile(values, 50), "max": max(values, default=None)}


def _summary(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "mean_ms": rounded(sum(values) / len(values), 3) if values else None,
        "p50_ms": rounded(percentile(values, 50), 3),
        "p99_ms": rounded(percentile(values, 99), 3),
        "max_ms": rounded(max(values, default=None), 3),
    }


# --------------------------------------------------------------------------- every breakdown, and the scan


async def breakdowns(database: Database, institution: Institution, clock: CpuClock) -> dict[str, Any]:
    """Every scope of the institution read and computed as the results endpoint does (one read-only session each)."""
    levels: dict[Level, list[str]] = {
        "institution": [str(institution.id)],
        "programme": [str(p) for p in institution.programmes],
        "group": [str(g) for _, g in institution.groups],
    }
    out: dict[str, Any] = {}
    total_s, total_cpu = 0.0, Counter[str]()
    for level, ids in levels.items():
        reading: list[float] = []
        computing: list[float] = []
        each: list[float] = []
        counters = 0
        before, started = clock.now(), time.perf_counter()
        for scope_id in ids:
            at = time.perf_counter()
            async with database.session() as session:
                counts, _ = await tallies_db.counts(session, level, scope_id)
            read = time.perf_counter()
            results(counts)
            done = time.perf_counter()
            counters += len(counts)
            reading.append((read - at) * 1000)
            computing.append((done - read) * 1000)
            each.append((done - at) * 1000)
        elapsed = time.perf_counter() - started
        cpu = CpuClock.spent(before, clock.now())
        total_s += elapsed
        total_cpu.update(cpu)
        whole_at = time.perf_counter()
        whole = await results_service.level_results(database, level)
        out[level] = {
            "scopes": len(ids),
            "seconds": round(elapsed, 3),
            "cpu_s": cpu,
            "counters_per_scope": round(counters / len(ids), 1),
            "per_scope": _summary(each),
            "read_p50_ms": rounded(percentile(reading, 50), 3),
            "compute_p50_ms": rounded(percentile(computing, 50), 3),
            "whole_level_at_once_s": round(time.perf_counter() - whole_at, 3),
            "whole_level_scopes": len(whole),
        }
    out["every_breakdown"] = {
        "scopes": sum(len(ids) for ids in levels.values()),
        "seconds": round(total_s, 3),
        "cpu_s": {n: round(s, 3) for n, s in total_cpu.items()},
    }
    return out


async def _tallied(database: Database, institution: Institution) -> Results:
    async with database.session() as session:
        counts, _ = await tallies_db.counts(session, "institution", str(institution.id))
    return results(counts)


async def scan(database: Database, institution: Institution, repeats: int, clock: CpuClock) -> dict[str, Any]:
    """The institution's results from every submitted answer's row (the baseline the tallies replace)."""
    s = surveys_db.surveys
    query = sa.select(s.c.kind, s.c.answers).where(s.c.institution_id == institution.id, s.c.status == "submitted")
    runs: list[dict[str, float]] = []
    same = True
    rows_read = 0
    for _ in range(repeats):
        before, at = clock.now(), time.perf_counter()
        async with database.session() as session:
            rows = (await session.execute(query)).all()
        read = time.perf_counter()
        answers: dict[str, list[Answers]] = {"completion": [], "discontinuation": []}
        for kind, text in rows:
            answers[kind].append(json.loads(text))
        stars = completion_results(answers["completion"])
        shares = reason_shares(answers["discontinuation"])
        done = time.perf_counter()
        cpu = CpuClock.spent(before, clock.now())
        runs.append({"seconds": done - at, "read_s": read - at, "compute_s": done - read, **cpu})
        rows_read = len(rows)
        tallied = await _tallied(database, institution)
        same = same and _same(tallied, stars.answers, stars.aspects, shares)
    best = min(runs, key=lambda r: r["seconds"])
    return {
        "rows_read": rows_read,
        "repeats": repeats,
        "seconds": {"min": round(best["seconds"], 3), "each": [round(r["seconds"], 3) for r in runs]},
        "read_s": round(best["read_s"], 3),
        "decode_and_compute_s": round(best["compute_s"], 3),
        "cpu_s": {k: round(v, 3) for k, v in best.items() if k not in ("seconds", "read_s", "compute_s")},
        "same_figures_as_the_tallies": same,
    }


def _same(tallied: Results, answers: int, aspects: Mapping[str, Any], shares: Mapping[str, Decimal]) -> bool:
    block, stopped = tallied.completion, tallied.discontinuation
    return (
        block is not None
        and stopped is not None
        and block.answers == answers
        and dict(block.aspects) == dict(aspects)
        and dict(stopped.reasons) == dict(shares)
    )


async def prepare(url: str, plan: Plan, institution: Institution, rng: random.Random, servers: dict[str, int]) -> Any:
    database = Database(url)
    clock = CpuClock(servers)
    try:
        print(f"  fill: {plan.answers} answers + {plan.unanswered} unanswered ...", flush=True)
        filled, sample = await fill(database, plan, institution, rng)
        print(f"  fill: {filled}", flush=True)
        print(f"  {len(sample)} answers counted one by one ...", flush=True)
        writes = await per_answer_writes(database, sample, clock)
        for name, w in writes.items():
            print(
                f"    {name}: p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms, CPU {w['cpu_ms_per_answer']} ms/answer",
                flush=True,
            )
        procs.wait_quiet()
        print("  every breakdown ...", flush=True)
        every = await breakdowns(database, institution, clock)
        print(f"    {every['every_breakdown']}", flush=True)
        print("  the scan baseline ...", flush=True)
        scanned = await scan(database, institution, plan.scan_repeats, clock)
        print(f"    {scanned}", flush=True)
        return filled, writes, every, scanned
    finally:
        await database.dispose()


# --------------------------------------------------------------------------- the endpoint under load


def per_thread(requests: list[Request], threads: int) -> list[Request]:
    """The lines repeated until every wrk thread has some: bench/wrk/requests.lua gives thread i the lines i,
    i + threads, ...; with fewer lines than threads the others stop at once (`exhausted_threads`), and a figure of
    "32 connections" is then served on the connections of one thread (16)."""
    return requests * max(1, -(-threads // len(requests)))


def _bearer(stack: Stack) -> dict[str, str]:
    token = stack.token_issuer().issue(MEMBER, ["provider_admin"], ttl_seconds=TOKEN_TTL)
    return {"Authorization": f"Bearer {token}"}


def _probe(url: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = httpx.get(url + path, headers=headers, timeout=30, trust_env=False)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
    body: dict[str, Any] = answer.json()
    return body


def endpoint_load(
    stack: Stack, plan: Plan, work: Path, institution: Institution, pids: dict[str, int], profile: bool
) -> dict[str, Any]:
    wrk_plan = hotpath.Plan.of(plan.quick)
    bench = hotpath.Bench(wrk_plan, work)
    auth = _bearer(stack)
    flags = procs.uvicorn_flags(stack.processes["surveys"].pid, registry.entry("surveys").factory)
    out: dict[str, Any] = {"uvicorn_flags": flags, "wrk_plan": asdict(wrk_plan)}
    port = free_port()
    with procs.echo_server(port, work / "echo.log", flags) as echo:
        echo_reads = per_thread([Request("GET", "/echo", auth)], wrk_plan.threads)
        out["echo_get"] = hotpath._guarded(
            lambda: bench.run("echo_get", f"http://127.0.0.1:{port}", lambda _: echo_reads, {"echo": echo.pid})
        )
    direct, gateway = stack.url("surveys"), stack.gateway_url
    paths = {
        "institution": [f"/survey-results/institutions/{institution.id}"],
        "programme": [f"/survey-results/programmes/{p}" for p in institution.programmes],
        "group": [f"/survey-results/groups/{g}" for g in institution.shown_groups()],
    }
    shown = _probe(direct, paths["institution"][0], auth)
    out["institution_answer"] = {
        "answered": shown["answered"],
        "invited": shown["invited"],
        "completion_mean": shown["completion"]["mean"] if shown["completion"] else None,
        "bytes": len(json.dumps(shown)),
    }
    scenarios: list[tuple[str, str, list[str]]] = [
        ("institution_direct", direct, paths["institution"]),
        ("programme_direct", direct, paths["programme"]),
        ("group_direct", direct, paths["group"]),
        ("institution_gateway", gateway, ["/api/surveys" + p for p in paths["institution"]]),
    ]
    for name, url, chosen in scenarios:
        out[name] = hotpath._guarded(lambda: _measure(bench, name, url, chosen, auth, pids))  # noqa: B023
    if profile:
        for level in ("institution", "group"):
            print(f"  profiling surveys' api under the {level} results ...", flush=True)
            out[f"profile_{level}"] = hotpath._guarded(
                lambda: _profile(work, direct, level, paths[level], auth, pids, wrk_plan)  # noqa: B023
            )
    return out


def _profile(
    work: Path,
    url: str,
    level: str,
    paths: list[str],
    auth: dict[str, str],
    pids: dict[str, int],
    wrk_plan: hotpath.Plan,
) -> dict[str, Any]:
    """py-spy of surveys' api process while wrk reads the results (after the figures: a profile slows it)."""
    requests_file = work / f"profile-{level}.txt"
    write_requests(requests_file, per_thread([Request("GET", p, auth) for p in paths], wrk_plan.threads))
    report = profiling.profile_under_load(
        lambda seconds: run_wrk(url, requests_file, seconds=seconds),
        {"surveys": pids["surveys"]},
        wrk_plan.profile_seconds,
        hotpath.PROFILE_DIR,
        f"survey-results-{level}",
    )
    for name, prof in report["profiles"].items():
        print("\n".join(profiling.summary_lines(name, prof)), flush=True)
    return report


def _measure(
    bench: hotpath.Bench, name: str, url: str, paths: list[str], auth: dict[str, str], pids: dict[str, int]
) -> dict[str, Any]:
    """One wrk figure cycling over `paths` (the first one answered 200 before it starts)."""
    _probe(url, paths[0], auth)
    lines = per_thread([Request("GET", p, auth) for p in paths], bench.plan.threads)
    return {"paths": len(paths), **bench.run(name, url, lambda _: lines, pids)}


def _ratios(http: dict[str, Any]) -> None:
    echo = http.get("echo_get", {})
    echo_cpu = echo.get("cpu_ms_per_request", {}).get("echo")
    for name, figure in http.items():
        if not name.endswith(("_direct", "_gateway")) or "requests_per_s" not in figure:
            continue
        if echo.get("requests_per_s"):
            figure["ratio_rps_to_echo"] = round(figure["requests_per_s"] / echo["requests_per_s"], 4)
        served = figure["cpu_ms_per_request"].get("surveys")
        if echo_cpu and served is not None:
            figure["surveys_cpu_x_echo"] = round(served / echo_cpu, 1)


# --------------------------------------------------------------------------- the run


@contextlib.contextmanager
def database_of(postgres: bool, stack_dir: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """The surveys database's URL (a fresh file in the stack's folder, or a fresh PostgreSQL database) and the
    server's pid to measure (PostgreSQL's)."""
    if not postgres:
        stack_dir.mkdir(parents=True, exist_ok=True)
        yield f"sqlite+aiosqlite:///{stack_dir / 'surveys.db'}", {}
        return
    with postgres_server() as server_url:
        url = create_database(server_url, f"bench_surveys_{os.getpid()}_{time.monotonic_ns() % 10**9}")
        port = urlsplit(server_url).port
        pid = procs.listener_pid(port) if port else None
        yield url, ({"postgres": pid} if pid else {})


def run_backend(plan: Plan, postgres: bool, work: Path, profile: bool = False) -> dict[str, Any]:
    rng = random.Random(plan.seed)
    institution = institution_of(plan, rng)
    stack_dir = work / "stack"
    result: dict[str, Any] = {
        "institution": {
            "id": str(institution.id),
            "programmes": len(institution.programmes),
            "groups": len(institution.groups),
        }
    }
    with database_of(postgres, stack_dir) as (url, servers):
        migrations.upgrade(DEFINITION.migrations_dir, url)
        filled, writes, every, scanned = asyncio.run(prepare(url, plan, institution, rng, servers))
        result.update(fill=filled, per_answer_writes=writes, breakdowns=every, scan=scanned)
        stack = Stack(var_dir=stack_dir, extra_env=STACK_ENV)
        if postgres:
            stack.database_urls = {"surveys": url}
        try:
            _start(stack, timeout=120, names=SERVICES)
            pids = hotpath.stack_pids(stack, servers)
            result["processes"] = {name: {"pid": pid} for name, pid in pids.items()}
            result["http"] = endpoint_load(stack, plan, work, institution, pids, profile)
        finally:
            stack.stop()
    _ratios(result["http"])
    result["targets"] = targets(result)
    return result


def targets(result: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name in ("institution_direct", "group_direct", "programme_direct", "institution_gateway"):
        figure = result["http"].get(name, {})
        p99, errors, idle = figure.get("p99_ms"), figure.get("errors"), figure.get("exhausted_threads")
        met = p99 is not None and p99 < TARGET_P99_MS and errors == 0 and idle == 0
        out[f"{name}_p99_under_200_ms"] = {"value": p99, "errors": errors, "idle_wrk_threads": idle, "met": met}
    out["scan_figures_match_the_tallies"] = {"met": result["scan"]["same_figures_as_the_tallies"]}
    return out


def table(result: dict[str, Any]) -> str:
    every, scanned, writes = result["breakdowns"], result["scan"], result["per_answer_writes"]
    lines = [
        "every breakdown (counts + results(), one read-only session each):",
        f"  {'level':12} {'scopes':>7} {'total s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'counters':>9}"
        f" {'level at once s':>16}",
    ]
    for level in ("institution", "programme", "group"):
        b = every[level]
        s = b["per_scope"]
        lines.append(
            f"  {level:12} {b['scopes']:>7} {b['seconds']:>8} {s['p50_ms']!s:>8} {s['p99_ms']!s:>8} "
            f"{s['max_ms']!s:>8} {b['counters_per_scope']:>9} {b['whole_level_at_once_s']:>16}"
        )
    e = every["every_breakdown"]
    lines.append(f"  all {e['scopes']} breakdowns: {e['seconds']} s, CPU {e['cpu_s']}")
    lines.append(
        f"  scan baseline (the institution from its {scanned['rows_read']} answers): {scanned['seconds']['min']} s "
        f"(read {scanned['read_s']} s, decode + compute {scanned['decode_and_compute_s']} s), CPU {scanned['cpu_s']};"
        f" same figures: {scanned['same_figures_as_the_tallies']}"
    )
    for name, w in writes.items():
        lines.append(
            f"  per answer, {name}: mean {w['mean_ms']} ms, p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms, "
            f"{w['counter_rows_per_answer']} counter rows, CPU {w['cpu_ms_per_answer']} ms"
        )
    http = result["http"]
    lines.append(
        f"\n  {'GET (wrk 2x32)':22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'err':>5} {'x echo':>7}"
        f" {'surveys':>8} {'gateway':>8} {'worker':>7} {'echo':>6} {'wrk':>6} {'other':>6}"
    )
    for name in ("echo_get", "institution_direct", "programme_direct", "group_direct", "institution_gateway"):
        r = http.get(name, {})
        if "requests_per_s" not in r:
            lines.append(f"  {name:22} {r.get('error', 'not measured')}")
            continue
        cpu = r["cpu_ms_per_request"]
        lines.append(
            f"  {name:22} {r['requests_per_s']:>8} {r['p50_ms']!s:>8} {r['p99_ms']!s:>8} {r['max_ms']!s:>8} "
            f"{r['errors']:>5} {r.get('ratio_rps_to_echo', '')!s:>7} {cpu.get('surveys', '')!s:>8} "
            f"{cpu.get('gateway', '')!s:>8} {cpu.get('surveys-worker', '')!s:>7} {cpu.get('echo', '')!s:>6} "
            f"{cpu.get('wrk', '')!s:>6} {cpu.get('other', '')!s:>6}"
        )
    lines.append("  (CPU columns: ms per request of each process; other = the machine's busy CPU no process named did)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="wrk 5 s per figure after 1 s, one scan (same data)")
    parser.add_argument("--postgres", action="store_true", help="the surveys database on PostgreSQL, not SQLite")
    parser.add_argument("--answers", type=int, default=None, help="another number of submitted answers")
    parser.add_argument("--profile", action="store_true", help="then py-spy surveys' api under load")
    args = parser.parse_args()
    plan = Plan.of(args.quick, args.answers)
    backend = "postgres" if args.postgres else "sqlite"
    started = time.monotonic()
    date = datetime.now(UTC).isoformat(timespec="seconds")
    work = Path(tempfile.mkdtemp(prefix="prasmes-survey-results-"))
    print(f"survey results, {backend}, {plan.answers} answers{' (quick)' if plan.quick else ''}; work in {work}")
    try:
        result = run_backend(plan, args.postgres, work, args.profile)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    entry = {
        "date": date,
        "backend": backend,
        "quick": plan.quick,
        "machine": _machine(),
        "source": _source(),
        "plan": asdict(plan),
        "duration_s": round(time.monotonic() - started, 1),
        **result,
    }
    hotpath._merge(OUT, backend, entry)
    if "error" in result:
        print(f"failed: {result['error']}; logs kept in {work}")
        raise SystemExit(1)
    print(table(result))
    print(json.dumps(result["targets"], indent=2))
    print(f"written to {OUT} in {entry['duration_s']} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
