"""What the composition root hands to a service's use cases, event handlers and periodic jobs.

A service declares its settings class and its adapters (registers, signature checks, SMTP, ...) in its
`ServiceDefinition`; the runtime builds them once per process and passes them down explicitly, so that
no handler reaches for a module-level clock or `app.state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prasmes_contracts import CloudEvent
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database
from prasmes_runtime.settings import Settings


@dataclass(frozen=True)
class ServiceContext:
    """One per process: the service's settings, database, clock and adapters."""

    settings: Settings
    database: Database
    clock: Clock
    adapters: Any = None
    """Whatever the service's `ServiceDefinition.adapters` built (typed by the service that reads it)."""


@dataclass(frozen=True)
class EventContext:
    """What an event handler receives beside the typed event: the transaction it runs in, the
    envelope, and the service's context."""

    session: AsyncSession
    envelope: CloudEvent
    service: ServiceContext

    @property
    def clock(self) -> Clock:
        return self.service.clock

    @property
    def settings(self) -> Settings:
        return self.service.settings

    @property
    def adapters(self) -> Any:
        return self.service.adapters
