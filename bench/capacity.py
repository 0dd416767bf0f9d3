"""The capacity model: how many nodes of which size each service needs for a national load, from the CPU per
operation that bench/ measures, and a queueing simulation (simpy) that replays a budget round's arrival curve against
the sizing and reports the waiting and latency it predicts.

`python -m bench.capacity` (or `make capacity`): prints the plan and the simulation, and writes bench/out/capacity.json.
`--scale 0.1` simulates a tenth of the people against a tenth of the cores (faster; its queueing is a little worse
than the full-size one's, fewer servers sharing the load). `--this-machine` predicts what bench/ measures here:
account opening in a closed loop of N connections on this machine's 2 cores, with one or two accounts replicas.

The inputs and where each figure comes from: bench/capacity_inputs.toml. What the model leaves out: docs/capacity.md.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tomllib
from collections.abc import Generator, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import simpy

INPUTS = Path(__file__).with_name("capacity_inputs.toml")
OUT = Path(__file__).resolve().parent / "out" / "capacity.json"
Step = Generator[simpy.Event, Any, None]


@dataclass(frozen=True)
class Operation:
    name: str
    cpu_ms: dict[str, float]
    measured: bool
    source: str

    def on(self, stations: Iterable[str]) -> list[tuple[str, float]]:
        wanted = set(stations)
        return [(station, ms) for station, ms in self.cpu_ms.items() if station in wanted]


@dataclass(frozen=True)
class Inputs:
    raw: dict[str, Any]
    operations: dict[str, Operation]

    @classmethod
    def load(cls, path: Path = INPUTS) -> Inputs:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        operations = {
            o["name"]: Operation(o["name"], {k: float(v) for k, v in o["cpu_ms"].items()}, o["measured"], o["source"])
            for o in raw["operation"]
        }
        return cls(raw, operations)

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw[name])

    @property
    def request_path(self) -> list[str]:
        return list(self.raw["stations"]["request_path"])

    @property
    def workers(self) -> list[str]:
        return list(self.raw["stations"]["workers"])


# ---------------------------------------------------------------- the arrival curve and the journey


def round_peak_rate(people: float, decay_minutes: float) -> float:
    """People per second at the opening of a round whose arrivals decay exponentially and total `people` in the
    first hour."""
    tau = decay_minutes * 60
    return people / (tau * (1 - math.exp(-3600 / tau)))


def arrival_times(people: int, decay_minutes: float, rng: random.Random) -> list[float]:
    """`people` arrival instants (seconds) in the first hour, from the truncated exponential density."""
    tau = decay_minutes * 60
    top = 1 - math.exp(-3600 / tau)
    return sorted(-tau * math.log(1 - rng.random() * top) for _ in range(people))


def journey(inputs: Inputs, rng: random.Random) -> list[str]:
    """The operations one person of the round performs, in order."""
    shape = inputs.section("round")
    steps = ["catalogue_page"] * int(shape["catalogue_pages"])
    if rng.random() < shape["new_account_share"]:
        steps.insert(1, "open_account")
    if rng.random() < shape["apply_share"]:
        steps.append("apply")
    return steps


def demand_per_person(inputs: Inputs) -> dict[str, float]:
    """The expected CPU ms one person of the round costs each station (statistics' events included)."""
    shape = inputs.section("round")
    weights = {
        "catalogue_page": float(shape["catalogue_pages"]),
        "open_account": float(shape["new_account_share"]),
        "apply": float(shape["apply_share"]),
        "statistics_event": float(shape["events_per_person"]),
    }
    totals: dict[str, float] = {}
    for name, weight in weights.items():
        for station, ms in inputs.operations[name].cpu_ms.items():
            totals[station] = totals.get(station, 0.0) + weight * ms
    return totals


# ---------------------------------------------------------------- sizing


@dataclass
class Plan:
    peak_people_per_s: float
    cores: dict[str, float]
    """Cores each station's CPU needs at the peak at the target utilisation."""
    pods: dict[str, int]
    nodes: int
    node: str
    steady_cores: dict[str, float] = field(default_factory=dict)


def size(inputs: Inputs) -> Plan:
    node, sizing, shape = inputs.section("node"), inputs.section("sizing"), inputs.section("round")
    peak = round_peak_rate(shape["people_first_hour"], shape["decay_minutes"])
    speed, rho = float(node["speed"]), float(sizing["target_utilisation"])
    cores = {s: peak * ms / 1000 / speed / rho for s, ms in demand_per_person(inputs).items()}
    pods = {s: max(int(sizing["min_pods"]), math.ceil(c)) for s, c in cores.items()}  # a Python process: one core
    per_node = min(
        int(float(node["cores"]) - float(node["reserved_cores"])),
        int(float(node["memory_gib"]) / float(node["pod_memory_gib"])),
    )
    nodes = max(3, math.ceil(sum(pods.values()) / per_node))  # three: one may drain, one may fail
    return Plan(round(peak, 1), _rounded(cores), pods, nodes, str(node["description"]), _steady_cores(inputs))


def _steady_cores(inputs: Inputs) -> dict[str, float]:
    """Cores the national steady load keeps busy on average (no headroom): a day, not a round."""
    steady = inputs.section("steady")
    active_per_s = steady["accounts"] * steady["daily_active_share"] / (steady["busy_hours"] * 3600)
    busy = {s: active_per_s * ms / 1000 for s, ms in demand_per_person(inputs).items()}
    decisions_per_s = steady["decisions_per_day"] / (steady["busy_hours"] * 3600)
    for station, ms in inputs.operations["decision"].cpu_ms.items():
        busy[station] = busy.get(station, 0.0) + decisions_per_s * ms / 1000
    return _rounded(busy)


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in sorted(values.items())}


