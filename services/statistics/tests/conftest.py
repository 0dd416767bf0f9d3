"""Fixtures of the statistics service's tests: the service on both databases with the embedded log, and a builder of
the public events it projects, published as their services would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from prasmes_contracts import Event
from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationRejected,
    ApplicationSubmittedV2,
    EnrolmentConfirmed,
    StudiesCompleted,
    StudiesDiscontinued,
    StudiesStarted,
)
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_statistics.app import DEFINITION
from prasmes_statistics.consumers import PROJECTION
from prasmes_statistics.db.projection import generation
from prasmes_testing.events import publish
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.waiting import caught_up

NOW = datetime(2025, 9, 30, 11, 30, tzinfo=UTC)
"""The seed's slide: 30 September 2025, 14:30 in Riga."""


@dataclass
class Learner:
    """One person's path through a project, as accounts tells it."""

    learner_id: str = field(default_factory=lambda: f"learner-{uuid.uuid4().hex[:8]}")
    account_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class World:
    svc: ServiceHarness
    clock: FixedClock

    @property
    def client(self) -> httpx.AsyncClient:
        return self.svc.client

    def agency(self, role: str = "agency_officer") -> dict[str, str]:
        return self.svc.as_("officer-1", role)

    async def deliver(self, *events: Event) -> None:
        """Publish as the owning services would and wait until the projection has read every record."""
        await publish(self.svc.bus, *events)
        await self.caught_up()

    async def caught_up(self) -> None:
        async with self.svc.database.session() as session:
            current = await generation(session)
        await caught_up(self.svc.bus, PROJECTION.group(current), PROJECTION.topics, timeout=30)

    async def dashboard(self, at: datetime | None = None) -> dict[str, Any]:
        params = {"as_of": at.isoformat()} if at else {}
        response = await self.client.get("/dashboard", params=params, headers=self.agency())
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def project(self, code: str, at: datetime | None = None) -> dict[str, Any]:
        return next(p for p in (await self.dashboard(at))["projects"] if p["project_code"] == code)


def opened(who: Learner, at: datetime) -> AccountOpened:
    return AccountOpened(account_id=who.account_id, learner_id=who.learner_id, opened_at=at)


def submitted(who: Learner, project: str, at: datetime, application_id: uuid.UUID | None = None) -> Any:
    return ApplicationSubmittedV2(
        application_id=application_id or uuid.uuid4(), learner_id=who.learner_id, project_code=project, at=at
    )


def approved(application: ApplicationSubmittedV2, at: datetime, amount: str = "500.00") -> ApplicationApproved:
    return ApplicationApproved(
        application_id=application.application_id,
        learner_id=application.learner_id,
        project_code=application.project_code,
        at=at,
        grant_amount=Decimal(amount),
    )


def rejected(application: ApplicationSubmittedV2, at: datetime) -> ApplicationRejected:
    return ApplicationRejected(
        application_id=application.application_id,
        learner_id=application.learner_id,
        project_code=application.project_code,
        at=at,
        reason_code="not_eligible",
    )


@dataclass
class Enrolment:
    application: ApplicationSubmittedV2
    enrolment_id: uuid.UUID = field(default_factory=uuid.uuid4)
    programme_id: uuid.UUID = field(default_factory=uuid.uuid4)
    group_id: uuid.UUID = field(default_factory=uuid.uuid4)
    institution_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def _ids(self) -> dict[str, Any]:
        a = self.application
        return {
            "enrolment_id": self.enrolment_id,
            "application_id": a.application_id,
            "learner_id": a.learner_id,
            "project_code": a.project_code,
            "programme_id": self.programme_id,
            "group_id": self.group_id,
            "institution_id": self.institution_id,
        }

    def confirmed(self, at: datetime) -> EnrolmentConfirmed:
        return EnrolmentConfirmed(**self._ids(), at=at)

    def started(self, on: date) -> StudiesStarted:
        return StudiesStarted(**self._ids(), started_on=on)

    def completed(self, on: date) -> StudiesCompleted:
        return StudiesCompleted(**self._ids(), completed_on=on, hours_attended=160, result="passed")

    def discontinued(self, on: date) -> StudiesDiscontinued:
        return StudiesDiscontinued(**self._ids(), discontinued_on=on, reason_code="time")


DAY = timedelta(days=1)


@pytest.fixture
async def world(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[World]:
    settings = local_settings(DEFINITION, database_url, tmp_path, relay_poll_interval=0.05)
    clock = FixedClock(NOW)
    async with harness(DEFINITION, settings, token_issuer, clock) as svc:
        yield World(svc, clock)
