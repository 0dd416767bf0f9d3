"""The composition of one service process: settings, database, bus, relay, consumers, HTTP app.

A service's app.py describes itself as a `ServiceDefinition` and calls `create_service_app`.

A process runs one of three roles (`Settings.role`, env ROLE): `all` (everything, one process), `api` (HTTP only:
several processes, `uvicorn --workers N`) or `worker` (the relay, the consumers and the jobs, one per service,
serving only the runtime's common endpoints: `create_worker_app`). The worker migrates; an api process waits until
the database is at the head revision before it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from prasmes_contracts.registry import TOPICS
from prometheus_client import Gauge

from prasmes_runtime import migrations
from prasmes_runtime.auth import TokenVerifier
from prasmes_runtime.bus import Bus, BusUnavailable, Producer, create_bus
from prasmes_runtime.clock import Clock, OffsetClock, SystemClock
from prasmes_runtime.consumer import ConsumerSpec, EventConsumer, prune_inbox
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import READ_ONLY, Database
from prasmes_runtime.docs import install_docs
from prasmes_runtime.http import UNTRACED_URLS, install_common
from prasmes_runtime.logging import configure_logging, get_logger
from prasmes_runtime.outbox import OutboxRelay, prune_outbox
from prasmes_runtime.settings import Settings
from prasmes_runtime.telemetry import configure_tracing

log = get_logger(__name__)
background_tasks = Gauge(
    "prasmes_background_task_running",
    "The process's background tasks (outbox relay, consumers, jobs: the `worker` and `all` roles): 1 while running, "
    "0 once ended (a crash); an `api` process has none",
    ["service", "task"],
)


def _no_adapters(_: Settings) -> None:
    return None


@dataclass(frozen=True)
class ServiceDefinition:
    """A service, as its app.py describes it to the runtime."""

    name: str
    """As in the service registry (services.toml)."""
    title: str
    routers: Sequence[APIRouter] = ()
    migrations_dir: Path | None = None
    """The service's `migrations/` (holding `versions/`); None: it has no tables beyond the outbox and inbox."""
    consumers: Sequence[ConsumerSpec] = ()
    description: str = ""
    jobs: Sequence[PeriodicJob] = ()
    """Background work run every `interval` seconds (e.g. lapsing overdue approvals)."""
    settings: type[Settings] = Settings
    """The service's settings class: the shared `Settings` or a subclass adding the service's own fields."""
    adapters: Callable[[Any], object] = _no_adapters
    """Builds the service's adapters (registers, signature checks, SMTP, ...) from its settings, once per process."""

    @property
    def publishes(self) -> tuple[str, ...]:
        """The topics this service owns, from the topic registry (created at start on Kafka)."""
        return tuple(topic.name for topic in TOPICS if topic.owner == self.name)

    def create_app(
        self, settings: Settings | None = None, clock: Clock | None = None, adapters: object = None
    ) -> FastAPI:
        """The service's ASGI app for its role (`settings.role`): the service's HTTP app (`all`, `api`), or the
        worker's app of common endpoints only (`worker`); tests pass their own settings, clock or adapters (fakes)."""
        if service_settings(self, settings).role == "worker":
            return create_worker_app(self, settings, clock, adapters)
        return create_service_app(self, settings, clock, adapters)

    def app_factory(self) -> FastAPI:
        """For `uvicorn --factory <service>.app:app_factory` (settings from the environment)."""
        return settled(self.create_app())


def settled(app: FastAPI) -> FastAPI:
    """A process's app (its entry point's, not a test's: tests build many apps in one process), to settle its heap
    once it has started (`settle_heap`)."""
    app.state.settle_heap = True
    return app


def settle_heap(app: FastAPI) -> None:
    """Once a process's app has started, what was built to serve (the modules, the app, the engine, the migrations'
    leftovers) is moved out of the garbage collector's reach: it lives as long as the process, and a full collection
    then scans only what came after. With that heap in reach each full collection stopped the event loop for
    ~120 ms, and every request in flight with it (surveys' api under load: the p99 of its results)."""
    if getattr(app.state, "settle_heap", False):
        gc.collect()
        gc.freeze()


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: float
    run: Callable[[ServiceContext], Awaitable[object]]


