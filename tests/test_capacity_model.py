"""The capacity model (bench/capacity.py): its inputs name the platform's processes, its sizing holds up when the
simulation replays the round against it, and the simulation reacts to too few cores as queueing theory says."""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from types import ModuleType
from typing import Any

import pytest
from prasmes_runtime.registry import SERVICES
from prasmes_testing.servers import repo_root


def _load_capacity() -> ModuleType:
    """bench/ is scripts run with `python -m` from the repository's root, not an installed package."""
    spec = importlib.util.spec_from_file_location("bench.capacity", repo_root() / "bench" / "capacity.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


capacity = _load_capacity()


@pytest.fixture(scope="module")
def inputs() -> Any:
    return capacity.Inputs.load()


@pytest.fixture(scope="module")
def sized(inputs: Any) -> Any:
    """A twentieth of the round against a twentieth of the plan."""
    return capacity.simulate_round(inputs, capacity.size(inputs), scale=0.05)


def test_every_station_is_a_process_of_the_platform(inputs: Any) -> None:
    processes = {s.name for s in SERVICES} | {f"{s.name}-worker" for s in SERVICES if s.backend}
    stations = set(inputs.request_path) | set(inputs.workers)
    assert stations <= processes
    for operation in inputs.operations.values():
        assert set(operation.cpu_ms) <= stations, operation.name
        assert operation.source and all(ms > 0 for ms in operation.cpu_ms.values()), operation.name


def test_the_arrival_curve_brings_the_round_s_people_in_the_first_hour() -> None:
    times = capacity.arrival_times(30_000, decay_minutes=20, rng=random.Random(1))
    expected_first_third = (1 - math.exp(-1)) / (1 - math.exp(-3))  # share of the truncated exponential's mass

    assert len(times) == 30_000 and times[0] >= 0 and times[-1] < 3600
    assert sum(t < 1200 for t in times) / len(times) == pytest.approx(expected_first_third, abs=0.01)
    # The peak rate times the decay's time constant (minus the cut-off tail) is the hour's people.
    peak = capacity.round_peak_rate(300_000, 20)
    assert peak * 1200 * (1 - math.exp(-3)) == pytest.approx(300_000)


def test_the_plan_keeps_the_busiest_minute_near_the_target(inputs: Any, sized: Any) -> None:
    target = inputs.section("sizing")["target_utilisation"]
    simulated = sized

    busiest = simulated["peak_minute_utilisation"]
    assert max(busiest.values()) <= target + 0.15  # sized for the peak rate; the minute's draws vary around it
    assert simulated["latency"]["catalogue_page"]["count"] > 0
    web_demand_ms = inputs.operations["catalogue_page"].cpu_ms["web"]
    assert simulated["latency"]["catalogue_page"]["p50_ms"] < 3 * web_demand_ms  # little queueing at the median


def test_cores_slower_than_planned_make_the_queue_grow(inputs: Any, sized: Any) -> None:
    """A third of the CPU the plan counted on: the stations sized near the target are past saturation."""
    short = capacity.simulate_round(inputs, capacity.size(inputs), scale=0.05, speed=1 / 3)

    assert max(short["peak_minute_utilisation"].values()) > 0.95
    assert short["latency"]["catalogue_page"]["p99_ms"] > 10 * sized["latency"]["catalogue_page"]["p99_ms"]


def test_this_machine_cannot_go_past_its_cores(inputs: Any) -> None:
    cores = inputs.section("machine")["cores"]
    per_request_ms = sum(inputs.operations["open_account"].cpu_ms.values())
    ceiling = cores * 1000 / per_request_ms

    for replicas in (1, 2):
        loaded = capacity.this_machine(inputs, connections=64, accounts_replicas=replicas, seconds=5)
        assert 0.5 * ceiling < loaded["requests_per_s"] <= ceiling * 1.05, loaded
    alone = capacity.this_machine(inputs, connections=1, seconds=5)
    request_path_ms = sum(ms for _, ms in inputs.operations["open_account"].on(inputs.request_path))
    assert alone["latency"]["p50_ms"] < 2 * request_path_ms  # one client: hardly any wait


def test_this_machine_takes_a_runs_cpu_and_lets_postgresql_use_every_core(inputs: Any) -> None:
    """Fed a run's CPU per process, PostgreSQL and Kafka included: PostgreSQL (a process per connection) is not held
    to one core the way a uvicorn process is, and Kafka's part is off the request path."""
    cores = inputs.section("machine")["cores"]
    given = {"gateway": 0.5, "accounts": 0.5, "postgres": 8.0, "kafka": 1.0}
    one_core_ceiling = 1000 / given["postgres"]

    loaded = capacity.this_machine(inputs, connections=64, seconds=5, cpu_ms=given)
    alone = capacity.this_machine(inputs, connections=1, seconds=5, cpu_ms=given)

    assert one_core_ceiling * 1.3 < loaded["requests_per_s"] <= cores * 1000 / sum(given.values()) * 1.05, loaded
    assert loaded["cpu_ms_per_request"] == sum(given.values())
    assert alone["latency"]["p50_ms"] < 2 * (given["gateway"] + given["accounts"] + given["postgres"])
