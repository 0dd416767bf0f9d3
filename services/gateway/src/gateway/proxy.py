"""`/api/{service}/{path}`: forwards a request to the owning service and passes its answer back.

A service with several replicas gets its requests in turn, and one its replica could not take (it refused the
connection, or died before answering an idempotent request) is sent to the next: `gateway.upstream` says which.

Only the API: a service's internal endpoints (`prasmes_runtime.http.INTERNAL_PATHS`: its probes, its metrics, its
own docs and OpenAPI document) answer a 404 here, as an unknown route does, whatever the method or the encoding of
the path. The merged document at the gateway's /openapi.json reads each service's directly, not through here."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

import httpx
from fastapi import Request, Response
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prasmes_runtime.errors import DomainError, NotFound
from prasmes_runtime.http import INTERNAL_PATHS, NOTHING_HERE, REQUEST_ID, request_id_of
from prasmes_runtime.logging import get_logger
from prasmes_runtime.telemetry import tracer
from starlette.routing import Match, Route
from starlette.types import Scope

from gateway.settings import GatewaySettings
from gateway.upstream import Origin, Replicas, UpstreamError, UpstreamPool, UpstreamResponse

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
FORWARDED_HEADERS = frozenset(
    {
        "authorization",
        "content-type",
        "content-encoding",
        "accept",
        "accept-language",
        "accept-encoding",
        "if-match",
        "if-none-match",
    }
)
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The gateway's server writes its own; the upstream's would be duplicates.
OWN_RESPONSE_HEADERS = frozenset({"date", "server", "content-length"})
_FORWARDED = frozenset(name.encode("latin-1") for name in FORWARDED_HEADERS if name != REQUEST_ID)
_PCHAR_SAFE = "/:@!$&'()*+,;=-._~"

log = get_logger(__name__)
PATH = "/api/{service}/{path:path}"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service

    def body(self) -> dict[str, str]:
        return {"error": self.code, "service": self.service, "message": self.message}


def build_upstream_client(settings: GatewaySettings) -> httpx.AsyncClient:
    """The gateway's client for its own calls to the services (readiness, their OpenAPI documents); the proxy
    forwards through an `Upstreams` pool."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.upstream_timeout, connect=min(5.0, settings.upstream_timeout)),
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16, keepalive_expiry=60),
        trust_env=False,  # upstreams are internal: never route them through an HTTP(S)_PROXY
        headers={"user-agent": "prasmes-gateway"},
    )


@dataclass(frozen=True)
class Upstreams:
    """Where each service's replicas listen, and the keep-alive pool the proxy forwards through."""

    services: Mapping[str, Replicas]
    pool: UpstreamPool

    @classmethod
    def of(cls, settings: GatewaySettings) -> Upstreams:
        pool = UpstreamPool(
            timeout=settings.upstream_timeout,
            connect_timeout=min(5.0, settings.upstream_timeout),
            # About 200 requests in flight; connections live shorter than the services' keep-alive (devstack: 75 s;
            # uvicorn's default 5 s is too short for a pool), so the gateway never sends on one a service just closed.
            max_connections=256,
            max_idle=200,
            keepalive_expiry=60,
        )
        services = {name: Replicas.of(urls) for name, urls in settings.service_replicas().items()}
        return cls(services, pool)