@dataclass
class ServiceRuntime:
    """What a running service holds; reachable from routes as `request.app.state.runtime`."""

    definition: ServiceDefinition
    context: ServiceContext
    bus: Bus
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    producers: list[Producer] = field(default_factory=list)
    consumers: list[EventConsumer] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def database(self) -> Database:
        return self.context.database

    @property
    def clock(self) -> Clock:
        return self.context.clock

    @classmethod
    def build(
        cls, definition: ServiceDefinition, settings: Settings, clock: Clock | None = None, adapters: object = None
    ) -> ServiceRuntime:
        """The runtime of one process: its database, context (the service's adapters built once) and bus."""
        context = ServiceContext(
            settings=settings,
            database=Database(settings.resolved_database_url()),
            clock=clock or default_clock(settings),
            adapters=adapters if adapters is not None else definition.adapters(settings),
        )
        return cls(definition, context, create_bus(settings))

    @property
    def role(self) -> str:
        return self.settings.role

    async def start(self) -> None:
        if self.role == "api":
            # The worker (or an `all` process, or the operator) migrates; serving an older schema would fail.
            await self._wait_for_schema()
            return
        if self.settings.migrate_on_start:
            await asyncio.to_thread(
                migrations.upgrade, self.definition.migrations_dir, self.settings.resolved_database_url()
            )
        await self._ensure_topics()
        relay_producer = self._producer()
        relay = OutboxRelay(
            self.database,
            relay_producer,
            batch_size=self.settings.relay_batch_size,
            poll_interval=self.settings.relay_poll_interval,
            # A worker's outbox is written by the api processes, whose commits cannot signal it: on SQLite it looks
            # at the table this often (on PostgreSQL their NOTIFY wakes it in every role).
            probe_interval=self.settings.relay_probe_interval if self.role == "worker" else None,
        )
        self._run("outbox-relay", relay.run())
        for spec in self._consumer_specs():
            consumer = EventConsumer(
                spec,
                self.bus,
                self.database,
                self._producer(),
                context=self.context,
                max_attempts=self.settings.consumer_max_attempts,
                retry_backoff=self.settings.consumer_retry_backoff,
            )
            self.consumers.append(consumer)
            self._run(f"consumer-{spec.name}", consumer.run())
        for job in (*self.definition.jobs, *self._messaging_jobs()):
            self._run(f"job-{job.name}", self._every(job))

    def _run(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name=name)
        gauge = background_tasks.labels(self.definition.name, name)
        gauge.set(1)
        task.add_done_callback(lambda _: gauge.set(0))
        self.tasks.append(task)

    async def _wait_for_schema(self) -> None:
        """Until the database is at this code's head revisions (or at newer ones, which it does not know)."""
        config = migrations.alembic_config(self.definition.migrations_dir, self.settings.resolved_database_url())
        script = await asyncio.to_thread(ScriptDirectory.from_config, config)
        heads = set(script.get_heads())
        known = {revision.revision for revision in script.walk_revisions()}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.schema_wait_seconds
        while True:
            try:
                async with self.database.engine.connect() as conn:
                    await conn.execution_options(**{READ_ONLY: True})  # SQLite: never queue behind the migration
                    current = set(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))
            except Exception as exc:  # e.g. the database is not there yet
                current, reason = set(), type(exc).__name__
            else:
                reason = "at " + (", ".join(sorted(current)) or "no revision")
            behind = {revision for revision in current if revision in known and revision not in heads}
            if current and not behind and (heads <= current or current - known):
                return
            if loop.time() >= deadline:
                raise RuntimeError(
                    f"the database is not at the head revisions ({', '.join(sorted(heads))}) after "
                    f"{self.settings.schema_wait_seconds:g} s ({reason}): the service's worker migrates it"
                )
            await asyncio.sleep(0.2)

    def _consumer_specs(self) -> list[ConsumerSpec]:
        return [spec.renamed(self.settings.consumer_group_suffix) for spec in self.definition.consumers]

    def _messaging_jobs(self) -> list[PeriodicJob]:
        """Every service's tables that would otherwise grow for ever: published outbox rows and old inbox entries."""
        settings = self.settings
        outbox_retention = timedelta(hours=settings.outbox_retention_hours)
        inbox_retention = timedelta(hours=settings.inbox_retention_hours)
        return [
            PeriodicJob("prune-outbox", settings.prune_interval, lambda ctx: prune_outbox(ctx, outbox_retention)),
            PeriodicJob("prune-inbox", settings.prune_interval, lambda ctx: prune_inbox(ctx, inbox_retention)),
        ]

    async def _every(self, job: PeriodicJob) -> None:
        while True:
            await asyncio.sleep(job.interval)
            try:
                await job.run(self.context)
            except Exception:
                log.exception("job.failed", job=job.name)

    def _producer(self) -> Producer:
        producer = self.bus.producer()
        self.producers.append(producer)
        return producer

    async def _ensure_topics(self) -> None:
        topics = [*self.definition.publishes]
        for spec in self._consumer_specs():
            topics += [*spec.topics, *(f"{t}.dlq" for t in spec.topics)]
        try:
            await self.bus.ensure_topics(topics)
        except BusUnavailable as exc:
            # The service still serves requests; the outbox holds events until the bus is back.
            log.warning("bus.topics_not_created", error=str(exc))

    async def stop(self) -> None:
        for task in self.tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("background.died", task=task.get_name(), error=repr(task.exception()))
            task.cancel()
        for task in self.tasks:
            if not task.done():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for task in self.tasks:
            with contextlib.suppress(KeyError):
                background_tasks.remove(self.definition.name, task.get_name())
        for producer in self.producers:
            with contextlib.suppress(Exception):
                await producer.stop()
        await self.database.dispose()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await self.database.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"failed: {type(exc).__name__}"
        try:
            await asyncio.wait_for(self.bus.ping(), timeout=3)
            checks["bus"] = "ok"
        except Exception:
            # Requests are still served and events wait in the outbox: degraded, not down.
            checks["bus"] = "degraded"
        if self.role == "api":
            return checks  # no background tasks: the worker runs them (and reports them)
        # The relay, the consumers and the jobs run until the process stops: one that ended has crashed,
        # and a process whose events no longer flow must not look ready.
        dead = sorted(task.get_name() for task in self.tasks if task.done())
        checks["background"] = f"failed: {', '.join(dead)}" if dead else "ok"
        return checks


