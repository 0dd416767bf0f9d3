"""Notices and mails for a burst of events (issue #12): `python -m bench.notifications_fanout [--quick] [--events N]`.

**The events.** N `ApplicationApproved` (50 000; `--quick` 5 000), each for a distinct learner
(`bench-learner-{i}`), put on the embedded bus (`accounts.applications` in a fresh SQLite event log) before anything
consumes them. The same N records are then consumed three times, each time by a process of its own (started from this
module, `--role consumer`), in a consumer group of its own, one after the other:

1. **raw** (baseline): the embedded bus's own subscription, `poll(200)`, every record decoded to its CloudEvent
   (`from_kafka`), `commit` per batch: what reading the log costs.
2. **runtime, no-op handler** (baseline): the runtime's `EventConsumer` with a handler that does nothing, on a
   migrated notifications database (SQLite): the inbox row and the transaction per event, the lag report per batch.
3. **notifications**: the notifications service's worker as the runtime composes it (`DEFINITION.create_app` with
   `ROLE=worker`: its consumer, its outbox relay, the mail-sender job every 1 s, JSON logs to a file), on SQLite, with
   `NotificationsAdapters(StaticContacts(N addresses, lv and en alternating), SmtpSender(...))` — the directory is not
   asked (the dev users are few), everything else is the service's own code. The SMTP server is a process of its
   own (`--role smtp`): `prasmes_testing.smtp.MailServer` (aiosmtpd on 127.0.0.1) with `TimedMailServer`'s
   `_keep`, which writes each mail's Message-ID, recipient and arrival time (`time.time()` once the message is
   received and parsed) to a file instead of keeping the message.

Timing: each consumer process migrates and builds what it needs, then writes a ready file with its `time.time()`
(t0) and starts consuming; this process polls the group's committed offsets in the event log (every 50 ms) until they
reach N (for notifications: every notice is stored then, in the same transaction as its inbox row), then, for the
notifications process, the arrivals until every mail came or `--mail-seconds` after t0 passed (full run: 240 s; a
quick run waits for all of them). Reported: events/s of each consumer; notices/s (N / time to the last commit);
mails/s (overall from t0, during the notice fan-out, and after it); per mail, the latency from t0 — the start of the
fan-out, the events all being on the bus already: **the end-to-end figure** — to its arrival at the SMTP server,
from its notice's `created_at` to its arrival, and from the event's `at` (when this process made it, before
publishing) to its arrival, which includes the set-up between publishing and t0; the mails' states at the end; CPU
ms per event of each process (`/proc`, children included), of this process (its own `process_time`: polling) and
"other" (the machine's busy CPU that none of them used: other people's work on these 2 cores). The notices'
window includes the sender loop's work in the same process during it.

Writes `bench/out/notifications_fanout.json`. Not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from prasmes_contracts import from_kafka
from prasmes_contracts.accounts import ApplicationApproved
from prasmes_runtime import migrations
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.clock import SystemClock
from prasmes_runtime.consumer import ConsumerSpec, EventConsumer, Handlers
from prasmes_runtime.context import EventContext, ServiceContext
from prasmes_runtime.db import Database
from prasmes_testing.events import publish
from prasmes_testing.harness import local_settings
from prasmes_testing.servers import free_port
from prasmes_testing.smtp import MailServer, Received

from bench import procs
from bench.run import _machine, _source
from bench.stats import percentile, rounded

OUT = Path(__file__).resolve().parent / "out" / "notifications_fanout.json"
ROOT = procs.ROOT
PUBLISH_CHUNK = 5_000
POLL = 0.05
MODES = ("raw", "runtime_noop", "notifications")


@dataclass(frozen=True)
class Plan:
    events: int
    mail_seconds: float
    """The mail phase ends when every mail arrived or this long after t0 (not before the last notice is stored)."""
    consume_timeout: float = 1800.0

    @classmethod
    def of(cls, quick: bool, events: int | None, mail_seconds: float | None) -> Plan:
        count = events or (5_000 if quick else 50_000)
        return cls(count, mail_seconds if mail_seconds is not None else (900.0 if quick else 240.0))


def learner(i: int) -> str:
    return f"bench-learner-{i}"


def address(i: int) -> tuple[str, str]:
    return f"learner{i}@example.lv", "lv" if i % 2 == 0 else "en"


# --------------------------------------------------------------------------- the SMTP server's process


class TimedMailServer(MailServer):
    """MailServer that writes each accepted mail's Message-ID and arrival time to a file (JSON lines) and keeps
    nothing in memory (50 000 parsed messages would not fit comfortably)."""

    def __init__(self, arrivals: Path, **kw: Any) -> None:
        super().__init__(**kw)
        self._file = arrivals.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def _keep(self, received: Received) -> None:
        line = {"message_id": received.message["Message-ID"], "to": received.rcpt_tos[0], "at": time.time()}
        with self._lock:
            self._file.write(json.dumps(line) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def serve_smtp(port: int, arrivals: Path, ready: Path) -> None:
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    server = TimedMailServer(arrivals, port=port)
    server.start()
    _ready(ready)
    stopped.wait()
    server.stop()
    server.close()


# --------------------------------------------------------------------------- the consumers' process


def _ready(path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    times = os.times()
    tmp.write_text(json.dumps({"t": time.time(), "cpu": times.user + times.system, "pid": os.getpid()}))
    tmp.rename(path)


async def _until_terminated() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


def _topics() -> tuple[str, ...]:
    from notifications.consumers import CONSUMERS

    return tuple(CONSUMERS[0].topics)


async def consume_raw(log_path: Path, ready: Path, events: int) -> None:
    subscription = EmbeddedBus(log_path).subscription("bench-raw", _topics())
    await subscription.start()
    _ready(ready)
    consumed = 0
    while consumed < events:
        batch = await subscription.poll(timeout=0.5, max_records=200)
        for delivered in batch:
            from_kafka(delivered.record)
        await subscription.commit(batch)
        consumed += len(batch)
    await _until_terminated()
    await subscription.stop()


async def consume_noop(log_path: Path, var: Path, ready: Path) -> None:
    from notifications.app import DEFINITION

    url = f"sqlite+aiosqlite:///{var / 'noop.db'}"
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url)
    handlers = Handlers()

    @handlers.on(ApplicationApproved)
    async def nothing(ctx: EventContext, event: ApplicationApproved) -> None:
        return None

    bus, database = EmbeddedBus(log_path), Database(url)
    settings = local_settings(DEFINITION, url, var, event_log_path=log_path)
    context = ServiceContext(settings, database, SystemClock())
    consumer = EventConsumer(
        ConsumerSpec("bench-noop", handlers, _topics()), bus, database, bus.producer(), context=context
    )
    _ready(ready)
    task = asyncio.create_task(consumer.run())
    await _until_terminated()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await database.dispose()


async def consume_notifications(log_path: Path, var: Path, ready: Path, events: int, smtp_port: int) -> None:
    from notifications.adapters.contacts import Contact, StaticContacts
    from notifications.adapters.smtp import SmtpSender
    from notifications.app import DEFINITION
    from notifications.settings import NotificationsAdapters, NotificationsSettings

    settings = local_settings(
        DEFINITION, "", var, event_log_path=log_path, role="worker", smtp_host="127.0.0.1", smtp_port=smtp_port
    )
    assert isinstance(settings, NotificationsSettings)
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, settings.resolved_database_url())
    settings = settings.model_copy(update={"migrate_on_start": False})
    contacts = StaticContacts({learner(i): Contact(*address(i)) for i in range(events)})
    adapters = NotificationsAdapters(contacts=contacts, mailer=SmtpSender(settings.smtp()))
    app = DEFINITION.create_app(settings, None, adapters)
    _ready(ready)
    async with app.router.lifespan_context(app):
        await _until_terminated()


def run_role(args: argparse.Namespace) -> None:
    log_path, var, ready = Path(args.log), Path(args.var), Path(args.ready)
    if args.role == "smtp":
        serve_smtp(args.smtp_port, var / "arrivals.jsonl", ready)
    elif args.mode == "raw":
        asyncio.run(consume_raw(log_path, ready, args.events))
    elif args.mode == "runtime_noop":
        asyncio.run(consume_noop(log_path, var, ready))
    else:
        asyncio.run(consume_notifications(log_path, var, ready, args.events, args.smtp_port))


# --------------------------------------------------------------------------- the driver


@dataclass(frozen=True)
class Child:
    process: subprocess.Popen[bytes]
    t0: float
    """The child's time.time() when it was ready (just before consuming)."""
    cpu0: float
    """Its CPU seconds then (this process's snapshot comes a little later)."""


