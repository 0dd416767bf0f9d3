"""Fixtures of the accounts service's API tests: the app on both databases, a movable clock, catalog's events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from accounts.app import create_app
from prasmes_contracts.catalog import GroupScheduled, ProgrammePublished, ProviderUserAdded
from prasmes_runtime.auth import TokenIssuer, TokenVerifier
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.db import Database
from prasmes_runtime.settings import Settings
from prasmes_testing.events import publish
from prasmes_testing.harness import running
from prasmes_testing.support import eventually, personal_code

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@dataclass
class Service:
    client: httpx.AsyncClient
    database: Database
    bus: EmbeddedBus
    clock: FixedClock
    issuer: TokenIssuer

    def as_(self, subject: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(subject, roles or ('learner',))}"}

    async def learner(self, subject: str, n: int, **profile: object) -> dict[str, str]:
        """A learner with an open account (and a profile)."""
        headers = self.as_(subject)
        opened = await self.client.post("/accounts", json={"personal_code": personal_code(n)}, headers=headers)
        assert opened.status_code == 201, opened.text
        if profile:
            changed = await self.client.patch("/accounts/me/profile", json=profile, headers=headers)
            assert changed.status_code == 200, changed.text
        return headers

    async def apply(self, headers: dict[str, str], project: str = "IMK") -> dict[str, object]:
        response = await self.client.post("/applications", json={"project_code": project}, headers=headers)
        assert response.status_code == 201, response.text
        body: dict[str, object] = response.json()
        return body

    async def project(self, code: str, budget: str, mode: str = "first_come", **extra: object) -> None:
        body = {
            "code": code,
            "name": f"Project {code}",
            "budget": budget,
            "grant_per_person": "500.00",
            "window_opens_at": (NOW - timedelta(days=10)).isoformat(),
            "window_closes_at": (NOW + timedelta(days=10)).isoformat(),
            "enrolment_deadline": "2027-03-31",
            "allocation_mode": mode,
            **extra,
        }
        response = await self.client.post("/funding-projects", json=body, headers=self.as_("martins", "agency_admin"))
        assert response.status_code == 201, response.text

    async def catalog(self, *events: object) -> None:
        """Publish catalog's events and wait until the accounts consumer applied them all."""
        envelopes = await publish(self.bus, *events)  # type: ignore[arg-type]
        ids = {e.id for e in envelopes}

        async def applied() -> bool:
            async with self.database.session() as session:
                done = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(sa.table("inbox", sa.column("event_id")))
                    .where(sa.column("event_id").in_(ids))
                )
            return done == len(ids)

        await eventually(applied, timeout=20, interval=0.05)


@pytest.fixture
async def service(
    database_url: str, tmp_path: Path, token_issuer: TokenIssuer, token_verifier: TokenVerifier
) -> AsyncIterator[Service]:
    settings = Settings(
        service_name="accounts", database_url=database_url, var_dir=tmp_path, event_log_path=tmp_path / "events.db"
    )
    clock = FixedClock(NOW)
    app = create_app(settings, clock)
    async with running(app, token_verifier) as client:
        yield Service(client, app.state.runtime.database, EmbeddedBus(tmp_path / "events.db"), clock, token_issuer)


@dataclass(frozen=True)
class Offer:
    institution_id: uuid.UUID
    programme_id: uuid.UUID
    group_id: uuid.UUID


def catalog_events(capacity: int = 2, cost: str = "320.00", staff: str = "peteris") -> tuple[Offer, list[object]]:
    """A published programme (160 h, 320.00 EUR), one group, and a member of the institution's staff."""
    offer = Offer(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    events = [
        ProviderUserAdded(institution_id=offer.institution_id, at=NOW, user_id=staff, role="provider_staff"),
        ProgrammePublished(
            programme_id=offer.programme_id,
            institution_id=offer.institution_id,
            at=NOW,
            title={"lv": "Datu analīze", "en": "Data analysis"},
            digcomp_level=4,
            hours=160,
            cost_per_participant=Decimal(cost),
            coefficient_table_version=1,
        ),
        GroupScheduled(
            group_id=offer.group_id,
            programme_id=offer.programme_id,
            institution_id=offer.institution_id,
            at=NOW,
            capacity=capacity,
            start_date=date(2027, 1, 11),
            end_date=date(2027, 3, 26),
            city="Rīga",
            language="lv",
        ),
    ]
    return offer, events


Approver = Callable[[str], Awaitable[httpx.Response]]
