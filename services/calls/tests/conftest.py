"""Fixtures of the calls service's tests: the app on both databases with a movable clock, the registers in memory
(catalog-shaped answers), catalog's and accounts' events delivered as those services publish them, and the seeded
fourth call (IMK-4)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from calls.adapters.registers import StaticRegisters
from calls.app import DEFINITION, CallsAdapters
from prasmes_contracts.accounts import StudiesCompleted
from prasmes_contracts.catalog import (
    GroupScheduled,
    ProgrammeRegistered,
    ProviderApproved,
    ProviderRegistered,
    ProviderUserAdded,
)
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_testing import samples
from prasmes_testing.harness import ServiceHarness, harness, local_settings

RIGA = ZoneInfo("Europe/Riga")
NOW = datetime(2025, 10, 1, 12, 0, tzinfo=RIGA).astimezone(UTC)  # inside IMK-4's offer window
GOOD = "3360800001"
NEW = "3360800002"
ICT = "Datorsistēmas, datubāzes un datortīkli"
SMALL_CAP = 60_000


def riga(*args: int) -> datetime:
    return datetime(*args, tzinfo=RIGA).astimezone(UTC)  # type: ignore[misc]


def _licence(
    number: str, title: str, hours: int, theory: int, kind: str = "professional_development"
) -> dict[str, Any]:
    return {
        "licence_number": number,
        "licence_date": "2012-08-20" if kind == "vocational" else "2023-05-10",
        "title": title,
        "hours": hours,
        "theory_hours": theory,
        "practice_hours": hours - theory,
        "content_summary": "...",
        "accredited": True,
        "kind": kind,
    }


LICENCES = {
    "P-1234": ("Datu analīze ar Python", 160, 64),
    "P-2001": ("Kiberdrošības pamati", 120, 40),
    "P-3003": ("Datortīklu administrēšana", 160, 60),
    "P-4004": ("Mākoņpakalpojumi", 80, 30),
}
REGISTERS = {
    GOOD: {
        "register_number": GOOD,
        "name": "Rīgas Datorikas mācību centrs",
        "legal_address": "Brīvības iela 100, Rīga, LV-1001",
        "registration_date": "2008-03-14",
        "accredited": True,
        "accreditation_valid_until": "2030-06-30",
        "licensed_programmes": [
            *(_licence(n, t, h, th) for n, (t, h, th) in LICENCES.items()),
            _licence("35b 481 01 1", "Programmēšana", 1920, 800, "vocational"),
        ],
        "addresses": [
            {"viis_id": "VIIS-100101", "address": "Brīvības iela 100, Rīga, LV-1001", "city": "Rīga"},
            {"viis_id": "VIIS-100102", "address": "Rīgas iela 5, Valmiera, LV-4201", "city": "Valmiera"},
        ],
        "checks": [],
    },
    NEW: {
        "register_number": NEW,
        "name": "Jaunā IT akadēmija",
        "legal_address": "Krišjāņa Barona iela 20, Rīga, LV-1011",
        "registration_date": "2024-02-01",
        "accredited": False,
        "accreditation_valid_until": None,
        "licensed_programmes": [_licence("P-5100", "Tīmekļa izstrāde", 200, 80)],
        "addresses": [{"viis_id": "VIIS-200201", "address": "Krišjāņa Barona iela 20, Rīga, LV-1011", "city": "Rīga"}],
    },
}


@dataclass
class World:
    """The calls app running, its clock, the registers, and the institutions and programmes catalog announced."""

    svc: ServiceHarness
    clock: FixedClock
    registers: StaticRegisters
    call_id: str = ""
    institutions: dict[str, uuid.UUID] = field(default_factory=dict)
    programmes: dict[str, uuid.UUID] = field(default_factory=dict)
    """Licence -> programme id, for the good institution."""

    @property
    def client(self) -> httpx.AsyncClient:
        return self.svc.client

    def admin(self) -> dict[str, str]:
        return self.svc.as_("martins", "agency_admin")

    def officer(self) -> dict[str, str]:
        return self.svc.as_("ilze", "agency_officer")

    def liga(self) -> dict[str, str]:
        return self.svc.as_("liga", "provider_admin")

    async def institution(self, number: str, user: str, *, approved: bool = True) -> uuid.UUID:
        institution_id = uuid.uuid4()
        events: list[Any] = [
            ProviderRegistered(institution_id=institution_id, at=NOW, name=f"Iestāde {number}", register_number=number),
            ProviderUserAdded(institution_id=institution_id, at=NOW, user_id=user, role="provider_admin"),
        ]
        if approved:
            events.append(ProviderApproved(institution_id=institution_id, at=NOW))
        await self.svc.deliver(*events)
        self.institutions[user] = institution_id
        return institution_id

    async def programme(self, institution_id: uuid.UUID, licence: str, **changes: Any) -> uuid.UUID:
        title, hours, _ = LICENCES.get(licence, ("Cita programma", 100, 50))
        values: dict[str, Any] = {
            "programme_id": uuid.uuid4(),
            "institution_id": institution_id,
            "at": NOW,
            "title": {"lv": title, "en": title},
            "licence_number": licence,
            "programme_group": ICT,
            "form": "in_person",
            "digcomp_level": 5,
            "hours": hours,
            "digital_share_percent": Decimal("80"),
            "qualifications": ["programmesanas_tehnikis"],
            "cost_per_participant": Decimal("2.00") * hours,
            "coefficient_table_version": 1,
        } | changes
        await self.svc.deliver(ProgrammeRegistered(**values))
        programme_id: uuid.UUID = values["programme_id"]
        return programme_id

    async def delivered_group(self, institution_id: uuid.UUID, programme_id: uuid.UUID, completers: int) -> None:
        group_id = uuid.uuid4()
        scheduled = GroupScheduled(
            group_id=group_id,
            programme_id=programme_id,
            institution_id=institution_id,
            at=NOW,
            capacity=20,
            start_date=date(2024, 2, 1),
            end_date=date(2024, 5, 1),
            city="Rīga",
            language="lv",
        )
        completed = [
            StudiesCompleted(
                enrolment_id=uuid.uuid4(),
                application_id=uuid.uuid4(),
                learner_id=f"learner-{i}",
                project_code="IMK",
                programme_id=programme_id,
                group_id=group_id,
                institution_id=institution_id,
                completed_on=date(2024, 5, 1),
                hours_attended=40,
                result="passed",
            )
            for i in range(completers)
        ]
        await self.svc.deliver(scheduled, *completed)

    async def start(self, headers: dict[str, str] | None = None) -> str:
        response = await self.client.post(f"/calls/{self.call_id}/offers", headers=headers or self.liga())
        assert response.status_code == 201, response.text
        offer_id: str = response.json()["id"]
        return offer_id

    async def upload(
        self,
        offer_id: str,
        kind: str,
        content: bytes | None = None,
        *,
        programme_id: uuid.UUID | None = None,
        media_type: str = "application/pdf",
        filename: str = "dokuments.pdf",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if content is None:
            content = samples.pades_pdf() if kind == "signed_statement" else samples.plain_pdf()
        params: dict[str, str] = {"kind": kind, "filename": filename}
        if programme_id is not None:
            params["programme_id"] = str(programme_id)
        return await self.client.post(
            f"/offers/{offer_id}/attachments",
            params=params,
            content=content,
            headers={**(headers or self.liga()), "Content-Type": media_type},
        )

    async def complete_offer(self, offer_id: str, licences: tuple[str, ...] = ("P-1234", "P-2001")) -> None:
        """A draft that passes every check: both locations, the programmes as licensed, every document."""
        liga = self.liga()
        locations = [
            {"address": "Brīvības iela 100, Rīga, LV-1001", "city": "Rīga", "viis_id": "VIIS-100101"},
            {"address": "Rīgas iela 5, Valmiera, LV-4201", "city": "Valmiera", "viis_id": "VIIS-100102"},
        ]
        put = await self.client.put(f"/offers/{offer_id}/locations", json={"locations": locations}, headers=liga)
        assert put.status_code == 200, put.text
        programmes = [programme_body(self.programmes[licence], licence) for licence in licences]
        put = await self.client.put(f"/offers/{offer_id}/programmes", json={"programmes": programmes}, headers=liga)
        assert put.status_code == 200, put.text
        terms = {
            "funding_source": "IMK",
            "programme_ids": [str(self.programmes[licence]) for licence in licences],
            "statements": ["data_true", "no_double_funding", "call_terms_accepted"],
        }
        put = await self.client.put(f"/offers/{offer_id}/terms", json=terms, headers=liga)
        assert put.status_code == 200, put.text
        for kind in ("application", "experience", "signed_statement"):
            assert (await self.upload(offer_id, kind)).status_code == 201
        for licence in licences:
            uploaded = await self.upload(offer_id, "curriculum", programme_id=self.programmes[licence])
            assert uploaded.status_code == 201, uploaded.text


def programme_body(programme_id: uuid.UUID, licence: str, **changes: Any) -> dict[str, Any]:
    _, hours, theory = LICENCES[licence]
    return {
        "programme_id": str(programme_id),
        "theory_hours": theory,
        "practice_hours": hours - theory,
        "cost_per_participant": str(Decimal("2.00") * hours),
        "provision": {
            "equipment": "Dators ar 8 GB RAM un tīmekļa kameru; mācību klasē tas ir nodrošināts",
            "operating_systems": ["windows", "linux"],
        },
        "location_viis_ids": ["VIIS-100101"],
    } | changes


@pytest.fixture
async def world(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[World]:
    settings = local_settings(
        DEFINITION, database_url, tmp_path, relay_poll_interval=0.05, max_attachment_bytes=SMALL_CAP
    )
    clock = FixedClock(NOW)
    registers = StaticRegisters(dict(REGISTERS))
    async with harness(DEFINITION, settings, token_issuer, clock, CallsAdapters(registers=registers)) as svc:
        w = World(svc, clock, registers)
        seeded = await svc.client.post("/calls/seed", headers=w.admin())
        assert seeded.status_code == 200, seeded.text
        w.call_id = seeded.json()[0]["id"]
        good = await w.institution(GOOD, "liga")
        for licence in LICENCES:
            w.programmes[licence] = await w.programme(good, licence)
        history = [await w.programme(good, "P-9001", digcomp_level=3), await w.programme(good, "P-9002")]
        for programme_id in history:
            await w.delivered_group(good, programme_id, completers=10)
        yield w