@contextlib.contextmanager
def child(work: Path, name: str, *args: str, timeout: float = 120) -> Iterator[Child]:
    var = work / name
    var.mkdir(parents=True, exist_ok=True)
    ready = var / "ready.json"
    command = [sys.executable, "-m", "bench.notifications_fanout", "--var", str(var), "--ready", str(ready), *args]
    with (var / "process.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    try:
        procs.wait_for_file(ready, process, timeout, f"{name} (see {var / 'process.log'})")
        said = json.loads(ready.read_text())
        yield Child(process, float(said["t"]), float(said["cpu"]))
    finally:
        procs.stop(process)


def committed(log_path: Path, group: str) -> int:
    conn = sqlite3.connect(f"file:{log_path}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT COALESCE(SUM(next_offset), 0) FROM group_offsets WHERE group_id = ?", (group,))
        return int(row.fetchone()[0])
    finally:
        conn.close()


def wait_until(done: Callable[[], bool], alive: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if alive.poll() is not None:
            raise RuntimeError(f"the consumer process exited with {alive.returncode}")
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True


class Snapshot:
    """CPU of the named processes and the machine (procs.cpu_snapshot), and this process's own (process_time:
    procs' tree figure of this process would include its children)."""

    def __init__(self, pids: dict[str, int], started: tuple[str, Child] | None = None) -> None:
        self.at = time.time()
        self.cpu = procs.cpu_snapshot(pids)
        self.own = time.process_time()
        if started is not None:  # the consumer's own reading at t0: it may have consumed some since
            name, ready = started
            self.at, self.cpu[name] = ready.t0, ready.cpu0

    def per(self, later: Snapshot, count: int) -> dict[str, float | None]:
        return procs.cpu_ms_per_request(self.cpu, later.cpu, count, {"bench_driver": later.own - self.own})


def make_events(plan: Plan) -> tuple[list[ApplicationApproved], dict[str, float]]:
    events, made = [], {}
    for i in range(plan.events):
        at = datetime.now(UTC)
        events.append(
            ApplicationApproved(
                application_id=uuid.UUID(int=i + 1),
                learner_id=learner(i),
                project_code="IMK",
                at=at,
                grant_amount=Decimal("500.00"),
            )
        )
        made[learner(i)] = at.timestamp()
    return events, made


async def put_on_bus(log_path: Path, events: list[ApplicationApproved]) -> dict[str, Any]:
    bus = EmbeddedBus(log_path)
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(events), PUBLISH_CHUNK):
        await publish(bus, *events[start : start + PUBLISH_CHUNK], source="/prasmes/accounts")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "events": len(events),
        "elapsed_s": rounded(elapsed, 3),
        "events_per_s": rounded(len(events) / elapsed, 1),
        "cpu_ms_per_event": rounded(1000 * cpu / len(events), 4),
    }


