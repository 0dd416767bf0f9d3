"""The composition of one service process: settings, database, bus, relay, consumers, HTTP app.

A service's app.py describes itself as a `ServiceDefinition` and calls `create_service_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

from prasmes_runtime import migrations
from prasmes_runtime.auth import TokenVerifier
from prasmes_runtime.bus import Bus, BusUnavailable, Producer, create_bus
from prasmes_runtime.clock import Clock, SystemClock
from prasmes_runtime.consumer import ConsumerSpec, EventConsumer
from prasmes_runtime.db import Database
from prasmes_runtime.http import UNTRACED_URLS, install_common
from prasmes_runtime.logging import configure_logging, get_logger
from prasmes_runtime.outbox import OutboxRelay
from prasmes_runtime.settings import Settings
from prasmes_runtime.telemetry import configure_tracing

log = get_logger(__name__)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    routers: Sequence[APIRouter]
    migrations_dir: Path
    publishes: Sequence[str] = ()
    """Topics this service owns (created at start on Kafka)."""
    consumers: Sequence[ConsumerSpec] = ()
    description: str = ""
    jobs: Sequence[PeriodicJob] = ()
    """Background work run every `interval` seconds (e.g. lapsing overdue approvals)."""


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: float
    run: Callable[[ServiceRuntime], Awaitable[object]]


@dataclass
class ServiceRuntime:
    """What a running service holds; reachable from routes as `request.app.state.runtime`."""

    definition: ServiceDefinition
    settings: Settings
    database: Database
    bus: Bus
    clock: Clock = field(default_factory=SystemClock)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    producers: list[Producer] = field(default_factory=list)
    consumers: list[EventConsumer] = field(default_factory=list)

    async def start(self) -> None:
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
        )
        self.tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        for spec in self.definition.consumers:
            consumer = EventConsumer(
                spec,
                self.bus,
                self.database,
                self._producer(),
                max_attempts=self.settings.consumer_max_attempts,
                retry_backoff=self.settings.consumer_retry_backoff,
            )
            self.consumers.append(consumer)
            self.tasks.append(asyncio.create_task(consumer.run(), name=f"consumer-{spec.name}"))
        for job in self.definition.jobs:
            self.tasks.append(asyncio.create_task(self._every(job), name=f"job-{job.name}"))

    async def _every(self, job: PeriodicJob) -> None:
        while True:
            await asyncio.sleep(job.interval)
            try:
                await job.run(self)
            except Exception:
                log.exception("job.failed", job=job.name)

    def _producer(self) -> Producer:
        producer = self.bus.producer()
        self.producers.append(producer)
        return producer

    async def _ensure_topics(self) -> None:
        topics = [*self.definition.publishes]
        for spec in self.definition.consumers:
            topics += [*spec.topics, *(f"{t}.dlq" for t in spec.topics)]
        try:
            await self.bus.ensure_topics(topics)
        except BusUnavailable as exc:
            # The service still serves requests; the outbox holds events until the bus is back.
            log.warning("bus.topics_not_created", error=str(exc))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
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
        return checks


def create_service_app(
    definition: ServiceDefinition, settings: Settings | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or Settings(service_name=definition.name)
    if settings.service_name == "prasmes":
        settings = settings.model_copy(update={"service_name": definition.name})
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    configure_tracing(settings)
    database = Database(settings.resolved_database_url())
    runtime = ServiceRuntime(definition, settings, database, create_bus(settings), clock or SystemClock())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        log.info("service.started", bus=runtime.bus.name, database=database.engine.dialect.name)
        yield
        await runtime.stop()

    app = FastAPI(
        title=definition.title, description=definition.description, lifespan=lifespan, root_path_in_servers=False
    )
    app.state.runtime = runtime
    app.state.clock = runtime.clock
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks_url=settings.jwks_url
    )
    install_common(app, runtime.readiness)
    for router in definition.routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_URLS)
    SQLAlchemyInstrumentor().instrument(engine=database.engine.sync_engine)
    return app
