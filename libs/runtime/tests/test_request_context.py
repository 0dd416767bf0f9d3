"""The request middleware every process runs (pure ASGI): the request id in and out, the metrics, one access line per
request, the plain 500; and the caller's W3C trace context carried where no tracing instrumentation runs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import structlog
from accounts.app import DEFINITION as ACCOUNTS
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import http, metrics, migrations
from prasmes_runtime.dependencies import DatabaseDep
from prasmes_runtime.messaging import outbox
from prasmes_runtime.outbox import record_event
from prasmes_runtime.service import ServiceDefinition
from prasmes_runtime.settings import Settings
from prasmes_runtime.telemetry import current_trace_headers, recording_provider
from starlette.types import Message, Receive, Scope, Send

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
TRACEPARENT_SHAPE = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f][13579bdf]")
"""A new trace's, flagged sampled (an odd flags byte: the SDK, once installed, may add the random-id flag 02)."""


class Recorded:
    """Stands in for the middleware's logger: what it logged, with the request id bound at that moment."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def _record(self, level: str, event: str, **fields: Any) -> None:
        fields["bound_request_id"] = structlog.contextvars.get_contextvars().get("request_id")
        self.lines.append((level, event, fields))

    def info(self, event: str, **fields: Any) -> None:
        self._record("info", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self._record("error", event, **fields)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [fields for _, event, fields in self.lines if event == name]


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    recorded = Recorded()
    monkeypatch.setattr(http, "log", recorded)
    return recorded


def bare_app() -> FastAPI:
    """install_common on a plain app: no tracing instrumentation, whatever tracer provider the process has."""
    app = FastAPI()

    async def ready() -> dict[str, str]:
        return {"database": "ok"}

    http.install_common(app, ready, Settings(dev_mode=True))

    @app.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, Any]:
        return {
            "request_id": http.request_id_of(request),
            "bound": structlog.contextvars.get_contextvars().get("request_id"),
        }

    @app.get("/own-id")
    async def own_id() -> Response:
        return Response(b"{}", media_type="application/json", headers={"x-request-id": "from-the-route"})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the route broke")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=bare_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as c:
        yield c


async def test_a_plain_request_id_is_kept_bound_answered_and_logged(
    client: httpx.AsyncClient, logged: Recorded
) -> None:
    response = await client.get("/items/7", headers={"X-Request-ID": "req-123"})

    assert response.status_code == 200
    assert response.headers.get_list("x-request-id") == ["req-123"]
    body = response.json()
    assert (body["request_id"], body["bound"]) == ("req-123", "req-123")
    [line] = logged.events("http.request")
    assert {k: line[k] for k in ("method", "route", "status", "request_id")} == {
        "method": "GET",
        "route": "/items/{item_id}",
        "status": 200,
        "request_id": "req-123",
    }
    assert isinstance(line["duration_ms"], float)
    assert structlog.contextvars.get_contextvars().get("request_id") is None  # unbound after the request


@pytest.mark.parametrize("given", [None, "with spaces", "x" * 129, "a\u00e9b"])
async def test_any_other_request_id_is_replaced_by_a_new_one(client: httpx.AsyncClient, given: str | None) -> None:
    headers = {"X-Request-ID": given.encode()} if given else {}

    response = await client.get("/items/1", headers=headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_the_answer_carries_one_request_id_the_middleware_s(client: httpx.AsyncClient) -> None:
    response = await client.get("/own-id", headers={"X-Request-ID": "req-9"})

    assert response.headers.get_list("x-request-id") == ["req-9"]


async def test_requests_are_counted_by_route_template_and_probes_are_not_logged(
    client: httpx.AsyncClient, logged: Recorded
) -> None:
    def count(route: str, status: str) -> float:
        value = metrics.http_requests.labels("GET", route, status)._value.get()
        return float(value)

    before = count("/items/{item_id}", "200"), count("/healthz", "200"), count("unmatched", "404")

    await client.get("/items/1")
    await client.get("/items/2")
    await client.get("/healthz")
    await client.get("/no/such/path")

    after = count("/items/{item_id}", "200"), count("/healthz", "200"), count("unmatched", "404")
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 1]
    assert [line["route"] for line in logged.events("http.request")] == [
        "/items/{item_id}",
        "/items/{item_id}",
        "unmatched",
    ]


async def test_an_unhandled_error_is_a_plain_500_logged_once_with_the_request_id(
    client: httpx.AsyncClient, logged: Recorded
) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "req-500"})

    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": http.INTERNAL_ERROR}
    assert response.headers["x-request-id"] == "req-500"
    assert "the route broke" not in response.text
    [error] = logged.events("http.unhandled_error")
    assert (error["route"], error["error"], error["bound_request_id"]) == ("/boom", "RuntimeError", "req-500")
    [line] = logged.events("http.request")
    assert (line["status"], line["request_id"]) == (500, "req-500")


# ---------------------------------------------------------------- the caller's trace context


async def _report_trace(scope: Scope, receive: Receive, send: Send) -> None:
    """A plain ASGI app (no framework that might start spans of its own): answers the current trace headers."""
    await JSONResponse(current_trace_headers())(scope, receive, send)


@pytest.fixture
async def traced_client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=http.TraceContextMiddleware(_report_trace))
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as c:
        yield c


async def test_without_instrumentation_the_caller_s_trace_context_is_current(traced_client: httpx.AsyncClient) -> None:
    response = await traced_client.get("/", headers={"traceparent": TRACEPARENT, "tracestate": "vendor=1"})

    assert response.json() == {"traceparent": TRACEPARENT, "tracestate": "vendor=1"}
    assert not trace.get_current_span().get_span_context().is_valid  # detached after the request


async def test_without_a_traceparent_a_new_trace_starts(traced_client: httpx.AsyncClient) -> None:
    """So that the request's log lines and the events it records can still be joined to what they cause."""
    first = (await traced_client.get("/")).json()
    second = (await traced_client.get("/", headers={"tracestate": "vendor=1"})).json()

    assert TRACEPARENT_SHAPE.fullmatch(first["traceparent"])
    assert TRACEPARENT_SHAPE.fullmatch(second["traceparent"])
    assert first["traceparent"].split("-")[1] != second["traceparent"].split("-")[1]  # a trace of its own each
    assert "tracestate" not in second  # a caller's tracestate belongs to its traceparent, not to ours