def baseline(work: Path, log_path: Path, plan: Plan, mode: str, group: str) -> dict[str, Any]:
    quiet = procs.wait_quiet()
    load = os.getloadavg()[0]
    with child(
        work, mode, "--role", "consumer", "--mode", mode, "--log", str(log_path), "--events", str(plan.events)
    ) as c:
        start = Snapshot({mode: c.process.pid}, (mode, c))
        if not wait_until(lambda: committed(log_path, group) >= plan.events, c.process, plan.consume_timeout):
            raise RuntimeError(f"{mode}: not every event consumed within {plan.consume_timeout} s")
        end = Snapshot({mode: c.process.pid})
    elapsed = end.at - c.t0
    return {
        "events": plan.events,
        "elapsed_s": rounded(elapsed, 3),
        "events_per_s": rounded(plan.events / elapsed, 1),
        "cpu_ms_per_event": start.per(end, plan.events),
        "quiet_wait": quiet,
        "load_average_before": round(load, 2),
    }


def fanout(work: Path, log_path: Path, plan: Plan, made: dict[str, float]) -> dict[str, Any]:
    smtp_port = free_port()
    quiet = procs.wait_quiet()
    load = os.getloadavg()[0]
    smtp_args = ("--role", "smtp", "--log", str(log_path), "--smtp-port", str(smtp_port))
    arrivals_path = work / "smtp" / "arrivals.jsonl"
    with child(work, "smtp", *smtp_args) as smtp:
        args = ("--role", "consumer", "--mode", "notifications", "--log", str(log_path), "--events", str(plan.events))
        with child(work, "notifications", *args, "--smtp-port", str(smtp_port)) as svc:
            pids = {"notifications": svc.process.pid, "smtp_server": smtp.process.pid}
            start = Snapshot(pids, ("notifications", svc))
            if not wait_until(
                lambda: committed(log_path, "notifications") >= plan.events, svc.process, plan.consume_timeout
            ):
                raise RuntimeError(f"notifications: not every event consumed within {plan.consume_timeout} s")
            notices_done = Snapshot(pids)
            left = max(0.0, svc.t0 + plan.mail_seconds - time.time())
            wait_until(lambda: _lines(arrivals_path) >= plan.events, svc.process, left)
            mails_done = Snapshot(pids)
        load_after = os.getloadavg()[0]
    arrivals = [json.loads(line) for line in arrivals_path.read_text().splitlines() if line]
    stored = _stored(work / "notifications" / "notifications.db")
    return {
        "events": plan.events,
        "mail_seconds_cap": plan.mail_seconds,
        "quiet_wait": quiet,
        "load_average_before": round(load, 2),
        "load_average_after": round(load_after, 2),
        "notices": {
            "stored": stored["notices"],
            "elapsed_s": rounded(notices_done.at - svc.t0, 3),
            "notices_per_s": rounded(plan.events / (notices_done.at - svc.t0), 1),
            "cpu_ms_per_event": start.per(notices_done, plan.events),
        },
        "mails": _mails(arrivals, stored, svc.t0, notices_done.at, mails_done.at, made, plan),
        "cpu_ms_per_event_whole_run": start.per(mails_done, plan.events),
        "cpu_ms_per_mail_after_notices": notices_done.per(mails_done, _arrived_after(arrivals, notices_done.at)),
    }


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def _arrived_after(arrivals: list[dict[str, Any]], t: float) -> int:
    return sum(1 for a in arrivals if a["at"] > t)


