"""The statistics projection at the seed's full size (issue #13): `python -m bench.statistics_bench [--quick]
[--scale F] [--no-profile] [--scenario [--scenario-args "..."]]`.

**The servers.** A fresh Kafka broker and PostgreSQL on 127.0.0.1 (`prasmes_testing.servers`: started here unless
KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL name them, stopped at the end), the statistics database created on it.

**The events** (`Population`), put on the statistics service's topics (`PROJECTION.topics`, created with the bus's
3 partitions) before anything consumes them, by the runtime's Kafka producer (idempotent, acks=all) in sends of
5 000, each a CloudEvent as its owning service would publish it (source `/prasmes/<owner>`, keyed by its aggregate),
in time order: the seed's slide as of 30 Sep 2025 14:30 Riga (docs/domain.md) made of facts — 28 063 accounts opened;
25 429 persons' applications (IMK 7 574 granted in two rounds 2 091 + 5 483, its 6 rejected applied again and were
granted; VARAM 9 153; TĀLĀK 418; 4242 7 031 approved, 561 rejected (18 of them applied again), 710 still applied),
each approval with its grant reserved; IMK 5 360 / VARAM 4 091 / TĀLĀK 276 enrolled and started, of them 217 / 305 / 34
discontinued (grant released) and 2 228 / 2 639 / 0 completed (grant spent); 1 300 completion and 200
discontinuation survey answers; a call per round (five) with its phases and eight offers each (submitted, some
resubmitted or withdrawn, approved, one rejected); 60 providers and 540 study groups (some changed). Seeded
(`Plan.seed`): every run makes the same facts. `--quick` (or `--scale F`): every count of persons × 0.1 (× F); the
catalogue and the calls stay as they are. Reported: records per topic (the end offsets) and per event type, and the
publishing's time. `seed_check`: the dashboard's figures as of that instant against what the plan put on the topics.

**The baselines, in processes of their own (`--role consumer`), each in a fresh group, one after the other:**
*raw*: an `AIOKafkaConsumer` of the same topics (the runtime's subscription settings: no auto-commit, earliest),
`getmany` of as many records as the statistics consumer polls (`poll_size()`: its `Batched.max_records`, 1 000 since
`95bc5df`; 200 before), the records counted, the offsets committed per batch, until it has read the topics' end
offsets; *decoded* (for reference): the same, each record also decoded to its CloudEvent and its typed event
(`from_kafka`, the projection's handler looked up, `model_validate`): what the runtime does to every record before
its handler. Each process writes its `time.time()` and CPU once its consumer has started (t0) and once it has read
the last record; records/s and CPU ms per record are its own (Kafka's beside them).

**The live projection.** The gateway runs first (`prasmes_devtools.devstack.Stack`, Kafka + PostgreSQL, the rate
limit lifted: `bench.stack_bench.STACK_ENV`); then, once this process's admin client is connected (the start: time
and CPU), the statistics worker process (uvicorn `prasmes_statistics.app:app_factory`, role `worker`: migrations,
then the batched consumer in group `statistics.g1`) is started on the topics already full, and the group's committed
offsets are polled (every 0.1 s, without joining it) until they reach the end offsets. Reported: records/s from the
process's start (its start-up, migrations and group join included) and from the first commit seen to the last
(`steady`), CPU ms per record of the worker, PostgreSQL and Kafka (`/proc`, children included; "other": the machine's
busy CPU none of them used), a few (seconds, records committed) points. The statistics api process starts after it.

**The dashboard at rest and under load.** The routes are found where the service has them (at its root since
`5ef239d`, under `/statistics` before). One dashboard as of the seed's instant, first (counted) and again (since
`80f3775` the service keeps figures per version of the projection); then wrk (`bench.wrk_run`, via
`bench.hotpath.Bench`: a warm-up, a quiet machine awaited, the CPU of every process) `GET /dashboard` (an agency
officer's token, minted before timing) and the public `GET /summary` (both as of now), straight to the statistics
api and through the gateway (`/api/statistics/...`), at 1, 8 and 32 connections, 10 s each after 2 s (`--quick`: 3 s
after 1 s); the baseline in the same run: the bare echo (`bench/echo_app.py`, `GET /echo` with the same token header)
under the statistics api's own uvicorn flags, at the same concurrencies. Target: the dashboard's p99 < 100 ms.

**The rebuild.** Once the admin client is connected, `POST /rebuilds` (an agency admin's token, signed by the stack's
identity key, straight to the api process), then the same polling of `statistics.g2` until it has committed the end
offsets: records/s from the POST (its deletion of every fact, the consumer's move to the new group included) and
from the new group's first commit seen, CPU ms per record of the worker, the api, PostgreSQL and Kafka, and **the
ratio to the raw baseline** (target ≥ 0.5). The dashboard and the public summary as of the seed's instant are read
before and after it: `rebuilt_equal` says whether they are the same (and where they differ).

**The profiles** (not with `--no-profile`), after the figures (a profile slows the process): a further rebuild
(generation 3) under py-spy of the worker (`bench.profiling`: raw stacks, then a flame graph, each for ~40 % of the
measured rebuild), and the api process while wrk reads the dashboard (8 connections): the top costs, flame graphs
`bench/out/profiles/statistics-rebuild-statistics-worker.svg` and `statistics-dashboard-statistics.svg`; the
dashboard is compared again after that rebuild.

**The dashboard while a rebuild writes** (the last rebuild): wrk `GET /dashboard` straight at 8 connections for 60 %
of the measured rebuild's time, started once the POST has answered: every batch written is a new version of the
projection, so each read may count the figures afresh (what the live dashboard costs while events flow). Beside it
the rebuild's own rate under that load.

**`--scenario`**: the full-size seed scenario of `prasmes_devtools.scenario` (written elsewhere), run after the
figures above (their servers stopped) when that module exists: `python -m prasmes_devtools.scenario --scale <the
plan's scale> --var-dir <work>/scenario --keep-running [--scenario-args]`, on the stack the tool starts itself
(every service but notifications, embedded bus, SQLite). From what it prints (each line timed here): the total time,
its verdict ("Done in … min: …"), each step's persons/s and requests/s; the gateway's requests (its
`prasmes_http_requests_total`, probes left out) per second of driving (from "The stack is up" to "check:"); events/s
into the projection (statistics.g1's commits in the tool's event log, sampled every second, lag included); then,
while it keeps its stack running, wrk on the dashboard through its gateway (an agency officer's token signed by its
stack's key) at the same concurrencies, the CPU of its whole process tree; then SIGTERM (the tool stops its stack).
Without the module the report says so.

Writes `bench/out/statistics.json` and prints a table. Not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import random
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prasmes_contracts import CloudEvent, Event, KafkaRecord, from_kafka, to_kafka, topic_for
from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationRejected,
    ApplicationSubmittedV2,
    EnrolmentConfirmed,
    GrantReleased,
    GrantReserved,
    GrantSpent,
    StudiesCompleted,
    StudiesDiscontinued,
    StudiesStarted,
)
from prasmes_contracts.calls import (
    CallOpened,
    CallPhaseChanged,
    OfferApproved,
    OfferRejected,
    OfferSubmitted,
    OfferWithdrawn,
)
from prasmes_contracts.catalog import GroupChanged, GroupScheduled, ProviderRegistered
from prasmes_contracts.surveys import SurveyAnswered
from prasmes_devtools.devstack import Stack
from prasmes_devtools.scenario.plan import ASPECTS, REASONS
from prasmes_runtime import registry
from prasmes_runtime.bus.kafka import KafkaBus, KafkaProducer
from prasmes_runtime.db import Database
from prasmes_statistics.consumers import PROJECTION
from prasmes_testing.servers import create_database, free_port, kafka_server, postgres_server

from bench import hotpath, procs, profiling
from bench.run import _machine, _source, _start
from bench.stack_bench import STACK_ENV
from bench.stats import rounded
from bench.wrk_run import Request, run_wrk, write_requests

OUT = Path(__file__).resolve().parent / "out" / "statistics.json"
ROOT = procs.ROOT
AS_OF = datetime(2025, 9, 30, 11, 30, tzinfo=UTC)
"""The seed slide's instant (14:30 in Riga): every event happened before it."""
FIRST_DAY = date(2024, 9, 1)
LAST_DAY = AS_OF.date() - timedelta(days=1)
LATEST = AS_OF - timedelta(hours=1)
PUBLISH_CHUNK = 5_000
POLL = 0.1
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0
TOKEN_TTL = 3 * 3600
OFFICER = "bench-agency-officer"
ADMIN = "bench-agency-admin"
SCENARIO_MODULE = "prasmes_devtools.scenario"
WORKER = "statistics-worker"
STAR_WEIGHTS = (2, 3, 10, 35, 50)
REASON_WEIGHTS = (42, 36, 32, 29, 25, 16, 16, 13, 4, 1, 7)


