"""Composition root of the calls service: `uvicorn --factory calls.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import PeriodicJob, ServiceDefinition

from calls.api import ROUTERS
from calls.consumers import CONSUMERS
from calls.service.calls import advance_phases
from calls.service.evaluations import end_agreements_over
from calls.settings import CallsAdapters, CallsSettings, build_adapters

DESCRIPTION = (
    "Calls to education institutions (their timeline, phase clock, criteria and learning needs), and the offers "
    "institutions make to them: drafted in three steps inside the offer window, checked against the call's criteria, "
    "the registers and the platform's history, submitted and withdrawn until the deadline (Riga time), every "
    "version kept."
)


PHASE_INTERVAL = 30.0
"""Seconds between two looks of the phase clock at the calls' timelines (writes to a call follow it at once)."""

DEFINITION = ServiceDefinition(
    name="calls",
    title="Prasmes calls",
    description=DESCRIPTION,
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
    jobs=[
        PeriodicJob("call-phases", PHASE_INTERVAL, advance_phases),
        PeriodicJob("agreements-ending", PHASE_INTERVAL, end_agreements_over),
    ],
    settings=CallsSettings,
    adapters=build_adapters,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
__all__ = ["CallsAdapters", "CallsSettings", "create_app"]
