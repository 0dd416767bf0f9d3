"""From an offer to a published programme, on real PostgreSQL (a database each) and a real Kafka broker, with the
catalog and calls services in-process: catalog's institution and programme reach calls through the bus; the offer
is submitted, evaluated, approved and its agreement signed in calls; calls' CooperationAgreementSigned publishes the
programme in catalog's public catalogue (ProgrammePublished once), and the day after the agreement's last valid day
calls' CooperationAgreementEnded takes it out of the catalogue again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from calls.adapters.registers import StaticRegisters
from calls.app import DEFINITION as CALLS
from calls.app import CallsAdapters
from calls.service.evaluations import end_agreements_over
from catalog.app import DEFINITION as CATALOG
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.messaging import outbox
from prasmes_testing import samples
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.servers import create_database
from prasmes_testing.support import eventually

from tests.integration.catalogue_support import ILZE, LIGA, Who, institution_with_a_programme, ok

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
RIGA = ZoneInfo("Europe/Riga")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TIMELINE = {
    "applications_open_on": "2026-02-16",
    "applications_close_on": "2026-02-27",
    "offers_open_at": "2026-03-01T00:00",
    "offers_deadline_at": "2026-03-13T23:59",
    "evaluation_starts_on": "2026-03-16",
    "evaluation_ends_on": "2026-03-27",
    "decision_on": "2026-03-30",
    "agreements_from": "2026-03-30",
    "publication_from": "2026-03-30",
    "delivery_ends_on": "2026-12-31",
}
CALL = {
    "code": "IT-1",
    "title": {"lv": "Integrācijas uzaicinājums"},
    "project_code": "IMK",
    "timeline": TIMELINE,
    "max_programmes_per_institution": 3,
    "institution_criteria": [{"code": "I1", "rule": "accredited"}],
    "programme_criteria": [
        {"code": "P1", "rule": "licensed"},
        {"code": "P4", "rule": "digcomp_range", "params": {"min": 4, "max": 6}},
    ],
}


def riga(*args: int) -> datetime:
    return datetime(*args, tzinfo=RIGA).astimezone(UTC)  # type: ignore[misc]


@dataclass
class Platform:
    catalog: ServiceHarness
    calls: ServiceHarness
    calls_clock: FixedClock
    registers: StaticRegisters

    async def ok(self, svc: ServiceHarness, method: str, path: str, who: Who, **kw: Any) -> Any:
        return await ok(svc, method, path, who, **kw)


MARTINS: Who = ("martins", "agency_admin")


@pytest.fixture
async def platform(
    kafka_bootstrap: str, postgres_server_url: str, tmp_path: Path, token_issuer: TokenIssuer, unique: str
) -> AsyncIterator[Platform]:
    kafka = {"bus": "kafka", "kafka_bootstrap_servers": kafka_bootstrap, "consumer_group_suffix": f".{unique}"}
    catalog_db = create_database(postgres_server_url, f"catalog_{unique}")
    calls_db = create_database(postgres_server_url, f"calls_{unique}")
    calls_clock, registers = FixedClock(NOW), StaticRegisters()
    async with AsyncExitStack() as stack:
        catalog = await stack.enter_async_context(
            harness(
                CATALOG,
                local_settings(CATALOG, catalog_db, tmp_path / "catalog", **kafka),
                token_issuer,
                FixedClock(NOW),
            )
        )
        calls_settings = local_settings(CALLS, calls_db, tmp_path / "calls", **kafka)
        calls = await stack.enter_async_context(
            harness(CALLS, calls_settings, token_issuer, calls_clock, CallsAdapters(registers=registers))
        )
        yield Platform(catalog, calls, calls_clock, registers)


async def _offer(p: Platform, call_id: str, programme: dict[str, Any], viis_ids: list[str]) -> str:
    offer = await p.ok(p.calls, "POST", f"/calls/{call_id}/offers", LIGA)
    path = f"/offers/{offer['id']}"
    extract = p.registers.institutions[samples.GOOD_REGISTER_NUMBER]
    locations = [a for a in extract["addresses"] if a["viis_id"] in viis_ids]
    await p.ok(p.calls, "PUT", f"{path}/locations", LIGA, json={"locations": locations})
    offered = {
        "programme_id": programme["id"],
        "theory_hours": 64,
        "practice_hours": 96,
        "cost_per_participant": str(Decimal("2.00") * 160),
        "provision": {
            "equipment": samples.programme_payload([], "")["equipment"],
            "operating_systems": ["windows", "linux"],
        },
        "location_viis_ids": viis_ids,
    }
    await p.ok(p.calls, "PUT", f"{path}/programmes", LIGA, json={"programmes": [offered]})
    terms = {
        "funding_source": "IMK",
        "programme_ids": [programme["id"]],
        "statements": ["data_true", "no_double_funding", "call_terms_accepted"],
    }
    await p.ok(p.calls, "PUT", f"{path}/terms", LIGA, json=terms)
    for kind, params in (
        ("application", {}),
        ("experience", {}),
        ("signed_statement", {}),
        ("curriculum", {"programme_id": programme["id"]}),
    ):
        content = samples.pades_pdf() if kind == "signed_statement" else samples.plain_pdf()
        await p.ok(
            p.calls,
            "POST",
            f"{path}/attachments",
            LIGA,
            params={"kind": kind, "filename": f"{kind}.pdf", **params},
            content=content,
            headers={"Content-Type": "application/pdf"},
        )
    checks = await p.ok(p.calls, "POST", f"{path}/checks", LIGA)
    assert checks["ready"], checks["problems"]
    await p.ok(p.calls, "POST", f"{path}/submit", LIGA)
    offer_id: str = offer["id"]
    return offer_id


async def test_a_signed_agreement_of_an_approved_offer_publishes_its_programme(platform: Platform) -> None:
    p = platform
    institution_id, programme = await institution_with_a_programme(p.catalog)
    extract = await p.ok(p.catalog, "GET", f"/registers/institutions/{samples.GOOD_REGISTER_NUMBER}", ILZE)
    p.registers.institutions[samples.GOOD_REGISTER_NUMBER] = extract
    call = await p.ok(p.calls, "POST", "/calls", MARTINS, json=CALL)

    async def calls_knows_the_programme() -> bool:
        response = await p.calls.client.get("/institutions/me/programmes", headers=p.calls.as_(*LIGA))
        return response.status_code == 200 and [x["programme_id"] for x in response.json()] == [programme["id"]]

    await eventually(calls_knows_the_programme, timeout=60)  # ProviderRegistered, Approved, UserAdded, Programme...
    viis_ids = [a["viis_id"] for a in extract["addresses"] if a["address"].startswith("Brīvības iela 100")]
    offer_id = await _offer(p, call["id"], programme, viis_ids)

    p.calls_clock.at = riga(2026, 3, 16, 9, 0)
    await p.ok(p.calls, "PUT", f"/offers/{offer_id}/evaluator", MARTINS, json={"evaluator_id": "ilze"})
    findings = [{"criterion": c, "result": "meets", "note": ""} for c in ("I1", "P1", "P4")]
    evaluated = await p.ok(p.calls, "PUT", f"/offers/{offer_id}/findings", ILZE, json={"findings": findings})
    assert evaluated["complete"]
    p.calls_clock.at = riga(2026, 3, 30, 10, 0)
    await p.ok(p.calls, "POST", f"/offers/{offer_id}/decision", MARTINS, json={"outcome": "approved"})
    agreement = {"number": "IT-1/2026/1", "valid_from": "2026-03-30", "valid_until": "2026-12-31"}
    await p.ok(p.calls, "POST", f"/offers/{offer_id}/agreement", MARTINS, json=agreement)
    signed = await p.ok(
        p.calls,
        "POST",
        f"/offers/{offer_id}/agreement/signature",
        MARTINS,
        params={"filename": "ligums.edoc"},
        content=samples.asice_container(),
        headers={"Content-Type": "application/vnd.etsi.asic-e+zip"},
    )
    assert signed["signed"] and signed["programme_ids"] == [programme["id"]]

    async def public() -> bool:
        return (await p.catalog.client.get(f"/public/programmes/{programme['id']}")).status_code == 200

    await eventually(public, timeout=60)
    mine = await p.ok(p.catalog, "GET", f"/providers/{institution_id}/programmes/{programme['id']}", LIGA)
    assert mine["status"] == "published"
    published = (
        sa.select(sa.func.count())
        .select_from(outbox)
        .where(outbox.c.event_type == "lv.prasmes.catalog.ProgrammePublished.v1")
    )
    async with p.catalog.database.session() as session:
        assert await session.scalar(published) == 1
    assert uuid.UUID(offer_id)

    p.calls_clock.at = riga(2027, 1, 1, 0, 0)  # the day after the agreement's last
    assert await end_agreements_over(p.calls.app.state.runtime.context) == 1

    async def withdrawn() -> bool:
        return (await p.catalog.client.get(f"/public/programmes/{programme['id']}")).status_code == 404

    await eventually(withdrawn, timeout=60)
