"""Fixtures of the catalog's API tests: the app on both databases with a movable clock, the embedded bus that
calls' and accounts' events arrive on, and an in-memory identity directory.

Calls' and accounts' events (their services are not built yet) are put on the embedded bus here, as
those services will publish them; the app's own consumer takes them from there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from catalog.adapters.directory import DirectoryUser
from catalog.adapters.registers import FileRegisters
from catalog.app import CatalogAdapters, CatalogSettings, create_app
from prasmes_contracts import CloudEvent, Event, to_kafka, topic_for
from prasmes_contracts.calls import CooperationAgreementEnded, CooperationAgreementSigned
from prasmes_runtime.auth import TokenVerifier
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Unavailable
from prasmes_runtime.messaging import outbox
from prasmes_testing import samples
from prasmes_testing.harness import running
from prasmes_testing.support import eventually

Bearer = Callable[..., dict[str, str]]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
API = ""


def group_body(location_id: str, **changes: Any) -> dict[str, Any]:
    """A study group of 16 March to 29 May 2026 (two weeks after NOW), three places."""
    return {
        "location_id": location_id,
        "start_date": "2026-03-16",
        "end_date": "2026-05-29",
        "schedule": "Otrdienās un ceturtdienās 18:00-21:00",
        "capacity": 3,
        "language": "lv",
        "entry_level": 3,
    } | changes


@dataclass
class FakeDirectory:
    """The identity provider's directory in memory: the users it knows, the bearer tokens it was asked with,
    and whether it answers at all."""

    users: list[DirectoryUser] = field(default_factory=list)
    answers: bool = True
    tokens: list[str] = field(default_factory=list)

    def know(self, subject: str, display_name: str | None = None) -> DirectoryUser:
        user = DirectoryUser(subject, subject, display_name or subject.title(), f"{subject}@example.lv")
        self.users.append(user)
        return user

    def _asked(self, token: str) -> None:
        if not self.answers:
            raise Unavailable("the identity provider's user directory does not answer")
        self.tokens.append(token)

    async def find(self, username: str | None, email: str | None, token: str) -> DirectoryUser | None:
        self._asked(token)
        wanted = (email or "").strip().lower()
        return next((u for u in self.users if u.username == username or (wanted and u.email == wanted)), None)

    async def names(self, subjects: Sequence[str], token: str) -> dict[str, str]:
        self._asked(token)
        return {u.subject: u.display_name for u in self.users if u.subject in subjects}


@dataclass
class Catalog:
    """A running catalog app, the clock it reads and the bus that calls' and accounts' events arrive on."""

    client: httpx.AsyncClient
    clock: FixedClock
    bus: EmbeddedBus
    database: Database
    bearer: Bearer
    directory: FakeDirectory

    def user(self, name: str, *roles: str) -> dict[str, str]:
        return self.bearer(name, *(roles or ("provider_admin",)))

    async def publish(self, event: Event) -> None:
        envelope = CloudEvent(source="/test", type=event.event_type(), data=event.model_dump(mode="json"))
        producer = self.bus.producer()
        await producer.send_many([(topic_for(type(event)).name, to_kafka(envelope, event.partition_key()))])
        await producer.stop()

    async def upload(self, who: str, purpose: str, content: bytes, filename: str) -> httpx.Response:
        return await self.client.post(
            f"{API}/documents",
            params={"purpose": purpose, "filename": filename},
            content=content,
            headers={**self.user(who), "Content-Type": "application/octet-stream"},
        )

    async def register(self, who: str, number: str = samples.GOOD_REGISTER_NUMBER) -> httpx.Response:
        statement = await self.upload(who, "statement", samples.asice_container(), "apliecinajums.edoc")
        assert statement.status_code == 201, statement.text
        payload = samples.registration_payload(statement.json()["id"], number)
        return await self.client.post(f"{API}/providers", json=payload, headers=self.user(who))

    async def approved_institution(self, who: str, number: str = samples.GOOD_REGISTER_NUMBER) -> str:
        registered = await self.register(who, number)
        assert registered.status_code == 201, registered.text
        institution_id: str = registered.json()["id"]
        approved = await self.client.post(
            f"{API}/providers/{institution_id}/approve", headers=self.user("ilze", "agency_officer")
        )
        assert approved.status_code == 200, approved.text
        return institution_id

    async def location(self, who: str, institution_id: str, address: str) -> str:
        response = await self.client.post(
            f"{API}/providers/{institution_id}/locations", json={"address": address}, headers=self.user(who)
        )
        assert response.status_code == 201, response.text
        location_id: str = response.json()["id"]
        return location_id

    async def programme(self, who: str, institution_id: str, location_ids: list[str], **changes: Any) -> httpx.Response:
        curriculum = await self.upload(who, "curriculum", samples.plain_pdf(), "plans.pdf")
        payload = samples.programme_payload(location_ids, curriculum.json()["id"], **changes)
        return await self.client.post(
            f"{API}/providers/{institution_id}/programmes", json=payload, headers=self.user(who)
        )

    async def publish_programmes(
        self,
        institution_id: str,
        *programme_ids: str,
        until: date = date(2026, 6, 30),
        call_id: uuid.UUID | None = None,
    ) -> str:
        """Calls' signed agreement (of a call of its own unless `call_id` names one), its programmes public."""
        offer_id = uuid.uuid4()
        await self.publish(
            CooperationAgreementSigned(
                offer_id=offer_id,
                call_id=call_id or uuid.uuid4(),
                institution_id=uuid.UUID(institution_id),
                programme_ids=[uuid.UUID(p) for p in programme_ids],
                at=NOW,
                valid_until=until,
            )
        )
        for programme_id in programme_ids:
            await self.wait_public(programme_id, 200)
        return str(offer_id)

    async def end_agreement(self, institution_id: str, offer_id: str, *programme_ids: str) -> None:
        """Calls' end of the agreement, and its programmes withdrawn (out of the public catalogue)."""
        ended = CooperationAgreementEnded(
            offer_id=uuid.UUID(offer_id),
            call_id=uuid.uuid4(),
            institution_id=uuid.UUID(institution_id),
            programme_ids=[uuid.UUID(p) for p in programme_ids],
            at=NOW,
        )
        await self.publish(ended)
        for programme_id in programme_ids:
            await self.wait_public(programme_id, 404)

    async def wait_public(self, programme_id: str, status: int) -> None:
        async def reached() -> bool:
            return (await self.client.get(f"{API}/public/programmes/{programme_id}")).status_code == status

        await eventually(reached, timeout=20, interval=0.05)

    async def group(
        self, who: str, institution_id: str, programme_id: str, location_id: str, **changes: Any
    ) -> dict[str, Any]:
        body = group_body(location_id, **changes)
        response = await self.client.post(
            f"{API}/providers/{institution_id}/programmes/{programme_id}/groups", json=body, headers=self.user(who)
        )
        assert response.status_code == 201, response.text
        group: dict[str, Any] = response.json()
        return group

    async def outbox_types(self) -> list[str]:
        async with self.database.session() as session:
            return list((await session.execute(sa.select(outbox.c.event_type).order_by(outbox.c.id))).scalars())


@pytest.fixture
async def catalog(
    database_url: str, tmp_path: Path, token_verifier: TokenVerifier, bearer: Bearer
) -> AsyncIterator[Catalog]:
    settings = CatalogSettings(
        database_url=database_url,
        var_dir=tmp_path,
        event_log_path=tmp_path / "events.db",
        max_document_bytes=100_000,
        relay_poll_interval=0.05,
    )
    clock = FixedClock(NOW)
    directory = FakeDirectory()
    for known in ("liga", "karlis", "peteris", "janis", "spy", "x"):
        directory.know(known)
    adapters = CatalogAdapters(registers=FileRegisters(settings.registers_file), directory=directory)
    app = create_app(settings, clock, adapters)
    async with running(app, token_verifier) as client:
        yield Catalog(client, clock, EmbeddedBus(tmp_path / "events.db"), app.state.runtime.database, bearer, directory)


def refusal(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 422, response.text
    first = response.json()["errors"][0]
    return first["field"], first["rule"]
