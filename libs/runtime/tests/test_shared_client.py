"""A service's outgoing HTTP client is made once per event loop and reused (its connections with it)."""

from __future__ import annotations

import asyncio

import httpx
from prasmes_runtime.client import SharedClient


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"path": request.url.path})


async def test_one_client_serves_every_call_on_a_loop() -> None:
    shared = SharedClient(transport=httpx.MockTransport(_answer))
    first = shared.client()
    answers = await asyncio.gather(*(shared.client().get(f"http://registers/{n}") for n in range(5)))
    assert shared.client() is first
    assert [a.json()["path"] for a in answers] == [f"/{n}" for n in range(5)]


async def test_a_closed_client_is_made_again() -> None:
    shared = SharedClient(transport=httpx.MockTransport(_answer))
    first = shared.client()
    await first.aclose()
    assert shared.client() is not first
    assert (await shared.client().get("http://registers/x")).status_code == 200


def test_each_event_loop_gets_its_own_client() -> None:
    shared = SharedClient(transport=httpx.MockTransport(_answer))

    async def made() -> httpx.AsyncClient:
        return shared.client()

    assert asyncio.run(made()) is not asyncio.run(made())
