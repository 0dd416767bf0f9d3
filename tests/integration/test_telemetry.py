"""Telemetry as operators collect it: traces over OTLP/HTTP to a collector, and metrics on a port of their own.

The collector here is a real HTTP server on 127.0.0.1 that decodes what it receives with the OTLP protocol's own
message types (the `opentelemetry-proto` package), as a collector's OTLP/HTTP receiver does: the spans the gateway
and accounts processes export for one request, and the trace they share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_testing.servers import free_port
from prasmes_testing.support import eventually, personal_code

pytestmark = pytest.mark.e2e


class Collector(ThreadingHTTPServer):
    """Receives OTLP/HTTP trace exports (protobuf) at /v1/traces; keeps (service, span name, kind, trace id)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ExportHandler)
        self.spans: list[tuple[str, str, int, str]] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ExportHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf"
        if ok:
            request = ExportTraceServiceRequest.FromString(body)
            with self.server.lock:
                self.server.spans.extend(_spans(request))
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


def _spans(request: ExportTraceServiceRequest) -> Iterator[tuple[str, str, int, str]]:
    for resource_spans in request.resource_spans:
        attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield attributes.get("service.name", ""), span.name, span.kind, span.trace_id.hex()


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, collector: Collector) -> Iterator[Stack]:
    metrics_port = free_port()
    stack = Stack(
        var_dir=tmp_path_factory.mktemp("telemetry"),
        base_port=free_base_port(),
        split_roles=False,
        extra_env={
            "TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # the batch processor's export interval (ms)
        },
        service_env={"accounts": {"METRICS_PORT": str(metrics_port), "METRICS_HOST": "127.0.0.1"}},
    )
    try:
        stack.start(("gateway", "accounts"), timeout=120)
        yield stack
    finally:
        stack.stop()


def _metrics_port(stack: Stack) -> int:
    return int(stack.service_env["accounts"]["METRICS_PORT"])


async def test_a_request_s_spans_reach_the_collector_in_one_trace(stack: Stack, collector: Collector) -> None:
    headers = {"Authorization": f"Bearer {stack.token_issuer().issue('telemetry-learner', ['learner'])}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        opened = await client.post(
            "/api/accounts/accounts", json={"personal_code": personal_code(88_101)}, headers=headers
        )
    assert opened.status_code == 201, opened.text

    def servers() -> dict[str, str]:
        with collector.lock:
            return {service: trace for service, _, kind, trace in collector.spans if kind == 2}  # SPAN_KIND_SERVER

    async def both_exported() -> bool:
        return {"gateway", "accounts"} <= set(servers())

    await eventually(both_exported, timeout=30, interval=0.2)
    found = servers()
    assert found["gateway"] == found["accounts"]  # the gateway's trace context went on to the service


def test_metrics_are_served_on_their_own_port_and_not_on_the_main_one(stack: Stack) -> None:
    scraped = httpx.get(f"http://127.0.0.1:{_metrics_port(stack)}/metrics", timeout=10)
    assert scraped.status_code == 200
    assert "prasmes_http_requests_total" in scraped.text

    main = httpx.get(f"{stack.url('accounts')}/metrics", timeout=10)  # even in dev mode, which opens it otherwise
    assert main.status_code == 404


def test_the_metrics_port_serves_nothing_else(stack: Stack) -> None:
    for path in ("/healthz", "/accounts", "/metrics/../accounts", "/"):
        assert httpx.get(f"http://127.0.0.1:{_metrics_port(stack)}{path}", timeout=10).status_code == 404, path
