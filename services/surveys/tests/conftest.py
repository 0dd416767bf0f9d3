"""Fixtures of the surveys service's tests: the app on both databases with a movable clock, and accounts' study
events delivered as accounts publishes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prasmes_contracts.accounts import StudiesCompleted, StudiesDiscontinued
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from surveys.app import DEFINITION
from surveys.service.surveys import follow_clock

NOW = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)


@dataclass
class World:
    svc: ServiceHarness
    clock: FixedClock

    @property
    def client(self) -> httpx.AsyncClient:
        return self.svc.client

    def learner(self, subject: str = "learner-1") -> dict[str, str]:
        return self.svc.as_(subject, "learner")

    async def ended(self, kind: str = "completed", learner: str = "learner-1", **changes: Any) -> uuid.UUID:
        """Accounts records the end of studies; the learner's survey id."""
        values: dict[str, Any] = {
            "enrolment_id": uuid.uuid4(),
            "application_id": uuid.uuid4(),
            "learner_id": learner,
            "project_code": "IMK",
            "programme_id": uuid.uuid4(),
            "group_id": uuid.uuid4(),
            "institution_id": uuid.uuid4(),
        } | changes
        if kind == "completed":
            event: Any = StudiesCompleted(**values, completed_on=date(2026, 5, 29), hours_attended=160, result="passed")
        else:
            event = StudiesDiscontinued(**values, discontinued_on=date(2026, 4, 1))
        await self.svc.deliver(event)
        page = (await self.client.get("/surveys/mine", headers=self.learner(learner))).json()
        return next(uuid.UUID(s["id"]) for s in page["items"] if s["kind"] == _KIND[kind])

    async def tick(self) -> int:
        return await follow_clock(self.svc.app.state.runtime.context)


_KIND = {"completed": "completion", "discontinued": "discontinuation"}


@asynccontextmanager
async def _world(
    database_url: str, tmp_path: Path, token_issuer: TokenIssuer, **overrides: Any
) -> AsyncIterator[World]:
    settings = local_settings(
        DEFINITION,
        database_url,
        tmp_path,
        relay_poll_interval=0.05,
        survey_reminder_days=7,
        survey_close_days=30,
        **overrides,
    )
    clock = FixedClock(NOW)
    async with harness(DEFINITION, settings, token_issuer, clock) as svc:
        yield World(svc, clock)


@pytest.fixture
async def world(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[World]:
    async with _world(database_url, tmp_path, token_issuer) as made:
        yield made


@pytest.fixture
async def few(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[World]:
    """The quality rules judged from 4 people (raters, who ended their studies) rather than 10: short flag tests."""
    async with _world(database_url, tmp_path, token_issuer, rating_min_raters=4, quality_min_people=4) as made:
        yield made
