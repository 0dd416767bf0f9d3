"""The registers adapter reads catalog's extract over HTTP with the caller's token; anything else is a 503."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from calls.adapters.registers import HttpRegisters
from prasmes_runtime.errors import Unavailable

from .conftest import GOOD, REGISTERS


def _registers(handler: httpx.MockTransport) -> HttpRegisters:
    return HttpRegisters("http://catalog:8002/", transport=handler)


async def test_the_extract_is_read_with_the_callers_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        number = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=REGISTERS[number]) if number in REGISTERS else httpx.Response(404)

    registers = _registers(httpx.MockTransport(answer))
    found = await registers.institution(GOOD, "token-1")
    assert found is not None and found.registration_date == date(2008, 3, 14)
    assert found.licence("P-1234") is not None and found.addresses[0].viis_id == "VIIS-100101"
    assert seen[0].url == "http://catalog:8002/registers/institutions/3360800001"
    assert seen[0].headers["authorization"] == "Bearer token-1"
    assert await registers.institution("0000000000", "token-1") is None


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: httpx.Response(500),
        lambda _: httpx.Response(200, json={"register_number": GOOD}),
        lambda _: httpx.Response(200, content=b"not json"),
    ],
)
async def test_a_failure_or_an_answer_of_another_shape_is_unavailable(answer: object) -> None:
    with pytest.raises(Unavailable):
        await _registers(httpx.MockTransport(answer)).institution(GOOD, "t")  # type: ignore[arg-type]


async def test_no_connection_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Unavailable):
        await _registers(httpx.MockTransport(refuse)).institution(GOOD, "t")


async def test_an_answer_is_kept_for_its_max_age_and_a_failure_is_not() -> None:
    seen: list[str] = []
    status = {"code": 200}
    now = {"t": 1000.0}

    def answer(request: httpx.Request) -> httpx.Response:
        number = request.url.path.rsplit("/", 1)[-1]
        seen.append(number)
        if status["code"] != 200:
            return httpx.Response(status["code"])
        return httpx.Response(200, json=REGISTERS[number]) if number in REGISTERS else httpx.Response(404)

    registers = HttpRegisters(
        "http://catalog:8002", transport=httpx.MockTransport(answer), max_age=30, monotonic=lambda: now["t"]
    )
    first = await registers.institution(GOOD, "t1")
    assert await registers.institution(f" {GOOD} ", "t2") == first and seen == [GOOD]  # kept: one request
    assert await registers.institution("0000000000", "t1") is None
    assert await registers.institution("0000000000", "t1") is None and seen == [GOOD, "0000000000"]
    now["t"] += 31  # older than its max age: asked again, and a failure then is a 503, not the old answer
    status["code"] = 500
    with pytest.raises(Unavailable):
        await registers.institution(GOOD, "t1")
    status["code"] = 200
    assert await registers.institution(GOOD, "t1") == first and seen == [GOOD, "0000000000", GOOD, GOOD]
