"""A service under test: its app running in-process with its lifespan (migrations, relay, consumers),
a client for it, tokens, and the bus it publishes to and consumes from.

    async with harness(DEFINITION, local_settings(DEFINITION, database_url, tmp_path), issuer, clock) as svc:
        response = await svc.client.post("/accounts", json=..., headers=svc.as_("anna"))
        await svc.deliver(ProgrammePublished(...))   # as catalog would publish it; returns once applied
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from prasmes_contracts import CloudEvent, Event
from prasmes_runtime.auth import TokenIssuer, TokenVerifier
from prasmes_runtime.bus import Bus, create_bus
from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import inbox, outbox
from prasmes_runtime.service import ServiceDefinition
from prasmes_runtime.settings import Settings

from prasmes_testing.events import publish
from prasmes_testing.support import eventually


@asynccontextmanager
async def running(app: FastAPI, verifier: TokenVerifier | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An app with its lifespan (migrations, relay, consumers) running, and a client for it."""
    if verifier is not None:
        app.state.token_verifier = verifier
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


def local_settings(definition: ServiceDefinition, database_url: str, var_dir: Path, **overrides: Any) -> Settings:
    """The service's own settings class on the given database, with its local state (the embedded
    event log among it) in `var_dir`."""
    values: dict[str, Any] = {"database_url": database_url, "var_dir": var_dir, "event_log_path": var_dir / "events.db"}
    return definition.settings(service_name=definition.name, **(values | overrides))


@dataclass
class ServiceHarness:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: TokenIssuer
    bus: Bus
    """A client of the bus the service runs on: publish other services' events, read its topics."""

    @property
    def database(self) -> Database:
        database: Database = self.app.state.runtime.database
        return database

    @property
    def clock(self) -> Clock:
        clock: Clock = self.app.state.runtime.clock
        return clock

    def as_(self, subject: str, *roles: str) -> dict[str, str]:
        """Authorization headers for a subject with roles (default: a learner)."""
        return {"Authorization": f"Bearer {self.issuer.issue(subject, roles or ('learner',))}"}

    async def deliver(self, *events: Event, timeout: float = 20) -> list[CloudEvent]:
        """Publish events as their owning services would, and wait until this service applied them all."""
        envelopes = await publish(self.bus, *events)
        await self.applied([envelope.id for envelope in envelopes], timeout=timeout)
        return envelopes

    async def applied(self, event_ids: Iterable[str], timeout: float = 20) -> None:
        """Wait until the service's inbox holds every one of these events."""
        wanted = set(event_ids)

        async def all_in() -> bool:
            async with self.database.session() as session:
                done = await session.scalar(
                    sa.select(sa.func.count()).select_from(inbox).where(inbox.c.event_id.in_(wanted))
                )
            return done == len(wanted)

        await eventually(all_in, timeout=timeout, interval=0.05)

    async def outbox_types(self) -> list[str]:
        """The types of the events the service recorded, in order."""
        async with self.database.session() as session:
            return list((await session.execute(sa.select(outbox.c.event_type).order_by(outbox.c.id))).scalars())


@asynccontextmanager
async def harness(
    definition: ServiceDefinition,
    settings: Settings,
    issuer: TokenIssuer,
    clock: Clock | None = None,
    adapters: object = None,
) -> AsyncIterator[ServiceHarness]:
    """The service's app running, verifying tokens of `issuer` (as it would the identity provider's)."""
    verifier = TokenVerifier(issuer=issuer.issuer, audience=issuer.audience, jwks=issuer.jwks())
    app = definition.create_app(settings, clock, adapters)
    async with running(app, verifier) as client:
        yield ServiceHarness(app, client, issuer, create_bus(app.state.runtime.settings))
