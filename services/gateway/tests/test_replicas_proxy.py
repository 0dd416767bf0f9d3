"""A service's replicas behind the proxy: requests spread over them, and one a replica could not take goes to the
next only where that cannot apply it twice (`gateway.upstream`: nothing was sent, or an idempotent request's
connection ended before a status line). The replicas are real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from gateway.settings import GatewaySettings
from gateway.upstream import Origin, Replicas
from prasmes_testing.servers import free_port

GatewayFactory = Callable[..., tuple[Any, httpx.AsyncClient]]
ANSWER = "answer"
HANG_UP = "hang up"
"""Read the whole request, then close the connection without a byte of answer (a replica killed mid-request)."""
HALF_ANSWER = "half answer"
"""A status line and headers, then the connection ends before the body its Content-Length announces."""


class Replica:
    """A raw HTTP/1.1 server: answers `{"replica": name}`, or misbehaves as `behaviour` says; records each request's
    method and path."""

    def __init__(self, name: str, behaviour: str = ANSWER) -> None:
        self.name, self.behaviour = name, behaviour
        self.seen: list[str] = []
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.url = ""

    async def start(self) -> Replica:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def close(self) -> None:
        """As a killed process: the listening socket and every connection close."""
        if self.server is not None:
            self.server.close()
            for writer in self.writers:
                writer.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, path = head.split(b" ", 2)[:2]
                await reader.readexactly(_content_length(head))
                self.seen.append(f"{method.decode()} {path.decode()}")
                if self.behaviour == HANG_UP:
                    return
                if self.behaviour == HALF_ANSWER:
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{")
                    await writer.drain()
                    return
                body = json.dumps({"replica": self.name}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
                )
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


@pytest.fixture
async def replicas() -> AsyncIterator[Callable[..., Any]]:
    started: list[Replica] = []

    async def start(name: str, behaviour: str = ANSWER) -> Replica:
        started.append(await Replica(name, behaviour).start())
        return started[-1]

    yield start
    for replica in started:
        await replica.close()


def _nothing_listens() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def test_requests_are_spread_over_every_replica(make_gateway: GatewayFactory, replicas: Any) -> None:
    one, two = await replicas("one"), await replicas("two")
    _, client = make_gateway(service_urls={"svc": [one.url, two.url]})

    answers = [(await client.get(f"/api/svc/things/{n}")).json()["replica"] for n in range(10)]

    assert sorted(answers) == ["one"] * 5 + ["two"] * 5
    assert answers[:4] in (["one", "two", "one", "two"], ["two", "one", "two", "one"]), "in turn"
    assert len(one.seen) == len(two.seen) == 5


async def test_a_replica_that_refuses_connections_is_passed_over_for_every_method(
    make_gateway: GatewayFactory, replicas: Any
) -> None:
    live = await replicas("live")
    _, client = make_gateway(service_urls={"svc": [_nothing_listens(), live.url]})

    answers = [await client.post("/api/svc/things", json={"n": n}) for n in range(4)]
    answers += [await client.get("/api/svc/things"), await client.patch("/api/svc/things/1", json={})]

    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert {a.json()["replica"] for a in answers} == {"live"}
    assert live.seen.count("POST /things") == 4, "each POST reached the live replica once"


async def test_a_replica_killed_after_it_started_serving_is_passed_over(
    make_gateway: GatewayFactory, replicas: Any
) -> None:
    one, two = await replicas("one"), await replicas("two")
    _, client = make_gateway(service_urls={"svc": [one.url, two.url]})
    assert {(await client.get("/api/svc/warm")).json()["replica"] for _ in range(4)} == {"one", "two"}

    await one.close()  # its pooled connections end; new ones are refused
    await asyncio.sleep(0.05)  # the gateway sees its connections end (writing on one meanwhile: see the next test)
    answers = [await client.post("/api/svc/things", json={"n": n}) for n in range(6)]

    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert {a.json()["replica"] for a in answers} == {"two"}


async def test_a_post_whose_replica_dies_mid_request_is_not_sent_again(
    make_gateway: GatewayFactory, replicas: Any
) -> None:
    """The POST reached the replica, which may have applied it: sending it to the other could apply it twice."""
    dying, other = await replicas("dying", HANG_UP), await replicas("other")
    _, client = make_gateway(service_urls={"svc": [dying.url, other.url]})

    statuses = [(await client.post("/api/svc/accounts", json={"n": n})).status_code for n in range(4)]

    assert sorted(statuses) == [200, 200, 503, 503], "the two that reached the dying replica failed"
    assert dying.seen == ["POST /accounts"] * 2 and other.seen == ["POST /accounts"] * 2, "each POST sent once"
    keyed = await client.post("/api/svc/accounts", json={}, headers={"Idempotency-Key": "k-1"})
    keyed_again = await client.post("/api/svc/accounts", json={}, headers={"Idempotency-Key": "k-1"})
    # No service deduplicates by the key: a keyed POST is no safer to send twice than any other.
    assert sorted([keyed.status_code, keyed_again.status_code]) == [200, 503]
    assert len(dying.seen) + len(other.seen) == 6


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"])
async def test_an_idempotent_request_whose_replica_dies_mid_request_goes_to_another(
    make_gateway: GatewayFactory, replicas: Any, method: str
) -> None:
    dying, other = await replicas("dying", HANG_UP), await replicas("other")
    _, client = make_gateway(service_urls={"svc": [dying.url, other.url]})

    statuses = [(await client.request(method, f"/api/svc/things/{n}")).status_code for n in range(4)]

    assert statuses == [200] * 4
    assert len(dying.seen) == 2 and len(other.seen) == 4, "two reached the dying replica, then the other"


async def test_an_answer_cut_off_after_its_status_is_not_sent_again(
    make_gateway: GatewayFactory, replicas: Any
) -> None:
    """Past the status line the replica has answered: the request is not the one to retry, even a GET."""
    cut, other = await replicas("cut", HALF_ANSWER), await replicas("other")
    _, client = make_gateway(service_urls={"svc": [cut.url, other.url]})

    statuses = [(await client.get(f"/api/svc/things/{n}")).status_code for n in range(2)]

    assert sorted(statuses) == [200, 503]
    assert len(cut.seen) == len(other.seen) == 1


async def test_each_replica_is_tried_at_most_once(make_gateway: GatewayFactory, replicas: Any) -> None:
    one, two = await replicas("one", HANG_UP), await replicas("two", HANG_UP)
    _, client = make_gateway(service_urls={"svc": [one.url, two.url]})

    response = await client.get("/api/svc/things")

    assert response.status_code == 503 and response.json()["service"] == "svc"
    assert len(one.seen) == len(two.seen) == 1


async def test_when_no_replica_answers_the_service_is_unavailable(make_gateway: GatewayFactory) -> None:
    _, client = make_gateway(service_urls={"svc": [_nothing_listens(), _nothing_listens()]})

    response = await client.post("/api/svc/things", json={})

    assert response.status_code == 503
    assert response.json() == {
        "error": "service_unavailable",
        "service": "svc",
        "message": "service svc is unavailable (ConnectError)",
    }


def test_a_replica_that_refused_sits_out_its_cool_down_then_is_tried_again() -> None:
    a, b = Origin.of("http://127.0.0.1:1"), Origin.of("http://127.0.0.1:2")
    replicas = Replicas([a, b], cooldown=3.0)
    assert [list(replicas.order(0.0)) for _ in range(2)] == [[a, b], [b, a]]

    replicas.sit_out(a, now=10.0)

    assert [replicas.order(t)[0] for t in (10.0, 11.0, 12.9)] == [b, b, b], "a is tried last meanwhile"
    assert list(replicas.order(12.9)) == [b, a], "still tried when b fails too"
    assert {replicas.order(13.0)[0] for _ in range(2)} == {a, b}, "back in turn after it"


async def test_readiness_names_a_service_with_a_replica_down_degraded(
    make_gateway: GatewayFactory, upstream: Any
) -> None:
    _, client = make_gateway(service_urls={"echo": upstream.url, "svc": [upstream.url, _nothing_listens()]})

    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"echo": "ok", "svc": "degraded"}


async def test_the_merged_document_comes_from_a_replica_that_answers(
    make_gateway: GatewayFactory, upstream: Any
) -> None:
    _, client = make_gateway(service_urls={"echo": [_nothing_listens(), upstream.url]})

    document = (await client.get("/openapi.json")).json()

    assert document["info"]["x-unavailable"] == []
    assert "/api/echo/programmes" in document["paths"]


def test_service_urls_take_one_url_or_a_list_of_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_URLS", '{"catalog": "http://catalog:8000", "accounts": ["http://a1", "http://a2"]}')

    settings = GatewaySettings()

    assert settings.service_urls == {"catalog": "http://catalog:8000", "accounts": ["http://a1", "http://a2"]}
    assert settings.service_replicas() == {"catalog": ["http://catalog:8000"], "accounts": ["http://a1", "http://a2"]}
    monkeypatch.setenv("SERVICE_URLS", '{"accounts": []}')
    with pytest.raises(ValueError, match="SERVICE_URLS\\['accounts'\\] lists no URL"):
        GatewaySettings()
