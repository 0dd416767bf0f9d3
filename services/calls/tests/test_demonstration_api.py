"""The demo's replay of the demonstration call (`POST /dev/demonstration`, dev mode only): on its own past dates,
through calls' own use cases, to a signed agreement whose CooperationAgreementSigned is in the outbox; a second run
changes nothing; a run interrupted half-way resumes; outside dev mode the route does not exist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from calls.adapters.registers import StaticRegisters
from calls.app import DEFINITION, CallsAdapters
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_testing.harness import harness, local_settings

from .conftest import GOOD, REGISTERS, SMALL_CAP, World, riga

TODAY = riga(2026, 12, 1, 9, 0)  # `make run`'s clock: the demonstration's dates are long past
SIGNED = "lv.prasmes.calls.CooperationAgreementSigned.v1"
TABLES = ("calls", "offers", "offer_versions", "offer_attachments", "evaluations", "findings", "decisions")
TABLES += ("agreements",)


@pytest.fixture
async def dev(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[World]:
    """The calls app in dev mode on today's clock, with the demo institution and its programme from catalog."""
    settings = local_settings(
        DEFINITION, database_url, tmp_path, relay_poll_interval=0.05, max_attachment_bytes=SMALL_CAP, dev_mode=True
    )
    clock = FixedClock(TODAY)
    registers = StaticRegisters(dict(REGISTERS))
    async with harness(DEFINITION, settings, token_issuer, clock, CallsAdapters(registers=registers)) as svc:
        w = World(svc, clock, registers)
        institution = await w.institution(GOOD, "liga")
        w.programmes["P-1234"] = await w.programme(institution, "P-1234")
        yield w


def _body(world: World) -> dict[str, Any]:
    return {"provider_admin_id": "liga", "evaluator_id": "ilze", "programme_ids": [str(world.programmes["P-1234"])]}


async def _replay(world: World) -> Any:
    return await world.client.post("/dev/demonstration", json=_body(world), headers=world.admin())


async def _rows(world: World) -> dict[str, int]:
    async with world.svc.database.session() as session:
        return {t: (await session.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}


async def test_the_demonstration_is_replayed_on_its_own_dates_to_a_signed_agreement(dev: World) -> None:
    martins = dev.admin()
    replayed = await dev.client.post("/dev/demonstration", json=_body(dev), headers=martins)
    assert replayed.status_code == 200, replayed.text
    body = replayed.json()
    assert (body["call_code"], body["offer_state"], body["already_done"]) == ("DEMO-2025", "approved", False)
    assert body["programme_ids"] == [str(dev.programmes["P-1234"])]
    assert body["agreement_signed_at"].startswith("2025-07-30")
    assert body["done"][:2] == ["call opened", "offer started"] and body["done"][-1] == "agreement signed"

    call = (await dev.client.get(f"/calls/{body['call_id']}", headers=dev.admin())).json()
    assert [c["code"] for c in call["institution_criteria"]] == ["I1", "I2", "I3"]  # no history on a new platform
    assert "I4" in call["title"]["en"] and call["phase"] == "delivery"
    versions = (await dev.client.get(f"/offers/{body['offer_id']}/versions", headers=dev.liga())).json()
    assert [v["submitted_at"][:10] for v in versions["items"]] == ["2025-06-18"]
    assert len(versions["items"][0]["content"]["attachments"]) == 4
    evaluation = (await dev.client.get(f"/offers/{body['offer_id']}/evaluation", headers=dev.officer())).json()
    assert (evaluation["evaluator_id"], evaluation["complete"]) == ("ilze", True)
    assert {f["result"] for f in evaluation["findings"]} == {"meets"}
    decision = (await dev.client.get(f"/offers/{body['offer_id']}/decision", headers=dev.liga())).json()
    assert (decision["outcome"], decision["decided_at"][:10]) == ("approved", "2025-07-28")

    types = await dev.svc.outbox_types()
    offer_events = [t.split(".")[3] for t in types if ".calls.Offer" in t or t == SIGNED]
    assert offer_events == ["OfferSubmitted", "OfferEvaluated", "OfferApproved", "CooperationAgreementSigned"]
    assert dev.registers.tokens and set(dev.registers.tokens) == {martins["Authorization"].split()[1]}


async def test_a_second_run_finds_it_done_and_changes_nothing(dev: World) -> None:
    first = (await _replay(dev)).json()
    outbox, rows = await dev.svc.outbox_types(), await _rows(dev)
    again = await _replay(dev)
    assert again.status_code == 200, again.text
    assert again.json() | {"done": [], "already_done": True} == again.json()
    assert (again.json()["offer_id"], again.json()["agreement_signed_at"]) == (
        first["offer_id"],
        first["agreement_signed_at"],
    )
    assert await dev.svc.outbox_types() == outbox and outbox.count(SIGNED) == 1
    assert await _rows(dev) == rows


async def test_a_run_interrupted_half_way_resumes_where_it_stopped(dev: World) -> None:
    registered = dev.registers.institutions.pop(GOOD)  # the registers do not answer for it: the run stops
    stopped = await _replay(dev)
    assert stopped.status_code == 409, stopped.text
    dev.registers.institutions[GOOD] = registered

    resumed = await _replay(dev)
    assert resumed.status_code == 200, resumed.text
    done = resumed.json()["done"]
    assert "call opened" not in done and "offer started" not in done
    assert done[:3] == ["locations", "programmes", "terms"] and done[-1] == "agreement signed"
    rows = await _rows(dev)
    assert (rows["calls"], rows["offers"], rows["offer_attachments"], rows["agreements"]) == (1, 1, 4, 1)


async def test_the_replay_refuses_what_would_leave_it_stuck(dev: World) -> None:
    own = _body(dev) | {"evaluator_id": "martins"}
    four_eyes = await dev.client.post("/dev/demonstration", json=own, headers=dev.admin())
    assert four_eyes.status_code == 422 and four_eyes.json()["errors"][0]["rule"] == "four_eyes"
    unknown = _body(dev) | {"programme_ids": ["00000000-0000-0000-0000-000000000001"]}
    not_learned = await dev.client.post("/dev/demonstration", json=unknown, headers=dev.admin())
    assert not_learned.status_code == 409, not_learned.text
    stranger = await dev.client.post(
        "/dev/demonstration", json=_body(dev) | {"provider_admin_id": "nobody"}, headers=dev.admin()
    )
    assert stranger.status_code == 403
    officer = await dev.client.post("/dev/demonstration", json=_body(dev), headers=dev.officer())
    assert officer.status_code == 403
    assert await _rows(dev) == dict.fromkeys(TABLES, 0) and await dev.svc.outbox_types() == []


async def test_outside_dev_mode_the_route_does_not_exist(world: World) -> None:
    before = await world.svc.outbox_types()
    body = {"provider_admin_id": "liga", "evaluator_id": "ilze", "programme_ids": [str(world.programmes["P-1234"])]}
    refused = await world.client.post("/dev/demonstration", json=body, headers=world.admin())
    assert refused.status_code == 404
    assert (await world.client.post("/dev/demonstration", json=body)).status_code == 401
    assert (await world.client.post("/dev/demonstration", json=body, headers=world.officer())).status_code == 403
    assert await world.svc.outbox_types() == before
