"""The proxy's own HTTP/1.1 client (`gateway.upstream`): keep-alive, framing, failures, against scripted servers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import uvloop
from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.upstream import Origin, UpstreamError, UpstreamPool

Answer = Callable[[bytes], Awaitable[bytes | None]]
"""The scripted server's answer to a request head (None: close without answering)."""


class Scripted:
    """A raw TCP server answering each request with `answer(request head)`; counts the connections it accepted."""

    def __init__(self, answer: Answer, *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        """Close the connection after each answer (an answer framed by the end of the connection)."""
        self.connections = 0
        self.requests: list[bytes] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Origin:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return Origin.of(f"http://127.0.0.1:{port}")

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        for writer in self.writers:
            writer.close()
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                answer = await self.answer(head)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def fixed(answer: bytes | None) -> Answer:
    async def respond(_: bytes) -> bytes | None:
        return answer

    return respond


OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    pool = UpstreamPool(timeout=2.0, connect_timeout=1.0)
    yield pool
    await pool.aclose()


async def test_a_connection_is_kept_and_reused(pool: UpstreamPool) -> None:
    server = Scripted(fixed(OK))
    async with server as origin:
        first = await pool.request(origin, "GET", "/a?x=1", [(b"accept", b"*/*")])
        second = await pool.request(origin, "POST", "/b", [(b"content-type", b"application/json")], b'{"a":1}')

    assert (first.status, first.body, second.status) == (200, b'{"ok":true}', 200)
    assert (b"content-type", b"application/json") in first.headers
    assert server.connections == 1
    get, post = server.requests
    assert get.startswith(b"GET /a?x=1 HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"content-length" not in get and b"\r\naccept: */*\r\n" in get
    assert post.startswith(b"POST /b HTTP/1.1\r\n")
    assert b"\r\ncontent-length: 7\r\n" in post and post.endswith(b'\r\n\r\n{"a":1}')


async def test_a_body_less_post_says_so(pool: UpstreamPool) -> None:
    server = Scripted(fixed(OK))
    async with server as origin:
        await pool.request(origin, "POST", "/b", [])

    assert b"\r\ncontent-length: 0\r\n" in server.requests[0]


async def test_a_chunked_answer_is_passed_on_decoded_of_its_chunks_only(pool: UpstreamPool) -> None:
    head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-encoding: gzip\r\n\r\n"
    chunked = head + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    server = Scripted(fixed(chunked))
    async with server as origin:
        answer = await pool.request(origin, "GET", "/", [])
        again = await pool.request(origin, "GET", "/", [])

    assert (answer.body, again.body) == (b"abcde", b"abcde")
    assert (b"content-encoding", b"gzip") in answer.headers
    assert server.connections == 1


async def test_an_answer_ended_by_closing_the_connection_is_complete_and_not_reused(pool: UpstreamPool) -> None:
    server = Scripted(fixed(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it"), close_after=True)
    async with server as origin:
        answer = await pool.request(origin, "GET", "/", [])
        await pool.request(origin, "GET", "/", [])

    assert answer.body == b"all of it"
    assert server.connections == 2


async def test_a_head_answer_has_no_body_whatever_its_length_says(pool: UpstreamPool) -> None:
    server = Scripted(fixed(b"HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n"))
    async with server as origin:
        answer = await asyncio.wait_for(pool.request(origin, "HEAD", "/", []), 2)

    assert (answer.status, answer.body) == (200, b"")
    assert (b"content-length", b"42") in answer.headers


async def test_a_connection_the_service_closed_while_idle_is_not_used(pool: UpstreamPool) -> None:
    server = Scripted(fixed(OK))
    async with server as origin:
        await pool.request(origin, "GET", "/", [])
        for writer in server.writers:
            writer.close()  # the service's keep-alive ran out
        await asyncio.sleep(0.05)
        answer = await pool.request(origin, "GET", "/", [])

    assert answer.status == 200
    assert server.connections == 2


async def test_a_connection_older_than_the_keep_alive_expiry_is_not_used() -> None:
    pool = UpstreamPool(timeout=2.0, connect_timeout=1.0, keepalive_expiry=0.01)
    server = Scripted(fixed(OK))
    async with server as origin:
        await pool.request(origin, "GET", "/", [])
        await asyncio.sleep(0.05)
        await pool.request(origin, "GET", "/", [])
    await pool.aclose()

    assert server.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        None,  # closed without a word
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",  # then closed, the body cut short
        b"this is not HTTP\r\n\r\n",
    ],
)
async def test_a_broken_answer_is_an_upstream_error(pool: UpstreamPool, answer: bytes | None) -> None:
    server = Scripted(fixed(answer) if answer else _no_answer, close_after=True)
    async with server as origin:
        with pytest.raises(UpstreamError) as failed:
            await pool.request(origin, "GET", "/", [])

    assert failed.value.kind == "RemoteProtocolError"


async def _no_answer(_: bytes) -> None:
    return None


async def test_a_silent_service_times_out(pool: UpstreamPool) -> None:
    async def silent(_: bytes) -> bytes | None:
        await asyncio.sleep(10)
        return None

    pool = UpstreamPool(timeout=0.2, connect_timeout=1.0)
    async with Scripted(silent) as origin:
        with pytest.raises(UpstreamError) as failed:
            await pool.request(origin, "GET", "/", [])
    await pool.aclose()

    assert failed.value.kind == "ReadTimeout"


async def test_nothing_listening_is_a_connect_error(pool: UpstreamPool) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()

    with pytest.raises(UpstreamError) as failed:
        await pool.request(Origin.of(f"http://127.0.0.1:{port}"), "GET", "/", [])

    assert failed.value.kind == "ConnectError"


async def test_a_request_beyond_the_connection_limit_waits_for_a_free_one() -> None:
    release = asyncio.Event()

    async def slow(_: bytes) -> bytes:
        await release.wait()
        return OK

    pool = UpstreamPool(timeout=2.0, connect_timeout=1.0, max_connections=2)
    server = Scripted(slow)
    async with server as origin:
        requests = [asyncio.create_task(pool.request(origin, "GET", "/", [])) for _ in range(5)]
        await asyncio.sleep(0.1)
        assert server.connections == 2
        release.set()
        answers = await asyncio.gather(*requests)
    await pool.aclose()

    assert [a.status for a in answers] == [200] * 5
    assert server.connections == 2


def test_origins_from_service_urls() -> None:
    assert Origin.of("http://127.0.0.1:8001") == Origin("http", "127.0.0.1", 8001, "", b"127.0.0.1:8001")
    with_path = Origin.of("https://catalog.internal/prefix/")
    assert (with_path.port, with_path.prefix, with_path.host_header) == (443, "/prefix", b"catalog.internal")
    assert Origin.of("http://[::1]:9000").host_header == b"[::1]:9000"
    with pytest.raises(ValueError):
        Origin.of("catalog:8000")


def test_the_proxy_under_uvloop_as_the_launcher_runs_it(
    make_settings: Callable[..., GatewaySettings], upstream: Any
) -> None:
    """uvloop's transports are not asyncio's classes: the pool must not depend on them being so."""
    app = create_app(make_settings())

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            statuses: list[int] = []
            for _ in range(3):
                answers = await asyncio.gather(*(client.post("/api/echo/echo/x", json={"n": n}) for n in range(20)))
                statuses += [a.status_code for a in answers]
            await app.state.upstreams.pool.aclose()
            await app.state.upstream_client.aclose()
            return statuses

    if sys.version_info >= (3, 12):
        statuses = asyncio.run(main(), loop_factory=uvloop.new_event_loop)
    else:
        statuses = uvloop.run(main())

    assert statuses == [200] * 60
    assert len(upstream.seen) == 60