async def test_an_invalid_traceparent_starts_a_new_trace(traced_client: httpx.AsyncClient) -> None:
    response = await traced_client.get("/", headers={"traceparent": "00-not-a-trace-01"})

    assert response.status_code == 200
    assert TRACEPARENT_SHAPE.fullmatch(response.json()["traceparent"])


def test_an_event_recorded_outside_any_trace_carries_a_new_one() -> None:
    """A periodic job's events, with no request around them."""
    assert not trace.get_current_span().get_span_context().is_valid
    first, second = current_trace_headers(), current_trace_headers()

    assert TRACEPARENT_SHAPE.fullmatch(first["traceparent"])
    assert first["traceparent"] != second["traceparent"]


async def test_a_span_already_current_is_left_alone() -> None:
    """Where the instrumentation runs, its server span is current (a child of the caller's): it stays so."""
    seen: list[dict[str, str]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(current_trace_headers())
        await JSONResponse({})(scope, receive, send)

    own = trace.SpanContext(int("ab" * 16, 16), int("cd" * 8, 16), is_remote=False, trace_flags=trace.TraceFlags(1))
    with trace.use_span(trace.NonRecordingSpan(own)):
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"traceparent", TRACEPARENT.encode())]}
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def send(message: Message) -> None:
            sent.append(message)

        await http.TraceContextMiddleware(app)(scope, receive, send)

    assert seen == [{"traceparent": f"00-{'ab' * 16}-{'cd' * 8}-01"}]


router = APIRouter()


@router.post("/opened")
async def opened(database: DatabaseDep) -> dict[str, str]:
    async with database.transaction() as session:
        await record_event(
            session,
            AccountOpened(
                account_id="00000000-0000-4000-8000-000000000001", learner_id="l-1", opened_at="2026-11-30T09:00:00Z"
            ),
        )
    return {}


async def _traceparent_stored(tmp_path: Path, headers: dict[str, str]) -> str:
    """The `traceparent` stored beside the event a request to a probe service recorded."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}"
    await asyncio.to_thread(migrations.upgrade, ACCOUNTS.migrations_dir, url)  # the outbox table among them
    probe = ServiceDefinition(name="probe", title="Probe", routers=[router])
    app = probe.create_app(Settings(database_url=url, var_dir=tmp_path, log_level="WARNING"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        response = await client.post("/opened", headers=headers)
    assert response.status_code == 200

    async with app.state.runtime.database.session() as session:
        [stored] = (await session.execute(sa.select(outbox.c.traceparent))).scalars().all()
    await app.state.runtime.database.dispose()
    return str(stored)


async def test_an_event_recorded_in_a_request_without_a_trace_carries_a_new_one(tmp_path: Path) -> None:
    assert TRACEPARENT_SHAPE.fullmatch(await _traceparent_stored(tmp_path, {}))


async def test_an_event_recorded_in_a_request_carries_the_caller_s_trace(tmp_path: Path) -> None:
    stored = await _traceparent_stored(tmp_path, {"traceparent": TRACEPARENT})
    assert stored.split("-")[1] == TRACE_ID
    if recording_provider() is None:  # no instrumentation: the caller's context itself (else a server span's, under it)
        assert stored == TRACEPARENT
