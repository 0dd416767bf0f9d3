"""Composition root of the notifications service: `uvicorn --factory notifications.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.context import ServiceContext
from prasmes_runtime.service import PeriodicJob, ServiceDefinition

from notifications.api import ROUTERS
from notifications.consumers import CONSUMERS
from notifications.service.digests import make_digests
from notifications.service.mails import send_due
from notifications.service.officers import fan_out
from notifications.settings import NotificationsAdapters, NotificationsSettings, build_adapters, sending

MAIL_INTERVAL = 1.0
"""Seconds between two rounds of the sender loop."""


FULL_ROUNDS = 20
"""A round that found a full batch is followed at once by the next (up to this many): a backlog is not sent one
batch a second."""


async def send_mails(context: ServiceContext) -> int:
    settings, adapters = context.settings, context.adapters
    assert isinstance(settings, NotificationsSettings) and isinstance(adapters, NotificationsAdapters)
    plan = sending(settings, adapters)
    attempted = 0
    for _ in range(FULL_ROUNDS):
        done = await send_due(context, plan)
        attempted += done
        if done < plan.batch:
            break
    return attempted


async def daily_digests(context: ServiceContext) -> int:
    assert isinstance(context.settings, NotificationsSettings)
    return await make_digests(context, context.settings.digest_hour)


DEFINITION = ServiceDefinition(
    name="notifications",
    title="Prasmes notifications",
    description="Notices to learners, providers and agency staff, in the app and by e-mail.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
    jobs=[
        PeriodicJob("mail-sender", MAIL_INTERVAL, send_mails),
        PeriodicJob("officer-notices", 1.0, fan_out),
        PeriodicJob("mail-digests", 60.0, daily_digests),
    ],
    settings=NotificationsSettings,
    adapters=build_adapters,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
