"""The proxy, over real HTTP to an upstream served by uvicorn."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from gateway.proxy import _response
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


async def chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


async def test_get_forwards_path_query_and_headers(gateway: httpx.AsyncClient, upstream: Any) -> None:
    response = await gateway.get(
        "/api/echo/echo/items/a%2Fb?x=1&y=two%20words",
        headers={"Authorization": "Bearer abc", "X-Request-ID": "req-123", "Accept-Language": "lv"},
    )

    assert response.status_code == 200
    assert response.json() == {"echo": True}
    [seen] = upstream.seen
    assert (seen.method, seen.raw_path, seen.query) == ("GET", "/echo/items/a%2Fb", "x=1&y=two%20words")
    assert seen.headers["authorization"] == "Bearer abc"
    assert seen.headers["x-request-id"] == "req-123"
    assert seen.headers["accept-language"] == "lv"
    assert seen.headers["host"] == upstream.url.removeprefix("http://")
    assert TRACEPARENT.match(seen.headers["traceparent"])
    assert response.headers["x-request-id"] == "req-123"


async def test_post_forwards_the_body_and_passes_the_status_back(gateway: httpx.AsyncClient, upstream: Any) -> None:
    response = await gateway.post(
        "/api/echo/echo/programmes?status=201", json={"title": "Welding"}, headers={"Authorization": "Bearer abc"}
    )

    assert response.status_code == 201
    [seen] = upstream.seen
    assert seen.method == "POST"
    assert seen.body == b'{"title":"Welding"}'
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["authorization"] == "Bearer abc"


async def test_upstream_errors_pass_through_unchanged(gateway: httpx.AsyncClient, upstream: Any) -> None:
    response = await gateway.delete("/api/echo/echo/thing?status=409")

    assert response.status_code == 409
    assert upstream.seen[0].method == "DELETE"


async def test_a_request_id_is_generated_passed_on_and_returned(gateway: httpx.AsyncClient, upstream: Any) -> None:
    response = await gateway.get("/api/echo/echo/x")

    [seen] = upstream.seen
    assert response.headers["x-request-id"]
    assert seen.headers["x-request-id"] == response.headers["x-request-id"]


async def test_other_and_hop_by_hop_headers_stay_behind(gateway: httpx.AsyncClient, upstream: Any) -> None:
    await gateway.get(
        "/api/echo/echo/x",
        headers={
            "Connection": "keep-alive, x-private",
            "X-Private": "1",
            "TE": "trailers",
            "Cookie": "session=1",
            "X-Forwarded-For": "10.9.9.9",
            "Upgrade": "websocket",
            "Proxy-Authorization": "Basic eA==",
        },
    )

    [seen] = upstream.seen
    for name in ("x-private", "te", "cookie", "x-forwarded-for", "upgrade", "proxy-authorization"):
        assert name not in seen.headers
    assert seen.headers.get("connection", "keep-alive") == "keep-alive"


async def test_response_headers_come_back_with_repeats(gateway: httpx.AsyncClient, upstream: Any) -> None:
    response = await gateway.get("/api/echo/echo/x")

    assert response.headers.get_list("x-multi") == ["one", "two"]
    assert response.headers["content-length"] == str(len(response.content))
    assert len(response.headers.get_list("server")) <= 1


def test_hop_by_hop_response_headers_are_dropped_and_length_recomputed() -> None:
    upstream_headers = [
        (b"Content-Type", b"application/json"),
        (b"Connection", b"close, X-Internal"),
        (b"X-Internal", b"1"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Content-Length", b"999"),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
    ]

    response = _response(200, upstream_headers, b"{}", head=False)

    assert response.raw_headers == [
        (b"content-type", b"application/json"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"content-length", b"2"),
    ]


def test_a_head_answer_keeps_the_upstream_length() -> None:
    response = _response(200, [(b"content-length", b"42")], b"", head=True)

    assert response.raw_headers == [(b"content-length", b"42")]


async def test_the_trace_continues_into_the_upstream(
    gateway: httpx.AsyncClient, upstream: Any, spans: InMemorySpanExporter
) -> None:
    client_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    incoming = f"00-{client_trace}-00f067aa0ba902b7-01"

    await gateway.get("/api/echo/echo/traced", headers={"traceparent": incoming})

    match = TRACEPARENT.match(upstream.seen[0].headers["traceparent"])
    assert match and match.group(1) == client_trace
    finished = {format(s.context.span_id, "016x"): s for s in spans.get_finished_spans()}
    client_span = finished[match.group(2)]
    assert client_span.kind is SpanKind.CLIENT
    assert client_span.parent is not None
    server_span = finished[format(client_span.parent.span_id, "016x")]
    assert server_span.kind is SpanKind.SERVER
    assert server_span.parent is not None and format(server_span.parent.span_id, "016x") == "00f067aa0ba902b7"


async def test_an_unknown_service_is_not_found(gateway: httpx.AsyncClient, upstream: Any) -> None:
    response = await gateway.get("/api/nope/anything")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert upstream.seen == []


async def test_dot_segments_cannot_leave_the_service_path(gateway: httpx.AsyncClient, upstream: Any) -> None:
    response = await gateway.get("/api/echo/echo/%2E%2E/metrics")

    assert response.status_code == 404
    assert upstream.seen == []


async def test_a_down_service_is_unavailable(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/down/things", json={"a": 1})

    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "service_unavailable"
    assert body["service"] == "down"
    assert body["message"]


async def test_an_upstream_timeout_is_unavailable(make_gateway: Callable[..., Any], upstream: Any) -> None:
    # A listening socket that never answers: the connect succeeds, the read times out.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        _, client = make_gateway(service_urls={"slow": url}, upstream_timeout=0.3)

        response = await client.get("/api/slow/x")

    assert response.status_code == 503
    assert response.json()["service"] == "slow"


async def test_a_declared_body_over_the_cap_is_refused_unread(make_gateway: Callable[..., Any], upstream: Any) -> None:
    _, client = make_gateway(max_body_bytes=1024)

    response = await client.post("/api/echo/echo/upload", content=b"x" * 2048)

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert upstream.seen == []


async def test_a_chunked_body_over_the_cap_is_cut_off(make_gateway: Callable[..., Any], upstream: Any) -> None:
    _, client = make_gateway(max_body_bytes=4096)

    response = await client.post("/api/echo/echo/upload", content=chunks(64 * 1024))

    assert response.status_code == 413
    assert upstream.seen == []


async def test_a_chunked_body_under_the_cap_is_forwarded_whole(make_gateway: Callable[..., Any], upstream: Any) -> None:
    _, client = make_gateway(max_body_bytes=4096)

    response = await client.put("/api/echo/echo/upload", content=chunks(4096, size=1000))

    assert response.status_code == 200
    assert upstream.seen[0].body == b"x" * 4096