# ---------------------------------------------------------------- the round, simulated


@dataclass
class Tally:
    """Simulated seconds, by operation (the request path) or by station (the workers' lag)."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, seconds: float) -> None:
        self.samples.setdefault(key, []).append(seconds)

    def summary(self) -> dict[str, dict[str, float]]:
        return {key: _percentiles(values) for key, values in sorted(self.samples.items())}


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"count": len(ordered), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


class Round:
    """The budget round against a plan: each station a pool of single-core processes (simpy resources)."""

    def __init__(self, inputs: Inputs, pods: dict[str, int], speed: float, seed: int) -> None:
        self.env = simpy.Environment()
        self.inputs, self.speed, self.rng = inputs, speed, random.Random(seed)
        self.stations = {s: simpy.Resource(self.env, capacity=max(1, n)) for s, n in pods.items()}
        self.latency, self.lag = Tally(), Tally()
        self.queue_peak: dict[str, int] = dict.fromkeys(pods, 0)
        self.busy_by_minute: dict[str, dict[int, float]] = {s: {} for s in pods}

    def run(self, people: int) -> dict[str, Any]:
        shape = self.inputs.section("round")
        for t in arrival_times(people, shape["decay_minutes"], self.rng):
            self.env.process(self._person(t, journey(self.inputs, self.rng), float(shape["think_seconds"])))
        self.env.run()
        horizon = self.env.now
        return {
            "people": people,
            "simulated_seconds": round(horizon, 1),
            "latency": self.latency.summary(),
            "worker_lag": self.lag.summary(),
            "queue_peak": self.queue_peak,
            "peak_minute_utilisation": {
                s: round(max(minutes.values(), default=0.0) / (60 * self.stations[s].capacity), 3)
                for s, minutes in self.busy_by_minute.items()
            },
        }

    def _person(self, arrival: float, steps: list[str], think: float) -> Step:
        yield self.env.timeout(arrival)
        for name in steps:
            operation = self.inputs.operations[name]
            start = self.env.now
            for station, ms in operation.on(self.inputs.request_path):
                yield from self._serve(station, ms)
            self.latency.add(name, self.env.now - start)
            self._enqueue(operation, start)
            yield self.env.timeout(self.rng.expovariate(1 / think))
        for _ in range(int(self.inputs.section("round")["events_per_person"])):
            self._enqueue(self.inputs.operations["statistics_event"], self.env.now)

    def _enqueue(self, operation: Operation, since: float) -> None:
        for station, ms in operation.on(self.inputs.workers):
            self.env.process(self._work(station, ms, since))

    def _work(self, station: str, ms: float, since: float) -> Step:
        yield from self._serve(station, ms)
        self.lag.add(station, self.env.now - since)

    def _serve(self, station: str, ms: float) -> Step:
        resource = self.stations[station]
        with resource.request() as turn:
            self.queue_peak[station] = max(self.queue_peak[station], len(resource.queue))
            yield turn
            seconds = self.rng.expovariate(1000 * self.speed / ms)  # exponential around the measured mean
            minutes = self.busy_by_minute[station]
            minute = int(self.env.now // 60)
            minutes[minute] = minutes.get(minute, 0.0) + seconds
            yield self.env.timeout(seconds)


def simulate_round(
    inputs: Inputs, plan: Plan, scale: float = 1.0, seed: int = 7, speed: float | None = None
) -> dict[str, Any]:
    """The round at `scale` (of its people and of the plan's pods, at least one each), on cores of the node's speed
    (or `speed`, relative to this machine's)."""
    people = int(inputs.section("round")["people_first_hour"] * scale)
    pods = {s: max(1, round(n * scale)) for s, n in plan.pods.items()}
    result = Round(inputs, pods, speed or float(inputs.section("node")["speed"]), seed).run(people)
    return {"scale": scale, "pods": pods, **result}


# ---------------------------------------------------------------- this machine, as bench/ measures it


SERVERS_ON_THE_PATH = ("postgres",)
"""Servers whose CPU a request waits for (its commit), where a measurement names them (`cpu_ms=`)."""
SERVERS_BEHIND = ("kafka",)
"""Servers whose CPU the workers' part of a request uses (the relay's sends)."""


def this_machine(
    inputs: Inputs,
    connections: int,
    accounts_replicas: int = 1,
    seconds: float = 30,
    seed: int = 7,
    cpu_ms: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Account opening in a closed loop of `connections` (as wrk drives it), every process on this machine's cores.

    A process is one core at most (a resource of capacity 1, or `accounts_replicas` for accounts' api; PostgreSQL and
    Kafka, many processes or threads, as many as the machine has), and all of them share the machine's cores (a
    second resource each step holds too); the workers' part of each account competes for the same cores. Predicts
    requests/s and latency; the load generator's own CPU is left out. `cpu_ms`: each process's CPU per account (a
    `bench/` run's, PostgreSQL and Kafka included) in place of the inputs' figure."""
    env = simpy.Environment()
    rng = random.Random(seed)
    cores = int(inputs.section("machine")["cores"])
    machine = simpy.Resource(env, capacity=cores)
    operation = inputs.operations["open_account"]
    if cpu_ms is not None:
        operation = Operation(operation.name, dict(cpu_ms), True, "given")
    request_path, workers = [*inputs.request_path, *SERVERS_ON_THE_PATH], [*inputs.workers, *SERVERS_BEHIND]

    def capacity(station: str) -> int:
        if station in SERVERS_ON_THE_PATH + SERVERS_BEHIND:
            return cores
        return accounts_replicas if station == "accounts" else 1

    processes = {s: simpy.Resource(env, capacity=capacity(s)) for s in operation.cpu_ms}
    done: list[float] = []

    def serve(station: str, ms: float) -> Step:
        with processes[station].request() as own, machine.request() as core:
            yield own
            yield core
            yield env.timeout(rng.expovariate(1000 / ms))  # service times vary: exponential around the mean

    def background(station: str, ms: float) -> Step:
        yield from serve(station, ms)

    def client() -> Step:
        while True:
            start = env.now
            for station, ms in operation.on(request_path):
                yield from serve(station, ms)
            for station, ms in operation.on(workers):
                env.process(background(station, ms))
            done.append(env.now - start)

    for _ in range(connections):
        env.process(client())
    env.run(until=seconds)
    warm = done[len(done) // 10 :]  # the first tenth is the ramp
    return {
        "connections": connections,
        "accounts_replicas": accounts_replicas,
        "requests_per_s": round(len(done) / seconds, 1),
        "latency": _percentiles(warm),
        "cpu_ms_per_request": round(sum(ms for _, ms in operation.on(request_path + workers)), 3),
    }


# ---------------------------------------------------------------- the report


def report(inputs: Inputs, scale: float, connections: int) -> dict[str, Any]:
    plan = size(inputs)
    return {
        "inputs": {n: asdict(o) for n, o in inputs.operations.items()},
        "not_measured": [n for n, o in inputs.operations.items() if not o.measured],
        "plan": asdict(plan),
        "round": simulate_round(inputs, plan, scale),
        "this_machine": [this_machine(inputs, connections, replicas) for replicas in (1, 2)],
    }


def _print(result: dict[str, Any]) -> None:
    plan, simulated = result["plan"], result["round"]
    print(f"peak arrivals: {plan['peak_people_per_s']} people/s; nodes: {plan['nodes']} x {plan['node']}")
    print("station               cores@peak  pods  steady cores  busiest min  queue peak")
    for station, pods in plan["pods"].items():
        print(
            f"{station:<22}{plan['cores'][station]:>10}{pods:>6}{plan['steady_cores'].get(station, 0):>14}"
            f"{simulated['peak_minute_utilisation'].get(station, 0):>13}{simulated['queue_peak'].get(station, 0):>12}"
        )
    for title, rows in (("latency", simulated["latency"]), ("worker lag", simulated["worker_lag"])):
        for key, row in rows.items():
            print(f"{title} {key}: p50 {row['p50_ms']} / p95 {row['p95_ms']} / p99 {row['p99_ms']} ms ({row['count']})")
    for machine in result["this_machine"]:
        print(
            f"this machine, {machine['connections']} connections, {machine['accounts_replicas']} accounts replica(s): "
            f"{machine['requests_per_s']} req/s, p99 {machine['latency']['p99_ms']} ms"
        )
    print(f"not measured (derived or estimated): {', '.join(result['not_measured']) or 'none'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--inputs", type=Path, default=INPUTS)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the round's people and cores to simulate")
    parser.add_argument("--connections", type=int, default=64, help="the closed loop's connections (as wrk's)")
    parser.add_argument("--this-machine", action="store_true", help="only the prediction for this machine")
    args = parser.parse_args(argv)
    inputs = Inputs.load(args.inputs)
    if args.this_machine:
        print(json.dumps([this_machine(inputs, args.connections, n) for n in (1, 2)], indent=2))
        return
    result = report(inputs, args.scale, args.connections)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    _print(result)


if __name__ == "__main__":
    main()