def poll_size() -> int:
    """Records per poll of the statistics consumer as the runtime takes them: `Batched.max_records` (1 000 since
    `95bc5df`), the EventConsumer's `batch_size` of 200 before that."""
    return int(getattr(PROJECTION.batched, "max_records", 200))


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Round:
    """A funding project's application round (a call's learners' application period) and what became of its
    persons by the seed's instant."""

    call: str
    open_on: date
    close_on: date
    granted: int
    started: int = 0
    discontinued: int = 0
    completed: int = 0
    pending: int = 0


@dataclass(frozen=True)
class Project:
    code: str
    grant: Decimal
    rounds: tuple[Round, ...]
    rejected_only: int = 0
    """Persons rejected in the first round who did not apply again."""
    reapplied: int = 0
    """Persons rejected in the first round who applied again and were granted in the last (among its granted)."""


SEED_ACCOUNTS = 28_063
SEED_PROJECTS = (
    Project(
        "IMK",
        Decimal("500.00"),
        (
            Round("IMK-1", date(2024, 10, 1), date(2024, 12, 20), 2_091, 1_531, 62, 1_411),
            Round("IMK-2", date(2025, 2, 3), date(2025, 6, 30), 5_483, 3_829, 155, 817),
        ),
        reapplied=6,
    ),
    Project(
        "VARAM", Decimal("800.00"), (Round("VARAM-1", date(2024, 11, 4), date(2025, 8, 29), 9_153, 4_091, 305, 2_639),)
    ),
    Project("TALAK", Decimal("500.00"), (Round("TALAK-1", date(2025, 3, 3), date(2025, 7, 31), 418, 276, 34, 0),)),
    Project(
        "4242",
        Decimal("400.00"),
        (Round("4242-1", date(2025, 1, 15), date(2025, 9, 15), 7_031, pending=710),),
        rejected_only=543,
        reapplied=18,
    ),
)
SURVEYS = {"completion": 1_300, "discontinuation": 200}
INSTITUTIONS = 60
PROGRAMMES_PER_INSTITUTION = 3
GROUPS_PER_PROGRAMME = 3
OFFERS_PER_CALL = 8


@dataclass(frozen=True)
class Plan:
    quick: bool
    scale: float
    wrk_seconds: float
    warmup_seconds: float
    connections: tuple[int, ...] = (1, 8, 32)
    profile: bool = True
    scenario: bool = False
    scenario_args: tuple[str, ...] = ()
    seed: int = 13
    consume_timeout_s: float = 3600.0

    @classmethod
    def of(cls, quick: bool, scale: float | None, profile: bool, scenario: bool, scenario_args: Sequence[str]) -> Plan:
        chosen = scale if scale is not None else (0.1 if quick else 1.0)
        timing = (3.0, 1.0) if quick else (10.0, 2.0)
        return cls(quick, chosen, *timing, profile=profile, scenario=scenario, scenario_args=tuple(scenario_args))

    def n(self, count: int) -> int:
        return max(0, round(count * self.scale))

    def projects(self) -> tuple[Project, ...]:
        return tuple(
            replace(
                p,
                rounds=tuple(
                    replace(
                        r,
                        granted=self.n(r.granted),
                        started=self.n(r.started),
                        discontinued=self.n(r.discontinued),
                        completed=self.n(r.completed),
                        pending=self.n(r.pending),
                    )
                    for r in p.rounds
                ),
                rejected_only=self.n(p.rejected_only),
                reapplied=self.n(p.reapplied),
            )
            for p in SEED_PROJECTS
        )

    def accounts(self) -> int:
        return self.n(SEED_ACCOUNTS)


def expected(plan: Plan) -> dict[str, Any]:
    """The dashboard's figures as of AS_OF that the plan's events make."""
    projects: dict[str, Any] = {}
    for p in plan.projects():
        granted = sum(r.granted for r in p.rounds)
        pending = sum(r.pending for r in p.rounds)
        applicants = granted + pending + p.rejected_only
        rounds = {}
        for index, r in enumerate(p.rounds):
            first_only = index == 0 and len(p.rounds) > 1
            round_applicants = r.granted + r.pending + (p.rejected_only if index == 0 else 0)
            rounds[r.call] = {
                "applicants": round_applicants + (p.reapplied if first_only else 0),
                "granted": r.granted,
                "started": r.started,
                "completed": r.completed,
            }
        projects[p.code] = {
            "figures": {
                "applicants": applicants,
                "applications_submitted": applicants + p.reapplied,
                "granted": granted,
                "rejected": p.rejected_only + p.reapplied,
                "pending": pending,
                "started": sum(r.started for r in p.rounds),
                "discontinued": sum(r.discontinued for r in p.rounds),
                "completed": sum(r.completed for r in p.rounds),
            },
            "rounds": rounds,
        }
    total = sum(p["figures"]["applicants"] for p in projects.values())
    return {"accounts_opened": plan.accounts(), "applications_total": total, "projects": projects}


