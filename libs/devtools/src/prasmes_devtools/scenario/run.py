"""The scenario's phases on the tool's own stack, each resumable, and the final comparison with the dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from prasmes_runtime import registry

from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_devtools.scenario import steps
from prasmes_devtools.scenario.driver import Api, Progress, ScenarioError, api, each
from prasmes_devtools.scenario.plan import (
    ROUND_2,
    Cohort,
    Comparison,
    Decision,
    Figures,
    Plan,
    answerers,
    compare,
    expected,
    flatten,
    grouped,
    plan,
    studies,
)
from prasmes_devtools.scenario.state import State
from prasmes_devtools.scenario.steps import World

T = TypeVar("T")
JUNE, SEPTEMBER, NOVEMBER = "2025-06-02T09:00:00+03:00", "2025-09-10T09:00:00+03:00", "2025-11-03T09:00:00+03:00"
PLATFORM_CLOCK = "2025-08-01T09:00:00+03:00"
"""Catalog's and calls' clock: after the demonstration's agreement (signed 30 Jul 2025), before the summer groups
start (4 Aug 2025), which catalog schedules only from its today on."""
PHASES = ("setup", "accounts", "round-1", "round-2", "studies", "surveys")
"""The work, in order; the check of the dashboard follows every run that does not stop before it."""
ACCOUNTS_CLOCK = {
    "setup": JUNE,
    "accounts": JUNE,
    "round-1": JUNE,  # DEMO-2025's learners' application period: 2-13 Jun 2025
    "round-2": SEPTEMBER,  # IMK-4's: 10-19 Sep 2025
    "studies": NOVEMBER,  # after the autumn groups' last day (31 Oct 2025)
    "surveys": NOVEMBER,
}
"""Where accounts' clock starts in each phase (it then runs at real speed): a round's phase must end within the days
left in its period (ten and nine days); at full size it takes minutes."""
SERVICES = tuple(s.name for s in registry.SERVICES if s.name != "notifications" and not s.front)
"""Every service but notifications (its notices and mails of the population are read by nobody, and its worker
takes a quarter of the CPU an account opening costs: bench, 2.6 of 9.4 ms), each as one process of role `all`:
half the processes of `make run`'s split roles to start, and to share two cores."""
ENVIRONMENT = {"DEV_MODE": "true", "RATE_LIMIT_PER_MINUTE": "10000000", "RATE_LIMIT_BURST": "1000000"}
"""Dev mode (the dev login, CLOCK_START, the dev routes) and the gateway's rate limit lifted, as the benchmarks do:
every request comes from 127.0.0.1, one client to the limiter."""
START_ATTEMPTS = 3


@dataclass(frozen=True)
class Options:
    scale: float = 1.0
    var_dir: Path = Path("var/scenario-1")
    concurrency: int = 12
    port: int | None = None
    """The stack's base port; None: a free block."""
    stop_after: str | None = None
    """A phase after which the run stops (a rehearsal of an interruption)."""
    keep_running: bool = False
    check_seconds: float = 600.0
    """How long the check waits for statistics to count what it was told."""


@dataclass
class Report:
    expected: Figures = field(default_factory=dict)
    dashboard: Figures = field(default_factory=dict)
    """The dashboard as the check last read it (`plan.flatten`)."""
    comparison: Comparison | None = None
    """None when the run stopped before the check."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.comparison is None or not self.comparison.mismatches


def stack_of(options: Options, state: State) -> Stack:
    first = next((p for p in PHASES if not state.is_done(p)), PHASES[-1])  # the phase it starts in
    return Stack(
        var_dir=options.var_dir,
        base_port=options.port or 8000,
        extra_env=ENVIRONMENT,
        split_roles=False,
        service_env={
            "catalog": {"CLOCK_START": PLATFORM_CLOCK},
            "calls": {"CLOCK_START": PLATFORM_CLOCK},
            "surveys": {"CLOCK_START": NOVEMBER},
            "accounts": {"CLOCK_START": ACCOUNTS_CLOCK[first]},
        },
    )


def start(stack: Stack, fixed_port: bool) -> None:
    """On the given port, or on a free block, tried again on another when taken meanwhile by someone else."""
    for attempt in range(1, START_ATTEMPTS + 1):
        if not fixed_port:
            stack.base_port = free_base_port(random.randrange(20000, 30000))
        try:
            stack.start(SERVICES, timeout=120)
            return
        except RuntimeError:
            if fixed_port or attempt == START_ATTEMPTS:
                raise


def run(options: Options) -> Report:
    """The scenario on its stack (started here, in the var dir, and stopped at the end), from where it stopped."""
    began = time.monotonic()
    options.var_dir.mkdir(parents=True, exist_ok=True)
    state = State.open(options.var_dir, options.scale)
    found = plan(options.scale)
    _announce(options, found, state)
    stack = stack_of(options, state)
    try:
        start(stack, options.port is not None)
        print(f"The stack is up at {stack.gateway_url} (logs in {options.var_dir / 'logs'}).", flush=True)
        report = asyncio.run(_drive(options, stack, state, found))
        report.seconds = time.monotonic() - began
        if options.keep_running:
            _serve(stack)
        return report
    finally:
        state.save()
        stack.stop()


class Interrupted(Exception):
    """Ctrl-C, SIGTERM or SIGHUP: the run stopped, its state kept."""


async def _drive(options: Options, stack: Stack, state: State, found: Plan) -> Report:
    try:
        with _cancelled_by(signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            return await _phases(options, stack, state, found)
    except asyncio.CancelledError:
        raise Interrupted from None


@contextlib.contextmanager
def _cancelled_by(*signals: signal.Signals) -> Iterator[None]:
    """These signals cancel the running task (a step stops cleanly, its persons done kept) instead of raising where
    they land; the earlier handlers (the sync parts' KeyboardInterrupt) come back after."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    earlier = {sig: signal.getsignal(sig) for sig in signals}
    for sig in signals:
        loop.add_signal_handler(sig, task.cancel)
    try:
        yield
    finally:
        for sig, handler in earlier.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, handler)


