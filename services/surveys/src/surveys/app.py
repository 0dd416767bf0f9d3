"""Composition root of the surveys service: `uvicorn --factory surveys.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import PeriodicJob, ServiceDefinition

from surveys.api import ROUTERS
from surveys.consumers import CONSUMERS
from surveys.service.surveys import follow_clock
from surveys.settings import SurveysSettings

CLOCK_INTERVAL = 60.0
"""Seconds between two looks of the survey clock for reminders and closings due (days are its unit)."""

DEFINITION = ServiceDefinition(
    name="surveys",
    title="Prasmes surveys",
    description="Study evaluation surveys: invitations on completed and discontinued studies, reminders, closing by "
    "the clock, the learner's answers to versioned questionnaires, and their results.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
    jobs=[PeriodicJob("survey-clock", CLOCK_INTERVAL, follow_clock)],
    settings=SurveysSettings,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
__all__ = ["SurveysSettings", "create_app"]