# --------------------------------------------------------------------------- the events


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _at(rng: random.Random, day: date) -> datetime:
    """An instant of a working day: 07:00-20:00 UTC, the same day in Riga."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=rng.randrange(7 * 60, 20 * 60))


def _day(rng: random.Random, first: date, last: date) -> date:
    last = min(last, LAST_DAY)
    return first + timedelta(days=rng.randrange(max(1, (last - first).days + 1)))


@dataclass
class Study:
    project: str
    grant: Decimal
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    ended_on: date
    completed: bool


@dataclass
class Population:
    """The events, in time order (ties in the order they were made: an aggregate's events stay in causal order)."""

    plan: Plan
    rng: random.Random = field(init=False)
    made: list[tuple[datetime, int, Event]] = field(default_factory=list)
    learners: int = 0
    groups: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = field(default_factory=list)
    """(group, programme, institution)."""
    programmes: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    """Institution -> its programmes."""
    ended: list[Study] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.plan.seed)

    def add(self, at: datetime, event: Event) -> datetime:
        at = min(at, LATEST)
        self.made.append((at, len(self.made), event))
        return at

    def events(self) -> list[Event]:
        return [event for _, _, event in sorted(self.made, key=lambda item: (item[0], item[1]))]

    @classmethod
    def of(cls, plan: Plan) -> Population:
        population = cls(plan)
        population.catalogue()
        for project in plan.projects():
            for r in project.rounds:
                population.call(project, r)
            population.persons(project)
        population.accounts_only(plan.accounts() - population.learners)
        population.surveys()
        return population

    # ----------------------------------------------------------------- catalog

    def catalogue(self) -> None:
        rng = self.rng
        for i in range(INSTITUTIONS):
            institution = _uuid(rng)
            at = datetime(2024, 6, 1, 8, tzinfo=UTC) + timedelta(hours=i)
            self.add(
                at,
                ProviderRegistered(
                    institution_id=institution,
                    at=at,
                    name=f"Mācību centrs {i + 1}",
                    register_number=f"{3300000000 + i}",
                ),
            )
            self.programmes[institution] = [_uuid(rng) for _ in range(PROGRAMMES_PER_INSTITUTION)]
            for programme in self.programmes[institution]:
                for _ in range(GROUPS_PER_PROGRAMME):
                    group = _uuid(rng)
                    self.groups.append((group, programme, institution))
                    start = _day(rng, date(2024, 10, 1), date(2025, 9, 1))
                    fields = {
                        "group_id": group,
                        "programme_id": programme,
                        "institution_id": institution,
                        "capacity": 16,
                        "start_date": start,
                        "end_date": start + timedelta(days=rng.randrange(60, 120)),
                        "city": rng.choice(("Rīga", "Liepāja", "Daugavpils", "Valmiera")),
                        "language": "lv",
                    }
                    scheduled = _at(rng, date(2024, 7, 1) + timedelta(days=rng.randrange(60)))
                    self.add(scheduled, GroupScheduled(**fields, at=scheduled))
                    if rng.random() < 0.1:
                        changed = scheduled + timedelta(days=20)
                        self.add(changed, GroupChanged(**{**fields, "capacity": 20}, at=changed))

    # ----------------------------------------------------------------- calls and offers

    def call(self, project: Project, r: Round) -> None:
        rng = self.rng
        call_id = _uuid(rng)
        opened = _at(rng, r.open_on - timedelta(days=40))
        self.add(
            opened,
            CallOpened(
                call_id=call_id,
                at=opened,
                code=r.call,
                title={"lv": f"Uzaicinājums {r.call}", "en": f"Call {r.call}"},
                project_code=project.code,
                applications_open_on=r.open_on,
                applications_close_on=r.close_on,
                offers_open_at=opened + timedelta(days=5),
                offers_deadline_at=opened + timedelta(days=15),
                evaluation_ends_on=r.open_on - timedelta(days=15),
                decision_on=r.open_on - timedelta(days=10),
                agreements_from=r.open_on - timedelta(days=8),
                publication_from=r.open_on - timedelta(days=5),
                delivery_ends_on=r.close_on + timedelta(days=300),
                max_programmes_per_institution=3,
                phase="announced",
            ),
        )
        previous = "announced"
        phases = (
            ("offers", r.open_on - timedelta(days=35)),
            ("evaluation", r.open_on - timedelta(days=25)),
            ("decision", r.open_on - timedelta(days=12)),
            ("agreements", r.open_on - timedelta(days=8)),
            ("applications", r.open_on),
            ("delivery", r.close_on + timedelta(days=1)),
        )
        for phase, day in phases:
            if day > LAST_DAY:
                break
            at = _at(rng, day)
            changed = {"call_id": call_id, "at": at, "phase": phase, "previous_phase": previous}
            self.add(at, CallPhaseChanged.model_validate(changed))
            previous = phase
        for i, institution in enumerate(rng.sample(sorted(self.programmes), OFFERS_PER_CALL)):
            offer = {"offer_id": _uuid(rng), "call_id": call_id, "institution_id": institution}
            programmes = self.programmes[institution]
            submitted = _at(rng, r.open_on - timedelta(days=34))
            self.add(
                submitted,
                OfferSubmitted(
                    **offer, at=submitted, offer_version=1, programme_ids=programmes, funding_source=project.code
                ),
            )
            if i == 1:  # withdrawn for good
                self.add(
                    submitted + timedelta(days=3),
                    OfferWithdrawn(**offer, at=submitted + timedelta(days=3), offer_version=1),
                )
                continue
            if i % 4 == 3:  # withdrawn and submitted again
                again = submitted + timedelta(days=3)
                self.add(again, OfferWithdrawn(**offer, at=again, offer_version=1))
                self.add(
                    again + timedelta(hours=2),
                    OfferSubmitted(
                        **offer,
                        at=again + timedelta(hours=2),
                        offer_version=2,
                        programme_ids=programmes,
                        funding_source=project.code,
                    ),
                )
            decided = _at(rng, r.open_on - timedelta(days=13))
            if i == 0:
                self.add(
                    decided, OfferRejected(**offer, at=decided, reasons={"quality": "Programmas apraksts nepilnīgs."})
                )
            else:
                self.add(decided, OfferApproved(**offer, at=decided, programme_ids=programmes))

    # ----------------------------------------------------------------- persons

    def _learner(self) -> str:
        self.learners += 1
        return f"bench-learner-{self.learners}"

    def _account(self, learner: str, before: date) -> None:
        opened = _at(self.rng, _day(self.rng, FIRST_DAY, max(FIRST_DAY, before - timedelta(days=1))))
        self.add(opened, AccountOpened(account_id=_uuid(self.rng), learner_id=learner, opened_at=opened))

    def _submit(self, learner: str, project: Project, day: date) -> tuple[dict[str, Any], datetime]:
        ids = {"application_id": _uuid(self.rng), "learner_id": learner, "project_code": project.code}
        at = _at(self.rng, day)
        self.add(at, ApplicationSubmittedV2(**ids, at=at))
        return ids, at

    def _reject(self, ids: dict[str, Any], submitted: datetime, days: int) -> datetime:
        at = min(submitted + timedelta(days=self.rng.randrange(1, days), minutes=self.rng.randrange(600)), LATEST)
        self.add(at, ApplicationRejected(**ids, at=at, reason_code="not_eligible"))
        return at

    def persons(self, project: Project) -> None:
        rng = self.rng
        first, last = project.rounds[0], project.rounds[-1]
        for _ in range(project.rejected_only):
            learner = self._learner()
            day = _day(rng, first.open_on, first.close_on)
            self._account(learner, day)
            self._reject(*self._submit(learner, project, day), 10)
        for r in project.rounds:
            fates = ["completed"] * r.completed + ["discontinued"] * r.discontinued
            fates += ["studying"] * max(0, r.started - len(fates))
            fates += ["granted"] * max(0, r.granted - len(fates))
            rng.shuffle(fates)
            fates += ["pending"] * r.pending
            for number, fate in enumerate(fates):
                again = r is last and number < project.reapplied and fate != "pending"
                self._person(project, r, fate, first if again else None)

    def _first_day(self, r: Round, rejected_in: Round | None) -> date:
        """The day of the person's (first) application: in its round's period; a person rejected before applies
        first in the first round's (in its first 60 %, when that is the same round: the second application must
        still fall within it)."""
        if rejected_in is None:
            return _day(self.rng, r.open_on, r.close_on)
        if rejected_in is not r:
            return _day(self.rng, rejected_in.open_on, rejected_in.close_on)
        span = (min(r.close_on, LAST_DAY) - r.open_on).days
        return _day(self.rng, r.open_on, r.open_on + timedelta(days=span * 6 // 10))

    def _person(self, project: Project, r: Round, fate: str, rejected_in: Round | None) -> None:
        """One person's events: an account, (a rejected application first), an application and its fate."""
        rng = self.rng
        learner = self._learner()
        day = self._first_day(r, rejected_in)
        self._account(learner, day)
        if rejected_in is not None:
            rejected = self._reject(*self._submit(learner, project, day), 5)
            later = max(r.open_on, rejected.date() + timedelta(days=rng.randrange(1, 5)))
            day = min(later, r.close_on, LAST_DAY)
        ids, submitted = self._submit(learner, project, day)
        if fate == "pending":
            return
        approved = min(submitted + timedelta(days=rng.randrange(1, 10), minutes=rng.randrange(600)), LATEST)
        self.add(approved, ApplicationApproved(**ids, at=approved, grant_amount=project.grant))
        self.add(approved, GrantReserved(**ids, amount=project.grant, at=approved))
        if fate == "granted":
            return
        group, programme, institution = rng.choice(self.groups)
        study = {
            **ids,
            "enrolment_id": _uuid(rng),
            "programme_id": programme,
            "group_id": group,
            "institution_id": institution,
        }
        enrolled = min(approved + timedelta(days=rng.randrange(2, 20)), LATEST)
        self.add(enrolled, EnrolmentConfirmed(**study, at=enrolled))
        started_on = min(enrolled.date() + timedelta(days=rng.randrange(1, 10)), LAST_DAY)
        started = self.add(max(enrolled, _at(rng, started_on)), StudiesStarted(**study, started_on=started_on))
        if fate == "studying":
            return
        if fate == "discontinued":
            ended = min(started_on + timedelta(days=rng.randrange(5, 40)), LAST_DAY)
            at_end = self.add(max(started, _at(rng, ended)), StudiesDiscontinued(**study, discontinued_on=ended))
            self.add(at_end, GrantReleased(**ids, amount=project.grant, at=at_end, cause="discontinued"))
        else:
            ended = min(started_on + timedelta(days=rng.randrange(20, 90)), LAST_DAY)
            completed = StudiesCompleted(**study, completed_on=ended, hours_attended=120, result="passed")
            at_end = self.add(max(started, _at(rng, ended)), completed)
            spent = {"programme_id": programme, "institution_id": institution}
            self.add(at_end, GrantSpent(**ids, amount=project.grant, at=at_end, **spent))
        self.ended.append(Study(project.code, project.grant, programme, institution, ended, fate == "completed"))

    def accounts_only(self, count: int) -> None:
        for _ in range(max(0, count)):
            self._account(self._learner(), LAST_DAY + timedelta(days=1))

    # ----------------------------------------------------------------- surveys

    def surveys(self) -> None:
        rng = self.rng
        for kind, count in SURVEYS.items():
            done = [s for s in self.ended if s.completed == (kind == "completion")]
            for study in rng.sample(done, min(len(done), self.plan.n(count))):
                at = _at(rng, min(study.ended_on + timedelta(days=rng.randrange(1, 10)), LAST_DAY))
                answer: dict[str, Any] = {
                    "programme_id": study.programme_id,
                    "institution_id": study.institution_id,
                    "project_code": study.project,
                    "kind": kind,
                    "questionnaire_version": 1,
                    "at": at,
                }
                if kind == "completion":
                    answer["stars"] = {a: rng.choices(range(1, 6), weights=STAR_WEIGHTS)[0] for a in ASPECTS}
                else:
                    answer["reasons"] = sorted(set(rng.choices(REASONS, weights=REASON_WEIGHTS, k=rng.randint(1, 3))))
                self.add(at, SurveyAnswered(**answer))


async def put_on_topics(bootstrap: str, events: Sequence[Event]) -> dict[str, Any]:
    """The events as their owners publish them (one producer, sends of PUBLISH_CHUNK, every ack awaited)."""
    producer = KafkaProducer(bootstrap)
    await producer.start()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        for at in range(0, len(events), PUBLISH_CHUNK):
            chunk = events[at : at + PUBLISH_CHUNK]
            records = []
            for event in chunk:
                topic = topic_for(type(event))
                envelope = CloudEvent(
                    source=f"/prasmes/{topic.owner}",
                    type=event.event_type(),
                    subject=event.partition_key(),
                    data=event.model_dump(mode="json"),
                )
                records.append((topic.name, to_kafka(envelope, event.partition_key())))
            await producer.send_many(records)
    finally:
        await producer.stop()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "events": len(events),
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(events) / elapsed, 1) if elapsed else None,
        "bench_cpu_ms_per_event": round(1000 * cpu / len(events), 4) if events else None,
    }