def _instant(value: str) -> float:
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _stored(db_path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        notices = {row[0]: _instant(row[1]) for row in conn.execute("SELECT id, created_at FROM notices")}
        mails = {
            f"<{uuid.UUID(str(row[0]))}@prasmes.lv>": {
                "notice_id": row[1],
                "recipient_id": row[2],
                "state": row[3],
                "notice_created_at": notices.get(row[1]),
            }
            for row in conn.execute("SELECT id, notice_id, recipient_id, state FROM mails")
        }
    finally:
        conn.close()
    states: dict[str, int] = {}
    for mail in mails.values():
        states[mail["state"]] = states.get(mail["state"], 0) + 1
    return {"notices": len(notices), "mails": mails, "states": states}


def _ms(values: list[float]) -> dict[str, float | int | None]:
    ms = [1000 * v for v in values]
    return {
        "count": len(ms),
        "p50_ms": rounded(percentile(ms, 50), 1),
        "p99_ms": rounded(percentile(ms, 99), 1),
        "max_ms": rounded(max(ms) if ms else None, 1),
    }


def _mails(
    arrivals: list[dict[str, Any]],
    stored: dict[str, Any],
    t0: float,
    notices_at: float,
    end_at: float,
    made: dict[str, float],
    plan: Plan,
) -> dict[str, Any]:
    mails, times = stored["mails"], sorted(a["at"] for a in arrivals)
    matched = [(a, mails[a["message_id"]]) for a in arrivals if a["message_id"] in mails]
    during = sum(1 for t in times if t <= notices_at)
    after = len(times) - during
    last = times[-1] if times else t0
    rate = len(times) / (last - t0) if times else None
    return {
        "arrived": len(times),
        "of": plan.events,
        "all_arrived": len(times) >= plan.events,
        "matched_to_stored_mails": len(matched),
        "duplicates": len(times) - len({a["message_id"] for a in arrivals}),
        "states_at_end": stored["states"],
        "first_arrival_after_t0_s": rounded(times[0] - t0, 3) if times else None,
        "last_arrival_after_t0_s": rounded(last - t0, 3),
        "mails_per_s": rounded(rate, 2),
        "mails_per_s_during_notices": rounded(during / (notices_at - t0), 2),
        "mails_per_s_after_notices": rounded(after / (last - notices_at), 2) if after and last > notices_at else None,
        "arrived_during_notices": during,
        "projected_drain_s": rounded(plan.events / rate, 0) if rate else None,
        "e2e_from_t0": _ms([a["at"] - t0 for a in arrivals]),
        "notice_stored_to_arrival": _ms(
            [a["at"] - m["notice_created_at"] for a, m in matched if m["notice_created_at"] is not None]
        ),
        "event_made_to_arrival": _ms([a["at"] - made[m["recipient_id"]] for a, m in matched]),
        "phase_s": rounded(end_at - t0, 3),
    }


def run(plan: Plan) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="prasmes-bench-fanout-"))
    log_path = work / "events.db"
    events, made = make_events(plan)
    print(f"{plan.events} events on the bus ...", flush=True)
    published = asyncio.run(put_on_bus(log_path, events))
    del events
    results: dict[str, Any] = {"publish": published}
    print("raw consumption ...", flush=True)
    results["raw"] = baseline(work, log_path, plan, "raw", "bench-raw")
    print(f"  {results['raw']['events_per_s']} events/s", flush=True)
    print("runtime consumer, no-op handler ...", flush=True)
    results["runtime_noop"] = baseline(work, log_path, plan, "runtime_noop", "bench-noop")
    print(f"  {results['runtime_noop']['events_per_s']} events/s", flush=True)
    print("notifications: notices and mails ...", flush=True)
    results["notifications"] = fanout(work, log_path, plan, made)
    results["work_dir"] = str(work)
    return results


