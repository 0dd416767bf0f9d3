"""The checks of an offer read what they need once, in one session, with the register asked alongside: a register
outage is still a 503 (never checks on a guess), a failed read leaves no lookup behind, and a check run asks the
register once."""

from __future__ import annotations

import asyncio
import gc
import uuid

import pytest
from calls.service import offers
from calls.service.offers import Actor
from prasmes_runtime.errors import NotFound, Unavailable

from .conftest import World


async def test_the_checks_ask_the_register_once_and_a_register_outage_is_a_503(world: World) -> None:
    offer_id = await world.start()
    await world.complete_offer(offer_id)
    before = len(world.registers.tokens)
    checked = await world.client.post(f"/offers/{offer_id}/checks", headers=world.liga())
    assert checked.status_code == 200 and checked.json() == {"ready": True, "problems": []}
    assert len(world.registers.tokens) == before + 1
    world.registers.answers = False
    refused = await world.client.post(f"/offers/{offer_id}/checks", headers=world.liga())
    assert refused.status_code == 503, refused.text
    submitted = await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())
    assert (
        submitted.status_code == 503
        and (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["state"] == "draft"
    )


async def test_a_failed_read_cancels_the_register_lookup(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    offer_id = uuid.UUID(await world.start())
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(number: str, token: str) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def missing(*_: object) -> None:
        await started.wait()
        raise NotFound("no such call")

    monkeypatch.setattr(world.registers, "institution", slow)
    monkeypatch.setattr(offers, "existing_call", missing)
    database, clock = world.svc.database, world.svc.clock
    with pytest.raises(NotFound):
        await offers.run_checks(database, clock, world.registers, Actor("liga", False, "t"), offer_id)
    await asyncio.wait_for(cancelled.wait(), 5)


async def test_an_outage_after_a_failed_read_is_not_left_unretrieved(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer_id = uuid.UUID(await world.start())
    world.registers.answers = False
    failed = asyncio.Event()
    original = world.registers.institution

    async def outage(number: str, token: str) -> None:
        try:
            await original(number, token)
        finally:
            failed.set()

    async def missing(*_: object) -> None:
        await failed.wait()
        await asyncio.sleep(0)
        raise NotFound("no such call")

    monkeypatch.setattr(world.registers, "institution", outage)
    monkeypatch.setattr(offers, "existing_call", missing)
    loop = asyncio.get_running_loop()
    lost: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: lost.append(context))
    try:
        with pytest.raises(NotFound):
            await offers.run_checks(
                world.svc.database, world.svc.clock, world.registers, Actor("liga", False, "t"), offer_id
            )
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert not [c for c in lost if isinstance(c.get("exception"), Unavailable)]