# --------------------------------------------------------------------------- Kafka offsets


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    cluster = await consumer._client.fetch_all_metadata()
    return [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[str, int]:
    """Records per topic (the sum of its partitions' end offsets: the topics are fresh, nothing was deleted)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = await _partitions(consumer, topics)
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    by_topic: Counter[str] = Counter()
    for tp, end in ends.items():
        by_topic[tp.topic] += end
    return {t: by_topic[t] for t in topics}


@dataclass(frozen=True)
class Sample:
    at: float
    committed: int
    end: int
    cpu: dict[str, float]


async def watch_group(
    bootstrap: str,
    group: str,
    topics: Sequence[str],
    pids: Callable[[], dict[str, int]],
    healthy: Callable[[], None],
    timeout: float,
    begin: Callable[[], None],
) -> tuple[Sample, list[Sample]]:
    """Connect to the broker, take the start (time and CPU of `pids`), call `begin()` (start the consumer, POST the
    rebuild), then poll the group's committed offsets (admin client, never joining it) every POLL s, with the CPU of
    `pids`, until they reach the end offsets. Returns the start and the samples."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await consumer.start()
    samples: list[Sample] = []
    try:
        await admin.start()
        tps = await _partitions(consumer, topics)
        end = sum((await consumer.end_offsets(tps)).values())
        await admin.list_consumer_group_offsets(group, partitions=tps)  # the coordinator found before the start
        start = Sample(time.time(), 0, end, {**procs.cpu_snapshot(pids()), "bench_driver": time.process_time()})
        begin()
        deadline = time.monotonic() + timeout
        while True:
            committed = await admin.list_consumer_group_offsets(group, partitions=tps)
            done = sum(max(m.offset, 0) for m in committed.values() if m is not None)
            cpu = procs.cpu_snapshot(pids())
            cpu["bench_driver"] = time.process_time()
            samples.append(Sample(time.time(), done, end, cpu))
            if done >= end:
                return start, samples
            healthy()
            if time.monotonic() > deadline:
                raise RuntimeError(f"group {group}: {done} of {end} records committed after {timeout} s")
            await asyncio.sleep(POLL)
    finally:
        await admin.close()
        await consumer.stop()


def consumption(start: Sample, samples: Sequence[Sample]) -> dict[str, Any]:
    """Records/s and CPU per record from the start (and from the group's first commit seen) to its last commit."""
    last = samples[-1]
    first = next((s for s in samples if s.committed > 0), last)
    before = {n: start.cpu.get(n, 0.0) for n in last.cpu}  # a process started by `begin`: from 0
    records = last.committed
    overall = last.at - start.at
    steady = last.at - first.at
    steady_records = records - first.committed
    return {
        "records": records,
        "seconds": round(overall, 2),
        "records_per_s": rounded(records / overall, 1) if overall > 0 else None,
        "cpu_ms_per_record": procs.cpu_ms_per_request(before, last.cpu, records),
        "first_commit_seen_after_s": round(first.at - start.at, 2),
        "first_commit_records": first.committed,
        "steady": {
            "records": steady_records,
            "seconds": round(steady, 2),
            "records_per_s": rounded(steady_records / steady, 1) if steady > 0 else None,
            "cpu_ms_per_record": procs.cpu_ms_per_request(first.cpu, last.cpu, steady_records),
        },
        "poll_interval_s": POLL,
        "samples": len(samples),
        "progress": _progress(start.at, samples),
    }


def _progress(start_at: float, samples: Sequence[Sample], points: int = 12) -> list[list[float]]:
    """A few (seconds since the start, records committed) pairs: is the rate steady?"""
    step = max(1, len(samples) // points)
    chosen = [*samples[::step], samples[-1]]
    return [[round(s.at - start_at, 2), s.committed] for s in chosen]


# --------------------------------------------------------------------------- the baselines' processes


def _ready(path: Path, **extra: Any) -> None:
    times = os.times()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"t": time.time(), "cpu": times.user + times.system, "pid": os.getpid(), **extra}))
    tmp.rename(path)


def _decoder() -> Callable[[Any], None]:
    """What the runtime does to each record before its handler: the CloudEvent, the handler, the typed event."""
    handlers = PROJECTION.handlers

    def decode(message: Any) -> None:
        envelope = from_kafka(KafkaRecord(key=message.key, value=message.value, headers=list(message.headers)))
        found = handlers.get(envelope.type)
        if found is not None:
            found[0].model_validate(envelope.data)

    return decode


async def consume(
    bootstrap: str, group: str, topics: Sequence[str], expect: int, mode: str, ready: Path, result: Path
) -> None:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=f"bench-{group}",
        metadata_max_age_ms=5_000,
    )
    decode = _decoder() if mode == "decoded" else None
    max_records = poll_size()
    await consumer.start()
    _ready(ready)
    count = batches = 0
    try:
        while count < expect:
            got = await consumer.getmany(timeout_ms=500, max_records=max_records)
            offsets: dict[TopicPartition, int] = {}
            for tp, messages in got.items():
                if decode is not None:
                    for message in messages:
                        decode(message)
                count += len(messages)
                if messages:
                    offsets[tp] = messages[-1].offset + 1
            if offsets:
                await consumer.commit(offsets)
                batches += 1
        _ready(result, records=count, batches=batches)
    finally:
        await consumer.stop()


