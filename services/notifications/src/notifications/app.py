"""Composition root of the notifications service: `uvicorn --factory notifications.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.context import ServiceContext
from prasmes_runtime.service import PeriodicJob, ServiceDefinition

from notifications.api import ROUTERS
from notifications.consumers import CONSUMERS
from notifications.service.mails import send_due
from notifications.settings import NotificationsAdapters, NotificationsSettings, build_adapters, sending

MAIL_INTERVAL = 1.0
"""Seconds between two rounds of the sender loop."""


async def send_mails(context: ServiceContext) -> int:
    settings, adapters = context.settings, context.adapters
    assert isinstance(settings, NotificationsSettings) and isinstance(adapters, NotificationsAdapters)
    return await send_due(context, sending(settings, adapters))


DEFINITION = ServiceDefinition(
    name="notifications",
    title="Prasmes notifications",
    description="Notices to learners, providers and agency staff, in the app and by e-mail.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
    jobs=[PeriodicJob("mail-sender", MAIL_INTERVAL, send_mails)],
    settings=NotificationsSettings,
    adapters=build_adapters,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