def default_clock(settings: Settings) -> Clock:
    """The real clock, or (tests and rehearsals, `CLOCK_START` in dev mode: the settings refuse it otherwise) a clock
    that starts at the configured instant and runs at real speed."""
    if settings.clock_start is None:
        return SystemClock()
    log.warning("clock.offset", start=settings.clock_start.isoformat())
    return OffsetClock(settings.clock_start)


def create_worker_app(
    definition: ServiceDefinition,
    settings: Settings | None = None,
    clock: Clock | None = None,
    adapters: object = None,
) -> FastAPI:
    """The `worker` role's app: the outbox relay, the consumers and the periodic jobs run in its lifespan (after the
    migrations), and it serves only the runtime's common endpoints (/healthz, /readyz, /metrics), so that operators
    probe and scrape it as any other process. No routes, no docs, no tokens."""
    settings = service_settings(definition, settings)
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    traced = configure_tracing(settings) is not None
    runtime = ServiceRuntime.build(definition, settings, clock, adapters)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        settle_heap(app)
        database = runtime.database.engine.dialect.name
        log.info("service.started", role=runtime.role, bus=runtime.bus.name, database=database)
        yield
        await runtime.stop()

    app = FastAPI(
        title=f"{definition.title} — worker", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.runtime = runtime
    install_common(app, runtime.readiness, settings)
    if traced:  # the consumers' and jobs' statements in their traces
        SQLAlchemyInstrumentor().instrument(engine=runtime.database.engine.sync_engine)
    return app


def service_settings(definition: ServiceDefinition, given: Settings | None = None) -> Settings:
    """The service's own settings class, from the environment or from the settings a test gives."""
    values = given.model_dump(exclude_unset=True) if given is not None else {}
    if values.get("service_name") in (None, "prasmes"):
        values["service_name"] = definition.name
    return definition.settings(**values)


def create_service_app(
    definition: ServiceDefinition,
    settings: Settings | None = None,
    clock: Clock | None = None,
    adapters: object = None,
) -> FastAPI:
    settings = service_settings(definition, settings)
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    traced = configure_tracing(settings) is not None
    runtime = ServiceRuntime.build(definition, settings, clock, adapters)
    database = runtime.database

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        settle_heap(app)
        log.info("service.started", bus=runtime.bus.name, database=database.engine.dialect.name)
        yield
        await runtime.stop()

    # The docs are the runtime's (no CDN); the service's own /docs, /redoc and /openapi.json are internal paths.
    app = FastAPI(
        title=definition.title,
        description=definition.description,
        lifespan=lifespan,
        root_path_in_servers=False,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks_url=settings.jwks_url
    )
    install_common(app, runtime.readiness, settings)
    install_docs(app, title=f"{definition.title} — API")
    for router in definition.routers:
        app.include_router(router)
    if traced:  # no instrumentation when no span would be recorded; install_common still continues a caller's trace
        FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_URLS)
        SQLAlchemyInstrumentor().instrument(engine=database.engine.sync_engine)
    return app