class ProxyRoute(Route):
    """A plain Starlette route, matched before the gateway's own: a proxied request skips FastAPI's dependency
    solving and the walk through the included routers (together about a fifth of the gateway's CPU per request).
    It names itself in the scope as a FastAPI route does, for the access log and the server span."""

    def __init__(self) -> None:
        super().__init__(PATH, proxy, methods=METHODS, include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


async def proxy(request: Request) -> Response:
    service, path = request.path_params["service"], request.path_params["path"]
    upstreams: Upstreams = request.app.state.upstreams
    replicas = upstreams.services.get(service)
    if replicas is None:
        raise NotFound(f"unknown service {service!r}")
    settings: GatewaySettings = request.app.state.settings
    target = _upstream_target(request, service, path)
    body = await _read_body(request, settings.max_body_bytes)
    forwarded = _Forwarded(request.method, target, _forward_headers(request), body, service)
    answer = await _forward(upstreams.pool, replicas, forwarded)
    return _response(answer.status, answer.headers, answer.body, head=request.method == "HEAD")


def _upstream_target(request: Request, service: str, path: str) -> str:
    """The request line's target at the service, after its base path (each replica's `Origin.prefix`): the rest of
    the path as the client encoded it, the query."""
    rest = _raw_rest(request, service) or quote(path, safe=_PCHAR_SAFE)
    if any(unquote(segment) in (".", "..") for segment in rest.split("/")):
        raise NotFound("dot segments are not allowed in a service path")
    if is_internal(rest) or is_internal(path):
        raise NotFound(NOTHING_HERE)
    query = request.scope.get("query_string", b"")
    return f"/{rest}?{query.decode('latin-1')}" if query else f"/{rest}"


def is_internal(rest: str) -> bool:
    """Whether a service path (as sent, maybe percent-encoded) names one of the services' internal endpoints.
    Compared on its first non-empty segment, decoded and in any case: `metrics`, `/metrics/`, `%6Detrics`, `METRICS`
    are all refused (an upstream would route some of them to the endpoint, and none of them is API)."""
    first = next((segment for segment in unquote(rest).split("/") if segment), "")
    return first.lower() in INTERNAL_PATHS


def _raw_rest(request: Request, service: str) -> str | None:
    """The path after /api/<service>/ exactly as the client encoded it (keeps %2F inside a segment)."""
    raw: bytes | None = request.scope.get("raw_path")
    if not raw:
        return None
    parts = raw.decode("latin-1").split("/", 3)
    if len(parts) != 4 or unquote(parts[2]) != service:
        return None
    return parts[3]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _forward_headers(request: Request) -> list[tuple[bytes, bytes]]:
    headers = [(name, value) for name, value in request.scope["headers"] if name in _FORWARDED]
    given = {name for name, _ in headers}
    if b"accept" not in given:
        headers.append((b"accept", b"*/*"))
    if b"accept-encoding" not in given:
        # The body goes back byte for byte, so the upstream may only compress what the client accepts.
        headers.append((b"accept-encoding", b"identity"))
    headers.append((REQUEST_ID.encode("latin-1"), request_id(request).encode("latin-1")))
    return headers


def request_id(request: Request) -> str:
    """The id the runtime's request middleware answers with, so that the upstream logs the same one."""
    return request_id_of(request)


@dataclass(slots=True)
class _Forwarded:
    """The request as every replica tried is sent it (the target without a replica's base path)."""

    method: str
    target: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    service: str


async def _forward(pool: UpstreamPool, replicas: Replicas, request: _Forwarded) -> UpstreamResponse:
    """To the service's replicas in turn, on to the next only while the failure says that is safe
    (`UpstreamError.retryable`); the last failure is the client's 503."""
    loop = asyncio.get_running_loop()
    tries = replicas.order(loop.time())
    for attempt, origin in enumerate(tries):
        try:
            return await _exchange(pool, origin, request, attempt)
        except UpstreamError as exc:
            if exc.unsent:
                replicas.sit_out(origin, loop.time())
            last = attempt == len(tries) - 1
            if last or not exc.retryable(request.method):
                log.warning("proxy.upstream_unavailable", upstream=request.service, error=exc.kind, tries=attempt + 1)
                raise ServiceUnavailable(
                    request.service, f"service {request.service} is unavailable ({exc.kind})"
                ) from exc
            log.info("proxy.retried_on_another_replica", upstream=request.service, error=exc.kind)
    raise AssertionError("a service has at least one replica")  # pragma: no cover


async def _exchange(pool: UpstreamPool, origin: Origin, request: _Forwarded, attempt: int) -> UpstreamResponse:
    """One try at one replica, in the current trace: under a client span of its own where spans are recorded (one
    per try, a retry's with its `http.request.resend_count`), else with the request's trace context: the caller's,
    or the new trace the middleware started for a request that came with none."""
    method, target, headers = request.method, origin.prefix + request.target, request.headers
    current = trace.get_current_span()
    if not current.is_recording():
        if current.get_span_context().is_valid:
            headers = headers + _trace_headers()
        return await pool.request(origin, method, target, headers, request.body)
    attributes: dict[str, str | int] = {
        "http.request.method": method,
        "url.full": f"{origin.scheme}://{origin.host_header.decode('idna')}{target}",
        "server.address": origin.host,
        "server.port": origin.port,
    }
    if attempt:
        attributes["http.request.resend_count"] = attempt
    with tracer().start_as_current_span(method, kind=SpanKind.CLIENT, attributes=attributes) as span:
        answer = await pool.request(origin, method, target, headers + _trace_headers(), request.body)
        span.set_attribute("http.response.status_code", answer.status)
        if answer.status >= 400:
            span.set_status(Status(StatusCode.ERROR))
        return answer


def _trace_headers() -> list[tuple[bytes, bytes]]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in carrier.items()]


def _response(status: int, upstream_headers: list[tuple[bytes, bytes]], content: bytes, *, head: bool) -> Response:
    response = Response(content=content, status_code=status)
    drop = HOP_BY_HOP | _connection_tokens(upstream_headers) | OWN_RESPONSE_HEADERS
    if head:
        drop -= {"content-length"}  # a HEAD answer describes the body it did not send
    kept = [(k.lower(), v) for k, v in upstream_headers if k.lower().decode("latin-1") not in drop]
    computed = [] if head else [(k, v) for k, v in response.raw_headers if k == b"content-length"]
    response.raw_headers = kept + computed
    return response


def _connection_tokens(headers: list[tuple[bytes, bytes]]) -> set[str]:
    values = [v.decode("latin-1") for k, v in headers if k.lower() == b"connection"]
    return {token.strip().lower() for value in values for token in value.split(",") if token.strip()}