def _table(results: dict[str, Any]) -> str:
    raw, noop, n = results["raw"], results["runtime_noop"], results["notifications"]
    mails = n["mails"]
    rows = [
        f"raw consumption       {raw['events_per_s']:>10} events/s  cpu {raw['cpu_ms_per_event'].get('raw')} ms/event",
        f"runtime no-op handler {noop['events_per_s']:>10} events/s  "
        f"cpu {noop['cpu_ms_per_event'].get('runtime_noop')} ms/event",
        f"notices stored        {n['notices']['notices_per_s']:>10} /s        "
        f"cpu {n['notices']['cpu_ms_per_event'].get('notifications')} ms/event ({n['notices']['stored']} stored)",
        f"mails arrived         {mails['mails_per_s']:>10} /s        {mails['arrived']} of {mails['of']}, "
        f"e2e from t0 p50 {mails['e2e_from_t0']['p50_ms']} / p99 {mails['e2e_from_t0']['p99_ms']} ms, "
        f"notice→arrival p99 {mails['notice_stored_to_arrival']['p99_ms']} ms",
        f"cpu per mail after the notices: {n['cpu_ms_per_mail_after_notices']}",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 000 events, every mail awaited")
    parser.add_argument("--events", type=int, help="how many events (default 50 000, --quick 5 000)")
    parser.add_argument("--mail-seconds", type=float, help="end the mail phase this long after t0 (full: 240)")
    parser.add_argument("--role", choices=["driver", "consumer", "smtp"], default="driver", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role != "driver":
        run_role(args)
        return
    plan = Plan.of(args.quick, args.events, args.mail_seconds)
    started = time.monotonic()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "source": _source(),
        "quick": args.quick,
        "plan": asdict(plan),
    }
    report["results"] = run(plan)
    report["duration_s"] = round(time.monotonic() - started, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(_table(report["results"]))
    print(f"written to {OUT} in {report['duration_s']} s")


if __name__ == "__main__":
    main()
