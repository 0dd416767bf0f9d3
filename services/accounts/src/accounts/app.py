"""Composition root of the accounts service: `uvicorn --factory accounts.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import PeriodicJob, ServiceDefinition

from accounts.api import ROUTERS
from accounts.consumers import CONSUMERS
from accounts.service.applications import lapse_overdue, run_allocations
from accounts.settings import AccountsSettings, build_adapters

DEFINITION = ServiceDefinition(
    name="accounts",
    title="Prasmes accounts",
    description="Learning accounts (individuālie mācību konti) of adult learners.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
    jobs=[
        PeriodicJob("lapse-overdue", 900, lambda ctx: lapse_overdue(ctx.database, ctx.clock)),
        PeriodicJob("allocations", 1, lambda ctx: run_allocations(ctx.database, ctx.clock)),
    ],
    settings=AccountsSettings,
    adapters=build_adapters,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