async def _phases(options: Options, stack: Stack, state: State, found: Plan) -> Report:
    async with api(stack.gateway_url, stack.token_issuer(), options.concurrency) as client:
        world = World(client, found, state.made, state.made.get("needs", {}))
        phases = Phases(options, stack, state, world)
        for phase in PHASES:
            if not state.is_done(phase):
                await phases.enter(phase)
                await getattr(phases, phase.replace("-", "_"))()
                state.finish(phase)
            if phase == options.stop_after:
                print(f"Stopped after {phase}, as asked: run again with the same --var-dir to go on.", flush=True)
                return Report()
        print("check:", flush=True)
        return await phases.check()


@dataclass
class Phases:
    options: Options
    stack: Stack
    state: State
    world: World
    phase: str = ""

    @property
    def api(self) -> Api:
        return self.world.api

    @property
    def plan(self) -> Plan:
        return self.world.plan

    async def enter(self, phase: str) -> None:
        self.phase = phase
        print(f"{phase}:", flush=True)
        wanted = ACCOUNTS_CLOCK[phase]
        if self.stack.service_env["accounts"]["CLOCK_START"] != wanted:
            print(f"  accounts restarts on a clock from {wanted}", flush=True)
            self._restart_accounts(wanted)

    def _restart_accounts(self, at: str) -> None:
        """Blocking, on purpose: nothing else runs meanwhile, and an interruption waits until accounts is up again
        (a restart in a thread would go on while the stack stops)."""
        self.stack.stop_service("accounts")
        self.stack.service_env["accounts"] = {"CLOCK_START": at}
        self.stack.start_service("accounts")
        self.stack.wait_ready("accounts", timeout=120)

    # ------------------------------------------------------------------- the steps of a phase

    async def once(self, step: str, action: Callable[[], Awaitable[None]]) -> None:
        name = f"{self.phase}/{step}"
        if self.state.is_done(name):
            return
        print(f"  {step}", flush=True)
        await action()
        self.state.finish(name)

    async def persons(
        self, step: str, items: Sequence[T], person: Callable[[T], int], action: Callable[[T, bool], Awaitable[None]]
    ) -> None:
        """`action(item, resuming)` for every item whose person the step has not done; `resuming`: the step began in
        an earlier run, so the platform may have what the state does not."""
        name = f"{self.phase}/{step}"
        if self.state.is_done(name):
            return
        resuming = self.state.was_begun(name)
        self.state.begin(name)
        done = self.state.done_by(name)
        todo = [item for item in items if person(item) not in done]
        progress = Progress(name, len(items), len(items) - len(todo), self.api)
        with self._saving():
            await each(
                todo,
                lambda item: action(item, resuming),
                progress,
                self.options.concurrency,
                lambda item: self.state.person_done(name, person(item)),
            )
        self.state.finish(name)

    @contextlib.contextmanager
    def _saving(self) -> Iterator[None]:
        """The state written every couple of seconds while a step runs, and when it ends however it ends."""

        async def keep() -> None:
            while True:
                await asyncio.sleep(2.0)
                if self.state.dirty:
                    self.state.save()

        task = asyncio.create_task(keep())
        try:
            yield
        finally:
            task.cancel()
            self.state.save()

    # ------------------------------------------------------------------- the phases

    async def setup(self) -> None:
        async def catalogue() -> None:
            self.world.made.update(steps.catalogue(self.stack.gateway_url))  # blocking: see _restart_accounts
            self.world.made.update(await steps.programme_details(self.world))

        async def groups() -> None:
            self.world.made["groups"] = await steps.groups(self.world)

        await self.once("catalogue", catalogue)
        await self.once("groups", groups)
        await self.once("budgets", lambda: steps.budgets(self.world))

    async def accounts(self) -> None:
        people = range(1, self.plan.accounts + 1)
        await self.persons("open", people, lambda p: p, lambda p, _: steps.open_account(self.world, p))

    async def round_1(self) -> None:
        await self._apply([c for c in self.plan.cohorts if c.round != ROUND_2])

    async def round_2(self) -> None:
        async def imk_4() -> None:
            self.world.made["needs"] = {"IMK": await steps.open_round_2(self.world)}

        await self.once("imk-4", imk_4)
        self.world.needs = self.world.made["needs"]
        await self._apply([c for c in self.plan.cohorts if c.round == ROUND_2])
        await self.once("allocation", lambda: steps.allocate(self.world))

    async def _apply(self, cohorts: Sequence[Cohort]) -> None:
        items = [(cohort, person) for cohort in cohorts for person in cohort.members]
        await self.persons(
            "apply", items, lambda item: item[1], lambda item, again: steps.apply(self.world, *item, again)
        )

    async def studies(self) -> None:
        await self.once("starters", self._starters)
        chosen = self.world.made["starters"]
        every = studies(self.plan, chosen)
        await self.persons("study", every, lambda s: s.person, lambda s, _: steps.study(self.world, s))

    async def _starters(self) -> None:
        """Who of an allocated cohort start: the first of those its window granted."""
        chosen: dict[str, list[int]] = {}
        for cohort in (c for c in self.plan.cohorts if c.decision is Decision.ALLOCATED):
            granted = await self._granted(cohort)
            if len(granted) != cohort.granted:
                raise ScenarioError(f"{cohort.project}'s window granted {len(granted)}, the plan {cohort.granted}")
            chosen[cohort.name] = granted[: cohort.started]
        self.world.made["starters"] = chosen

    async def _granted(self, cohort: Cohort) -> list[int]:
        granted: list[int] = []

        async def look(person: int) -> None:
            if await steps.granted(self.world, cohort.project, person):
                granted.append(person)

        progress = Progress(f"{self.phase}/granted {cohort.name}", cohort.persons, 0, self.api)
        await each(list(cohort.members), look, progress, self.options.concurrency, lambda _: None)
        return sorted(granted)

    async def surveys(self) -> None:
        answers = await steps.seed_answers(self.world)
        every = studies(self.plan, self.world.made["starters"])
        items = [
            (kind, person, answers[kind][i])
            for kind, persons in answerers(self.plan, every).items()
            for i, person in enumerate(persons)
        ]
        await self.persons("answer", items, lambda item: item[1], lambda item, _: steps.answer(self.world, *item))

    async def check(self) -> Report:
        """The dashboard beside the plan's figures, once statistics has counted everything (or the time is up)."""
        want = expected(self.plan.scale, await steps.seed_answers(self.world))
        deadline, last, stable = time.monotonic() + self.options.check_seconds, None, 0
        while True:
            found = flatten(await steps.dashboard(self.world))
            comparison = compare(want, found)
            if not comparison.mismatches or time.monotonic() > deadline:
                break
            caught_up = await steps.statistics_caught_up(self.world)
            stable = stable + 1 if caught_up and found == last else 0
            if stable >= 3:
                break
            last = found
            await asyncio.sleep(2.0)
        print_comparison(comparison)
        return Report(want, found, comparison)