def baseline(
    bootstrap: str, topics: Sequence[str], records: int, mode: str, work: Path, servers: dict[str, int], timeout: float
) -> dict[str, Any]:
    quiet = procs.wait_quiet()
    load = os.getloadavg()[0]
    var = work / f"baseline-{mode}"
    var.mkdir(parents=True, exist_ok=True)
    ready, result = var / "ready.json", var / "result.json"
    group = f"bench-{mode}-{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable, "-m", "bench.statistics_bench", "--role", "consumer", "--mode", mode, "--bootstrap", bootstrap,
        "--group", group, "--topics", ",".join(topics), "--expect", str(records), "--ready", str(ready),
        "--result", str(result),
    ]  # fmt: skip
    with (var / "process.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    try:
        procs.wait_for_file(ready, process, 120, "the consumer process")
        before = procs.cpu_snapshot(servers)
        procs.wait_for_file(result, process, timeout, "the consumer process")
        after = procs.cpu_snapshot(servers)
    finally:
        procs.stop(process)
    t0, t1 = json.loads(ready.read_text()), json.loads(result.read_text())
    elapsed, cpu = t1["t"] - t0["t"], t1["cpu"] - t0["cpu"]
    servers_cpu = procs.cpu_ms_per_request(before, after, t1["records"], {"consumer": cpu})
    return {
        "group": group,
        "records": t1["records"],
        "batches": t1["batches"],
        "max_records_per_poll": poll_size(),
        "seconds": round(elapsed, 3),
        "records_per_s": round(t1["records"] / elapsed, 1),
        "cpu_ms_per_record": servers_cpu,
        "quiet_wait": quiet,
        "load_average_before": round(load, 2),
    }


# --------------------------------------------------------------------------- the service


def _alive(stack: Stack) -> Callable[[], None]:
    def check() -> None:
        dead = {name: p.returncode for name, p in stack.processes.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"processes exited: {dead}; logs in {stack.var_dir / 'logs'}")

    return check


def _pids(stack: Stack, servers: dict[str, int], *names: str) -> Callable[[], dict[str, int]]:
    def pids() -> dict[str, int]:
        chosen = {n: p.pid for n, p in stack.processes.items() if not names or n in names}
        return {**chosen, **servers}

    return pids


def live(stack: Stack, bootstrap: str, servers: dict[str, int], plan: Plan) -> dict[str, Any]:
    """The statistics worker started on the full topics: until statistics.g1 has committed their end offsets."""
    quiet = procs.wait_quiet()
    load = os.getloadavg()[0]
    start, samples = asyncio.run(
        watch_group(
            bootstrap,
            PROJECTION.group(1),
            PROJECTION.topics,
            _pids(stack, servers, WORKER),
            _alive(stack),
            plan.consume_timeout_s,
            lambda: stack.start_service("statistics", "worker"),
        )
    )
    return {**consumption(start, samples), "quiet_wait": quiet, "load_average_before": round(load, 2)}


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _get(url: str, headers: dict[str, str] | None = None, **params: str) -> Any:
    answer = httpx.get(url, headers=headers, params=params, timeout=120, trust_env=False)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {url}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def snapshot(api: str, officer: dict[str, str]) -> dict[str, Any]:
    """The dashboard and the public summary as of the seed's instant: the first dashboard counted (unless the
    projection's version is unchanged since the last one), then again (kept)."""
    as_of = AS_OF.isoformat()
    _get(f"{api}/rebuilds/current", officer)  # the process's token verifier has its keys: not in the first's time
    started = time.perf_counter()
    dashboard = _get(f"{api}/dashboard", officer, as_of=as_of)
    first = time.perf_counter()
    _get(f"{api}/dashboard", officer, as_of=as_of)
    again = time.perf_counter()
    return {
        "dashboard": dashboard,
        "summary": _get(f"{api}/summary", as_of=as_of),
        "dashboard_ms": {"first": round(1000 * (first - started), 1), "again": round(1000 * (again - first), 1)},
        "dashboard_bytes": len(json.dumps(dashboard)),
    }


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def _differences(a: Any, b: Any, path: str = "", out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if len(out) >= 20:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            _differences(a.get(key), b.get(key), f"{path}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _differences(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:80]} != {json.dumps(b)[:80]}")
    return out


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for what in ("dashboard", "summary"):
        same = before[what] == after[what]
        out[what] = {"equal": same, "digest": _digest(after[what])}
        if not same:
            out[what]["differences"] = _differences(before[what], after[what])
    out["equal"] = all(v["equal"] for v in out.values())
    return out


def seed_check(plan: Plan, dashboard: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's figures against what the plan's events make (the seed's slide at full size)."""
    want = expected(plan)
    got_projects = {p["project_code"]: p for p in dashboard["projects"]}
    wrong: list[str] = []
    missing: list[str] = []
    """Figures the dashboard leaves out of a project (counted as 0 here): a project without studies has no started,
    discontinued, completed."""
    for key in ("accounts_opened", "applications_total"):
        if dashboard[key] != want[key]:
            wrong.append(f"{key}: {dashboard[key]} != {want[key]}")
    for code, figures in want["projects"].items():
        got = got_projects.get(code, {"figures": {}, "rounds": {}})
        for name, value in figures["figures"].items():
            if name not in got["figures"]:
                missing.append(f"{code}.{name}")
            if got["figures"].get(name, 0) != value:
                wrong.append(f"{code}.{name}: {got['figures'].get(name)} != {value}")
        for call, values in figures["rounds"].items():
            for name, value in values.items():
                if got["rounds"].get(call, {}).get(name) != value:
                    wrong.append(f"{code}.rounds.{call}.{name}: {got['rounds'].get(call, {}).get(name)} != {value}")
    answers = dashboard["surveys"]["answers"]
    return {
        "matches": not wrong,
        "differences": wrong[:30],
        "figures_missing_from_the_dashboard": missing,
        "accounts_opened": dashboard["accounts_opened"],
        "applications_total": dashboard["applications_total"],
        "projects": {
            c: {k: got_projects[c]["figures"].get(k) for k in want["projects"][c]["figures"]}
            for c in got_projects
            if c in want["projects"]
        },
        "survey_answers": answers,
    }


def rebuild(
    api: str,
    admin: dict[str, str],
    stack: Stack,
    bootstrap: str,
    servers: dict[str, int],
    generation: int,
    plan: Plan,
    posted: threading.Event | None = None,
) -> dict[str, Any]:
    """POST a rebuild, then poll the new generation's group until it has committed every record."""
    said: dict[str, Any] = {}

    def post() -> None:
        at = time.perf_counter()
        answer = httpx.post(f"{api}/rebuilds", headers=admin, timeout=600, trust_env=False)
        said.update(seconds=time.perf_counter() - at, status=answer.status_code, body=answer.text[:300])
        if posted is not None:
            posted.set()
        if answer.status_code != 202:
            raise RuntimeError(f"POST {api}/rebuilds: {answer.status_code} {answer.text[:300]}")
        if answer.json()["generation"] != generation:
            raise RuntimeError(f"the rebuild started generation {answer.json()['generation']}, not {generation}")

    start, samples = asyncio.run(
        watch_group(
            bootstrap,
            PROJECTION.group(generation),
            PROJECTION.topics,
            _pids(stack, servers, WORKER, "statistics"),
            _alive(stack),
            plan.consume_timeout_s,
            post,
        )
    )
    return {
        "generation": generation,
        "post_seconds": round(said["seconds"], 3),
        **consumption(start, samples),
        "status_after": _get(f"{api}/rebuilds/current", admin),
    }


# --------------------------------------------------------------------------- the dashboard under load


def per_thread(request: Request, threads: int) -> list[Request]:
    """One line per wrk thread (bench/wrk/requests.lua gives thread i the lines i, i + threads, ...)."""
    return [request] * threads


def http(
    stack: Stack, plan: Plan, work: Path, officer: dict[str, str], servers: dict[str, int], prefix: str
) -> dict[str, Any]:
    wrk_plan = hotpath.Plan(
        quick=plan.quick, seconds=plan.wrk_seconds, warmup_seconds=plan.warmup_seconds, profile_seconds=0
    )
    bench = hotpath.Bench(wrk_plan, work)
    pids = _pids(stack, servers)()
    api_pid = stack.processes["statistics"].pid
    flags = procs.uvicorn_flags(api_pid, registry.entry("statistics").factory)
    out: dict[str, Any] = {
        "uvicorn_flags": flags,
        "wrk_seconds": plan.wrk_seconds,
        "connections": list(plan.connections),
    }
    port = free_port()
    echo_url = f"http://127.0.0.1:{port}"

    def measure(
        key: str, url: str, path: str, headers: dict[str, str], chosen: dict[str, int], c: int
    ) -> dict[str, Any]:
        lines = per_thread(Request("GET", path, headers), min(2, c))
        return hotpath._guarded(lambda: bench.run(key, url, lambda _: lines, chosen, connections=c))

    with procs.echo_server(port, work / "echo.log", flags) as echo:
        for c in plan.connections:
            out[f"echo_c{c}"] = measure(f"echo_c{c}", echo_url, "/echo", officer, {"echo": echo.pid}, c)
    api, gateway = stack.url("statistics"), stack.gateway_url
    routes: tuple[tuple[str, str, str, dict[str, str]], ...] = (
        ("dashboard_direct", api, f"{prefix}/dashboard", officer),
        ("dashboard_gateway", gateway, f"/api/statistics{prefix}/dashboard", officer),
        ("summary_direct", api, f"{prefix}/summary", {}),
        ("summary_gateway", gateway, f"/api/statistics{prefix}/summary", {}),
    )
    for name, url, path, headers in routes:
        _get(url + path, headers)
        for c in plan.connections:
            out[f"{name}_c{c}"] = measure(f"{name}_c{c}", url, path, headers, pids, c)
    for key, figure in out.items():
        if not isinstance(figure, dict) or "requests_per_s" not in figure or key.startswith("echo"):
            continue
        echo_figure = out.get(f"echo_c{key.rsplit('_c', 1)[1]}", {})
        if echo_figure.get("requests_per_s"):
            figure["ratio_rps_to_echo"] = round(figure["requests_per_s"] / echo_figure["requests_per_s"], 4)
    return out


def during_rebuild(
    api: str,
    admin: dict[str, str],
    officer: dict[str, str],
    stack: Stack,
    bootstrap: str,
    servers: dict[str, int],
    plan: Plan,
    work: Path,
    prefix: str,
    generation: int,
    measured_s: float,
) -> dict[str, Any]:
    """The dashboard under load (straight, 8 connections) while a rebuild writes its facts: every batch written is a
    new version of the projection, so the figures are counted afresh rather than served from the cache. One wrk run
    of 60 % of the rebuild's measured time (under this load it takes longer: the run lies within it, which
    `rebuild_running_when_wrk_ended` confirms); the rebuild's own rate under that load beside it."""
    requests_file = work / "during-rebuild.txt"
    write_requests(requests_file, per_thread(Request("GET", f"{prefix}/dashboard", officer), 2))
    pids = _pids(stack, servers)()
    found: dict[str, Any] = {}
    done, posted = threading.Event(), threading.Event()

    def rebuilding() -> None:
        try:
            found["rebuild"] = rebuild(api, admin, stack, bootstrap, servers, generation, plan, posted)
        except Exception as exc:
            found["rebuild"] = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            posted.set()
            done.set()

    seconds = max(2, int(0.6 * measured_s))  # wrk takes whole seconds
    worker = threading.Thread(target=rebuilding)
    worker.start()
    posted.wait(timeout=600)
    before = procs.cpu_snapshot(pids)
    report = run_wrk(stack.url("statistics"), requests_file, threads=2, connections=8, seconds=seconds)
    after = procs.cpu_snapshot(pids)
    report["rebuild_running_when_wrk_ended"] = not done.is_set()
    worker.join()
    report["cpu_ms_per_request"] = procs.cpu_ms_per_request(
        before, after, report["completed"], {"wrk": report["load_generator"]["cpu_s"]}
    )
    rebuilt = found.get("rebuild", {})
    return {
        "dashboard_direct_c8": report,
        "rebuild": {k: rebuilt.get(k) for k in ("generation", "records", "seconds", "records_per_s", "error")},
    }


TABLE_STATS = (
    "SELECT relname, n_live_tup, n_dead_tup, last_autoanalyze IS NOT NULL, last_autovacuum IS NOT NULL "
    "FROM pg_stat_user_tables ORDER BY relname"
)


async def _table_stats(url: str) -> dict[str, Any]:
    database = Database(url)
    try:
        async with database.session() as session:
            rows = (await session.execute(sa.text(TABLE_STATS))).all()
    finally:
        await database.dispose()
    return {r[0]: {"live": r[1], "dead": r[2], "analyzed": r[3], "vacuumed": r[4]} for r in rows if r[1] or r[2]}


FIGURE_READS = ("accounts_opened", "per_project", "per_round", "per_call", "survey_counts")
"""`prasmes_statistics.db.figures`' reads that the dashboard is counted from (`service.figures._dashboard`)."""


async def _figure_reads(url: str, repeats: int) -> dict[str, Any]:
    from prasmes_statistics.db import figures as reads

    database = Database(url)
    out: dict[str, Any] = {}
    try:
        for name in FIGURE_READS:
            read = getattr(reads, name, None)
            if read is None:
                out[name] = {"error": "no such function"}
                continue
            times = []
            for _ in range(repeats):
                at = time.perf_counter()
                async with database.session() as session:
                    await read(session, AS_OF)
                times.append(1000 * (time.perf_counter() - at))
            out[name] = {"best_ms": round(min(times), 1), "each_ms": [round(t, 1) for t in times]}
    finally:
        await database.dispose()
    out["sum_of_best_ms"] = round(sum(v["best_ms"] for v in out.values() if "best_ms" in v), 1)
    return out


def figure_reads(url: str, repeats: int = 3) -> dict[str, Any]:
    """Each read of the dashboard's count, as of the seed's instant, in a read-only session of its own, in this
    process (what a cache miss costs, and which statement costs it)."""
    try:
        return asyncio.run(_figure_reads(url, repeats))
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def table_stats(url: str) -> dict[str, Any]:
    """PostgreSQL's row counts of the facts and whether autovacuum has analyzed them (the dashboard's plans)."""
    try:
        return asyncio.run(_table_stats(url))
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


# --------------------------------------------------------------------------- the profile


def profile(
    api: str,
    admin: dict[str, str],
    stack: Stack,
    bootstrap: str,
    servers: dict[str, int],
    plan: Plan,
    measured_s: float,
) -> dict[str, Any]:
    """py-spy of the worker during a further rebuild (generation 3): raw stacks, then the flame graph."""
    seconds = max(2, min(20, int(0.4 * measured_s)))  # whole seconds (py-spy's --duration)
    report = profiling.profile_under_load(
        lambda _: rebuild(api, admin, stack, bootstrap, servers, 3, plan),
        {WORKER: stack.processes[WORKER].pid},
        seconds,
        hotpath.PROFILE_DIR,
        "statistics-rebuild",
    )
    load = report.get("load") or {}
    report["load"] = {k: load.get(k) for k in ("generation", "records", "seconds", "records_per_s")}
    return report


def profile_dashboard(stack: Stack, officer: dict[str, str], plan: Plan, work: Path, prefix: str) -> dict[str, Any]:
    """py-spy of the statistics api while wrk reads the dashboard straight (8 connections), after the figures."""
    requests_file = work / "profile-dashboard.txt"
    write_requests(requests_file, per_thread(Request("GET", f"{prefix}/dashboard", officer), 2))
    seconds = 4 if plan.quick else 10
    return profiling.profile_under_load(
        lambda duration: run_wrk(stack.url("statistics"), requests_file, connections=8, seconds=int(duration) + 1),
        {"statistics": stack.processes["statistics"].pid},
        seconds,
        hotpath.PROFILE_DIR,
        "statistics-dashboard",
    )


# --------------------------------------------------------------------------- the scenario hook

SCENARIO_UP = re.compile(r"The stack is up at (http://[^\s()]+[0-9])")
SCENARIO_DONE = re.compile(r"Done in ([0-9.]+) min: (.*)\.$")
SCENARIO_PROGRESS = re.compile(r"^\s+(.+?): (\d+)/(\d+) \(([0-9.]+)/s, (\d+) requests/s")
SCENARIO_KEEPS_RUNNING = "The stack keeps running"


def scenario_available() -> bool:
    try:
        return importlib.util.find_spec(SCENARIO_MODULE) is not None
    except ModuleNotFoundError:
        return False


def _log_counts(log: Path, topics: Sequence[str]) -> tuple[int, int]:
    """(records on the topics, records statistics.g1 has committed) in an embedded event log."""
    marks = ",".join("?" * len(topics))
    conn = sqlite3.connect(f"file:{log}?mode=ro", uri=True, timeout=30)
    try:
        total = conn.execute(f"SELECT COUNT(*) FROM records WHERE topic IN ({marks})", tuple(topics)).fetchone()[0]
        done = conn.execute(
            f"SELECT COALESCE(SUM(next_offset), 0) FROM group_offsets WHERE group_id = ? AND topic IN ({marks})",
            (PROJECTION.group(1), *topics),
        ).fetchone()[0]
    finally:
        conn.close()
    return int(total), int(done)


def _gateway_requests(gateway: str) -> int | None:
    """Requests the gateway answered so far (its prasmes_http_requests_total, probes and scrapes left out)."""
    try:
        text = httpx.get(f"{gateway}/metrics", timeout=10, trust_env=False).text
    except httpx.HTTPError:
        return None
    total = 0.0
    for line in text.splitlines():
        if line.startswith("prasmes_http_requests_total{") and not any(
            f'route="/{p}' in line for p in ("healthz", "readyz", "metrics")
        ):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


@dataclass
class ScenarioRun:
    """What the scenario printed, each line with when it came."""

    process: subprocess.Popen[str]
    lines: list[tuple[float, str]] = field(default_factory=list)
    gateway: str | None = None
    serving: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.time(), line.rstrip("\n")))
            print(f"    scenario| {line.rstrip()}", flush=True)
            up = SCENARIO_UP.search(line)
            if up:
                self.gateway = up.group(1)
            if SCENARIO_KEEPS_RUNNING in line:
                self.serving.set()
        self.serving.set()


def _steps(lines: Sequence[tuple[float, str]], started: float) -> dict[str, Any]:
    """Per step of the scenario, from its progress lines (printed every 5 s): persons done, their rate, requests/s
    (each the step's average so far, as its last line says) and how long it ran (first to last line)."""
    steps: dict[str, dict[str, Any]] = {}
    for at, line in lines:
        found = SCENARIO_PROGRESS.match(line)
        if found is None:
            continue
        label, done, total, rate, requests = found.groups()
        step = steps.setdefault(label, {"first_line_s": round(at - started, 1)})
        step.update(
            done=int(done),
            of=int(total),
            persons_per_s=float(rate),
            requests_per_s=int(requests),
            last_line_s=round(at - started, 1),
        )
    return steps


def scenario(plan: Plan, work: Path) -> dict[str, Any]:
    """`python -m prasmes_devtools.scenario` at the plan's scale on its own stack (the tool starts it: embedded bus,
    SQLite), kept running after its check: its total time and verdict as it prints them, the gateway's requests
    (its Prometheus counter) per second of the run, the statistics group's commits in the tool's event log (events/s
    into the projection) and, before it is stopped, the dashboard under wrk through its gateway."""
    var = work / "scenario"
    command = [
        sys.executable, "-m", SCENARIO_MODULE, "--scale", f"{plan.scale:g}", "--var-dir", str(var), "--keep-running",
        *plan.scenario_args,
    ]  # fmt: skip
    log = (work / "scenario.log").open("w")
    started = time.time()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    state = ScenarioRun(process)
    reader = threading.Thread(target=state.read, daemon=True)
    reader.start()
    samples: list[list[float]] = []
    events_log = var / "events.db"
    out: dict[str, Any] = {"ran": True, "command": command, "log": str(work / "scenario.log")}
    try:
        while not state.serving.wait(1.0):
            if events_log.exists():
                with contextlib.suppress(sqlite3.Error):
                    samples.append([round(time.time() - started, 1), *_log_counts(events_log, PROJECTION.topics)])
        ended = time.time()
        out["returncode_while_running"] = process.poll()
        if state.gateway and process.poll() is None:
            out["gateway_requests"] = _gateway_requests(state.gateway)
            if events_log.exists():
                samples.append([round(time.time() - started, 1), *_log_counts(events_log, PROJECTION.topics)])
            out["dashboard"] = hotpath._guarded(
                lambda: _scenario_dashboard(plan, work, var, state.gateway or "", process.pid)
            )
    finally:
        _stop(process)  # SIGTERM: the tool stops its stack and keeps its state
        reader.join(timeout=30)
        log.close()
    done = next((SCENARIO_DONE.search(line) for _, line in state.lines if SCENARIO_DONE.search(line)), None)
    up = next((at for at, line in state.lines if SCENARIO_UP.search(line)), None)
    check = next((at for at, line in state.lines if line.strip() == "check:"), None)
    driving = check - up if up is not None and check is not None else None
    requests = out.get("gateway_requests")
    out.update(
        returncode=process.returncode,
        verdict=done.group(2) if done else None,
        printed_minutes=float(done.group(1)) if done else None,
        total_seconds=round(ended - started, 1),
        stack_up_after_s=round(up - started, 1) if up is not None else None,
        driving_seconds=round(driving, 1) if driving else None,
        operations_per_s=round(requests / driving, 1) if requests and driving else None,
        steps=_steps(state.lines, started),
        projection=_scenario_projection(samples),
        last_lines=[line for _, line in state.lines[-5:]],
    )
    return out


def _stop(process: subprocess.Popen[str], timeout: float = 120) -> None:
    """SIGTERM, then SIGKILL if it has not ended (the tool stops a whole stack first: longer than procs.stop's 20 s)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _scenario_projection(samples: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Events/s into the projection from the samples (seconds, records on the topics, committed by statistics.g1)."""
    if not samples:
        return {}
    first = next((s for s in samples if s[2] > 0), samples[-1])
    last = samples[-1]
    caught = next((s for s in samples if s[2] >= last[1] and s[1] == last[1]), last)
    seconds = caught[0] - first[0]
    return {
        "records": int(last[1]),
        "committed": int(last[2]),
        "first_commit_s": first[0],
        "caught_up_s": caught[0],
        "records_per_s": round((caught[2] - first[2]) / seconds, 1) if seconds > 0 else None,
        "lag_max": int(max(s[1] - s[2] for s in samples)),
        "samples": [list(s) for s in samples[:: max(1, len(samples) // 20)]],
    }


def _scenario_dashboard(plan: Plan, work: Path, var: Path, gateway: str, pid: int) -> dict[str, Any]:
    """wrk GET the dashboard through the scenario's gateway (an agency officer's token signed by its stack's key),
    at the plan's concurrencies; CPU of the scenario's whole process tree (its stack's processes are its children)."""
    token = Stack(var_dir=var).token_issuer().issue(OFFICER, ["agency_officer"], ttl_seconds=TOKEN_TTL)
    officer = _headers(token)
    path = f"/api/statistics{route_prefix(gateway + '/api/statistics')}/dashboard"
    _get(gateway + path, officer)
    wrk_plan = hotpath.Plan(
        quick=plan.quick, seconds=plan.wrk_seconds, warmup_seconds=plan.warmup_seconds, profile_seconds=0
    )
    bench = hotpath.Bench(wrk_plan, work)
    lines = per_thread(Request("GET", path, officer), 2)

    def measure(c: int) -> dict[str, Any]:
        return bench.run(f"scenario_dashboard_c{c}", gateway, lambda _: lines, {"scenario": pid}, connections=c)

    return {f"dashboard_gateway_c{c}": hotpath._guarded(partial(measure, c)) for c in plan.connections}


# --------------------------------------------------------------------------- the run


def _servers(bootstrap: str, server_url: str) -> dict[str, int]:
    found = {}
    for name, port in (("kafka", int(bootstrap.rsplit(":", 1)[1])), ("postgres", urlsplit(server_url).port)):
        pid = procs.listener_pid(port) if port else None
        if pid is not None:
            found[name] = pid
    return found


def _phase(results: dict[str, Any], key: str, measure: Callable[[], Any]) -> Any:
    started = time.monotonic()
    print(f"{key} ...", flush=True)
    try:
        results[key] = measure()
    except Exception as exc:
        traceback.print_exc()
        results[key] = {"error": f"{type(exc).__name__}: {exc}"}
    took = round(time.monotonic() - started, 1)
    results.setdefault("phase_seconds", {})[key] = took
    print(f"  {key}: {took} s", flush=True)
    return results[key]


def route_prefix(origin: str) -> str:
    """Where the statistics routes are on the service: at its root (since `5ef239d`) or under /statistics."""
    for prefix in ("", "/statistics"):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{origin}{prefix}/definitions", timeout=30, trust_env=False).status_code == 200:
                return prefix
    raise RuntimeError(f"no statistics routes at {origin} (tried / and /statistics)")


def measure_service(
    results: dict[str, Any],
    plan: Plan,
    stack: Stack,
    bootstrap: str,
    servers: dict[str, int],
    work: Path,
) -> None:
    """With the projection caught up: the dashboard, the HTTP figures, the rebuild, the profile."""
    issuer = stack.token_issuer()
    officer = _headers(issuer.issue(OFFICER, ["agency_officer"], ttl_seconds=TOKEN_TTL))
    admin = _headers(issuer.issue(ADMIN, ["agency_admin"], ttl_seconds=TOKEN_TTL))
    origin = stack.url("statistics")
    prefix = route_prefix(origin)
    api = origin + prefix
    results["routes"] = {"direct": api, "gateway": f"{stack.gateway_url}/api/statistics{prefix}"}
    before = snapshot(api, officer)
    results["dashboard_once_ms"] = before["dashboard_ms"]
    results["dashboard_bytes"] = before["dashboard_bytes"]
    results["seed_check"] = seed_check(plan, before["dashboard"])
    check = results["seed_check"]
    print(f"  seed check: {check['matches']} {check['differences'][:5]}", flush=True)
    results["tables"] = table_stats(stack.database_urls["statistics"])
    results["figure_reads"] = figure_reads(stack.database_urls["statistics"])
    print(f"  the dashboard's reads (best of 3, ms): {results['figure_reads']}", flush=True)
    _phase(results, "http", lambda: http(stack, plan, work, officer, servers, prefix))
    quiet = procs.wait_quiet()
    measured = _phase(results, "rebuild", lambda: rebuild(api, admin, stack, bootstrap, servers, 2, plan))
    if "error" in measured:
        return
    measured["quiet_wait"] = quiet
    results["rebuilt_equal"] = compare(before, snapshot(api, officer))
    print(f"  rebuilt equal: {results['rebuilt_equal']['equal']}", flush=True)
    generation = 3
    if plan.profile:
        _phase(results, "profile", lambda: profile(api, admin, stack, bootstrap, servers, plan, measured["seconds"]))
        results["profiled_rebuild_equal"] = compare(before, snapshot(api, officer))
        generation += 1
        _phase(results, "profile_dashboard", lambda: profile_dashboard(stack, officer, plan, work, prefix))
    _phase(
        results,
        "dashboard_during_rebuild",
        lambda: during_rebuild(
            api, admin, officer, stack, bootstrap, servers, plan, work, prefix, generation, measured["seconds"]
        ),
    )
    results["dashboard_after_last_rebuild_equal"] = compare(before, snapshot(api, officer))


def run(plan: Plan, work: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    topics = PROJECTION.topics
    suffix = f"{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with contextlib.ExitStack() as exits:
        print("starting Kafka and PostgreSQL ...", flush=True)
        bootstrap = exits.enter_context(kafka_server())
        server_url = exits.enter_context(postgres_server())
        servers = _servers(bootstrap, server_url)
        results["servers"] = {"kafka": bootstrap, **{f"{n}_pid": pid for n, pid in servers.items()}}
        stack = Stack(var_dir=work / "stack", bus="kafka", kafka_bootstrap=bootstrap, extra_env=STACK_ENV)
        stack.database_urls = {"statistics": create_database(server_url, f"bench_statistics_{suffix}")}
        exits.callback(stack.stop)
        asyncio.run(KafkaBus(bootstrap).ensure_topics(list(topics)))
        print(f"making the events (scale {plan.scale}) ...", flush=True)
        population = Population.of(plan)
        events = population.events()
        types = Counter(type(e).__name__ for e in events)
        published = _phase(results, "publish", lambda: asyncio.run(put_on_topics(bootstrap, events)))
        by_topic = asyncio.run(end_offsets(bootstrap, topics))
        records = sum(by_topic.values())
        results["population"] = {
            "records": records,
            "records_by_topic": by_topic,
            "events_by_type": dict(sorted(types.items())),
            "publish": published,
        }
        print(f"  {records} records: {by_topic}", flush=True)
        timeout = plan.consume_timeout_s
        _phase(results, "raw", lambda: baseline(bootstrap, topics, records, "raw", work, servers, timeout))
        _phase(results, "raw_decoded", lambda: baseline(bootstrap, topics, records, "decoded", work, servers, timeout))
        _start(stack, timeout=120, names=("gateway",))
        if "error" in _phase(results, "live", lambda: live(stack, bootstrap, servers, plan)):
            return results
        stack.start_service("statistics", "api")
        stack.wait_ready("statistics", timeout=120)
        try:
            measure_service(results, plan, stack, bootstrap, servers, work)
        except Exception as exc:  # keep what was measured so far
            traceback.print_exc()
            results["error"] = f"{type(exc).__name__}: {exc}"
    return results


def ratios(results: dict[str, Any]) -> None:
    raw = results.get("raw", {}).get("records_per_s")
    if not raw:
        return
    for key in ("raw_decoded", "live", "rebuild"):
        figure = results.get(key, {})
        if figure.get("records_per_s"):
            figure["ratio_to_raw"] = round(figure["records_per_s"] / raw, 4)
            steady = figure.get("steady", {}).get("records_per_s")
            if steady:
                figure["steady"]["ratio_to_raw"] = round(steady / raw, 4)


def targets(results: dict[str, Any], plan: Plan) -> dict[str, Any]:
    rebuild_figure = results.get("rebuild", {})
    ratio = rebuild_figure.get("ratio_to_raw")
    out: dict[str, Any] = {
        "rebuild_at_least_half_of_raw": {
            "value": ratio,
            "target": f">= {TARGET_RATIO}",
            "met": ratio is not None and ratio >= TARGET_RATIO,
        },
        "rebuilt_dashboard_equal": {"met": bool(results.get("rebuilt_equal", {}).get("equal"))},
    }
    http_figures = results.get("http", {})
    for route in ("dashboard_direct", "dashboard_gateway"):
        for c in plan.connections:
            figure = http_figures.get(f"{route}_c{c}", {})
            p99, errors = figure.get("p99_ms"), figure.get("errors")
            out[f"{route}_c{c}_p99_under_100_ms"] = {
                "value": p99,
                "errors": errors,
                "met": p99 is not None and p99 < TARGET_P99_MS and errors == 0,
            }
    return out


def _cpu(figure: dict[str, Any], *names: str) -> str:
    cpu = figure.get("cpu_ms_per_record", {})
    return " ".join(f"{n.replace('statistics-worker', 'worker')} {cpu.get(n)}" for n in names if cpu.get(n) is not None)


def table(results: dict[str, Any], plan: Plan) -> str:
    lines: list[str] = []
    population = results.get("population", {})
    lines.append(f"records on the topics: {population.get('records')} = {population.get('records_by_topic')}")
    if "publish" in population:
        lines.append(
            f"  published in {population['publish'].get('seconds')} s "
            f"({population['publish'].get('events_per_s')} events/s)"
        )
    lines.append(f"\n{'consumption':40} {'records/s':>10} {'seconds':>9} {'x raw':>7}  CPU ms per record")
    rows = (
        ("raw aiokafka (own process)", results.get("raw", {}), ("consumer", "kafka")),
        ("raw + decode (reference)", results.get("raw_decoded", {}), ("consumer", "kafka")),
        ("live projection statistics.g1", results.get("live", {}), (WORKER, "postgres", "kafka", "total")),
        (
            "  its first commit -> end",
            results.get("live", {}).get("steady", {}),
            (WORKER, "postgres", "kafka", "total"),
        ),
        (
            "rebuild statistics.g2 (POST -> done)",
            results.get("rebuild", {}),
            (WORKER, "statistics", "postgres", "kafka", "total"),
        ),
        (
            "  its first commit -> end",
            results.get("rebuild", {}).get("steady", {}),
            (WORKER, "postgres", "kafka", "total"),
        ),
    )
    for name, figure, names in rows:
        if "records_per_s" not in figure:
            lines.append(f"  {name:38} {figure.get('error', 'not measured')}")
            continue
        lines.append(
            f"  {name:38} {figure['records_per_s']!s:>10} {figure['seconds']!s:>9} "
            f"{figure.get('ratio_to_raw', '')!s:>7}  {_cpu(figure, *names)}"
        )
    rebuilt = results.get("rebuilt_equal", {})
    lines.append(
        f"\ndashboard and summary after the rebuild equal to before: {rebuilt.get('equal')}; "
        f"seed figures match: {results.get('seed_check', {}).get('matches')}; one dashboard at rest "
        f"(first, then cached): {results.get('dashboard_once_ms')} ms, {results.get('dashboard_bytes')} bytes"
    )
    reads = results.get("figure_reads", {})
    if reads:
        lines.append(
            "  the dashboard's count, read by read (in-process, best of 3): "
            + ", ".join(f"{k} {v['best_ms']} ms" for k, v in reads.items() if isinstance(v, dict) and "best_ms" in v)
            + f"; sum {reads.get('sum_of_best_ms')} ms"
        )
    http_figures = results.get("http", {})
    lines.append(
        f"\n{'GET (wrk)':22} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'err':>4} "
        f"{'stats':>7} {'gateway':>7} {'worker':>7} {'postgres':>8} {'echo':>6} {'wrk':>6} {'other':>6}"
    )
    for route in ("echo", "dashboard_direct", "dashboard_gateway", "summary_direct", "summary_gateway"):
        for c in plan.connections:
            r = http_figures.get(f"{route}_c{c}", {})
            if "requests_per_s" not in r:
                lines.append(f"  {route:20} {c:>5} {r.get('error', 'not measured')}")
                continue
            cpu = r["cpu_ms_per_request"]
            lines.append(
                f"  {route:20} {c:>5} {r['requests_per_s']:>8} {r['p50_ms']!s:>8} {r['p99_ms']!s:>8} "
                f"{r['max_ms']!s:>8} {r['errors']:>4} {cpu.get('statistics', '')!s:>7} {cpu.get('gateway', '')!s:>7} "
                f"{cpu.get(WORKER, '')!s:>7} {cpu.get('postgres', '')!s:>8} {cpu.get('echo', '')!s:>6} "
                f"{cpu.get('wrk', '')!s:>6} {cpu.get('other', '')!s:>6}"
            )
    lines.append(
        "  (CPU columns: ms per request of each process; other = the machine's busy CPU no named process used)"
    )
    during = results.get("dashboard_during_rebuild", {})
    if "dashboard_direct_c8" in during:
        d, r = during["dashboard_direct_c8"], during.get("rebuild", {})
        cpu = d.get("cpu_ms_per_request", {})
        lines.append(
            f"  dashboard_direct while a rebuild writes, 8 conns: {d['requests_per_s']} req/s, p50 {d['p50_ms']} / "
            f"p99 {d['p99_ms']} / max {d['max_ms']} ms, {d['errors']} errors, statistics {cpu.get('statistics')} ms "
            f"CPU/req (rebuild meanwhile {r.get('records_per_s')} records/s; still running at wrk's end: "
            f"{d.get('rebuild_running_when_wrk_ended')})"
        )
    prof = results.get("profile", {})
    for name, found in prof.get("profiles", {}).items():
        lines.append(f"\nprofile of the rebuild (generation 3: {prof.get('load')}):")
        lines.extend(profiling.summary_lines(name, found, top=10))
    prof = results.get("profile_dashboard", {})
    for name, found in prof.get("profiles", {}).items():
        load = prof.get("load") or {}
        lines.append(
            f"\nprofile of the statistics api under GET dashboard, 8 connections ({load.get('requests_per_s')} req/s, "
            f"p99 {load.get('p99_ms')} ms under the profiler):"
        )
        lines.extend(profiling.summary_lines(name, found, top=10))
    sc = results.get("scenario")
    if isinstance(sc, dict):
        if not sc.get("ran"):
            lines.append(f"\nscenario: not run ({sc.get('reason') or sc.get('error')})")
        else:
            proj = sc.get("projection", {})
            lines.append(
                f"\nscenario ({SCENARIO_MODULE}, scale {plan.scale:g}): {sc.get('total_seconds')} s, verdict "
                f"{sc.get('verdict')!r}; {sc.get('gateway_requests')} requests through the gateway = "
                f"{sc.get('operations_per_s')}/s; projection {proj.get('records_per_s')} events/s "
                f"({proj.get('committed')} of {proj.get('records')}, lag at most {proj.get('lag_max')})"
            )
            for key, r in (sc.get("dashboard") or {}).items():
                if "p99_ms" in r:
                    lines.append(f"  {key}: {r['requests_per_s']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms")
    return "\n".join(lines)


def run_role(args: argparse.Namespace) -> None:
    topics = args.topics.split(",")
    asyncio.run(
        consume(args.bootstrap, args.group, topics, args.expect, args.mode, Path(args.ready), Path(args.result))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the persons, wrk 3 s per figure after 1 s")
    parser.add_argument("--scale", type=float, help="another share of the seed's persons (default 1, --quick 0.1)")
    parser.add_argument("--no-profile", action="store_true", help="no py-spy rebuild at the end")
    parser.add_argument(
        "--scenario", action="store_true", help=f"run {SCENARIO_MODULE} instead of the synthetic events"
    )
    parser.add_argument("--scenario-args", default="", help="arguments for the scenario (one shell-quoted string)")
    parser.add_argument("--role", choices=["driver", "consumer"], default="driver", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["raw", "decoded"], help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    parser.add_argument("--topics", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "consumer":
        run_role(args)
        return
    plan = Plan.of(args.quick, args.scale, not args.no_profile, args.scenario, shlex.split(args.scenario_args))
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="prasmes-bench-statistics-"))
    print(f"statistics, scale {plan.scale}{' (quick)' if plan.quick else ''}; work in {work}", flush=True)
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "source": _source(),
        "quick": plan.quick,
        "plan": asdict(plan),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        results = run(plan, work)
    except Exception as exc:
        traceback.print_exc()
        results = {"error": f"{type(exc).__name__}: {exc}"}
    if plan.scenario:  # after the servers above are stopped: the tool starts a stack of its own
        if scenario_available():
            _phase(results, "scenario", lambda: scenario(plan, work))
        else:
            results["scenario"] = {"ran": False, "reason": f"{SCENARIO_MODULE} does not exist (yet)"}
            print(f"--scenario: {results['scenario']['reason']}", flush=True)
    ratios(results)
    results["targets"] = targets(results, plan)
    report["results"] = results
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    report["duration_s"] = round(time.monotonic() - started, 1)
    report["work_dir"] = str(work)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(results, plan))
    print(json.dumps(results["targets"], indent=2))
    print(f"written to {OUT} in {report['duration_s']} s")


if __name__ == "__main__":
    main()