def print_comparison(comparison: Comparison) -> None:
    print(f"  {'figure':58} {'expected':>10} {'dashboard':>10}", flush=True)
    for head, rows in grouped(comparison.rows):
        print(f"  {head}", flush=True)
        for path, want, found in rows:
            mark = "" if want == found else "   <-- differs"
            print(f"    {path.removeprefix(head + '.'):56} {_shown(want):>10} {_shown(found):>10}{mark}", flush=True)
    wrong = len(comparison.mismatches)
    print(f"  {len(comparison.rows) - wrong} of {len(comparison.rows)} figures as expected", flush=True)


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


def _announce(options: Options, found: Plan, state: State) -> None:
    left = [p for p in PHASES if not state.is_done(p)]
    applicants = {p: sum(c.persons for c in found.of_project(p)) for p in ("IMK", "VARAM", "TALAK", "4242")}
    print(
        f"Seed scenario at scale {options.scale:g} in {options.var_dir}: {found.accounts} accounts, applicants "
        + ", ".join(f"{p} {n}" for p, n in applicants.items())
        + f"; phases to run: {', '.join(left) or 'none (the check again)'}.",
        flush=True,
    )


def _serve(stack: Stack) -> None:
    print(
        f"\nThe stack keeps running: the dashboard is GET {stack.gateway_url}/api/statistics/dashboard with an "
        f'agency token (POST {stack.gateway_url}/auth/dev-login {{"username": "ilze"}}). Press Ctrl-C to stop.',
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(0.5)
