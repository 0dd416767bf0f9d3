"""The HTTP side every service shares: request ids, access logs, metrics, health, error mapping, a body cap.

Metrics are for the operators' scraper only, in one of two ways. Where a cluster runs the platform, a port of their
own (METRICS_PORT): a second, minimal listener in the process serves /metrics and nothing else, the main port's
/metrics is a 404, and a network policy lets only Prometheus reach that port, the way Prometheus expects to scrape.
Elsewhere (one machine, a host without network policies), through a credential: `/metrics` on the main port asks for
`Authorization: Bearer <METRICS_TOKEN>` (compared in constant time), which the process enforces itself whatever an
ingress exposes; without a token it answers only in dev mode (`make run`, the tests) and is a 404 everywhere else.
The gateway never forwards a service's internal endpoints (`INTERNAL_PATHS`) in any case.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prasmes_runtime import metrics
from prasmes_runtime.errors import DomainError, InvalidInput, NotFound, Unauthorized, Violation
from prasmes_runtime.logging import get_logger
from prasmes_runtime.settings import Settings
from prasmes_runtime.telemetry import context_from_headers, fresh_trace_context

REQUEST_ID = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNTRACED_URLS = r"//[^/]+/(healthz|readyz|metrics)(\?|$)"
"""Probe and scrape endpoints: anchored, so that /api/x/metrics is still traced."""
INTERNAL_PATHS = frozenset({"healthz", "readyz", "metrics", "docs", "redoc", "openapi.json"})
"""First path segments every service serves for probes, the scraper and developers, never for the public: the
gateway does not forward them (`/api/<service>/metrics` is a 404), and reads `/openapi.json` from each service
directly for its merged document."""
NOTHING_HERE = "there is nothing at this path"
"""The message of every 404 for a path, an unknown route and a refused internal endpoint alike."""
INTERNAL_ERROR = "an internal error occurred; the request id identifies it in the logs"
ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]
log = get_logger("http")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def install_common(
    app: FastAPI,
    readiness: ReadinessCheck,
    settings: Settings | None = None,
    internal_error: ErrorAnswer | None = None,
) -> None:
    """Health, readiness, metrics, the body cap, the request-id middleware and the error mapping.

    `settings` gives the body cap (`max_body_bytes`) and who may read /metrics (`metrics_token`, `dev_mode`);
    default: the shared settings from the environment. `internal_error`: the answer to an exception no handler
    answered, once it is logged (default: the platform's plain JSON 500; the web pages answer a page)."""
    settings = settings if settings is not None else Settings()
    install_error_handlers(app)
    # Added before the request-id middleware, so that it runs inside it: a 413 is logged and has an id too.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, internal_error=internal_error or _plain_internal_error)
    # Outermost of the three, so that the request's log lines carry the caller's trace id too.
    app.add_middleware(TraceContextMiddleware)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(state in ("ok", "degraded") for state in checks.values())
        body = {"status": "ready" if ready else "not_ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        _authorise_scrape(request, settings)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if settings.metrics_port is not None:
        _serve_metrics_apart(app, settings.metrics_host, settings.metrics_port)


def _serve_metrics_apart(app: FastAPI, host: str, port: int) -> None:
    """Runs the metrics listener for as long as the app's lifespan (around the app's own)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        stop = metrics.serve_apart(host, port)
        log.info("metrics listener started", host=host, port=port)
        try:
            async with inner(app) as state:
                yield state
        finally:
            stop()

    app.router.lifespan_context = lifespan


def _authorise_scrape(request: Request, settings: Settings) -> None:
    """Lets the operators' scraper through (see the module's docstring)."""
    if settings.metrics_port is not None:
        raise NotFound(NOTHING_HERE)  # served on the metrics port only
    if settings.metrics_token is None:
        if settings.dev_mode:
            return
        raise NotFound(NOTHING_HERE)
    expected = settings.metrics_token.get_secret_value().encode()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise Unauthorized("the scraper's bearer token is required")


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a request body passes the cap; answered as a 413 in the platform's shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


class BodyLimitMiddleware:
    """Caps request bodies as they arrive (pure ASGI, nothing buffered here).

    A Content-Length over the cap is refused at once, unread. Otherwise the bytes are counted as the app reads
    them, and the read that passes the cap raises `BodyTooLarge`: the app never holds more than the cap. What the
    client still sends after the 413 the server discards as it arrives (nothing is buffered). The connection is not
    closed on the client: closing with its upload unread resets it, and the client would miss the 413.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be >= 1")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        if _declared_length(scope) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Raised where no handler turned it into the answer (e.g. read by a plain ASGI layer).
            if started:
                raise
            await _too_large(limit)(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            declared = value.decode("latin-1").strip()
            return int(declared) if declared.isdigit() else 0
    return 0


def _too_large(limit: int) -> JSONResponse:
    body = {"error": _HTTP_CODES[413], "message": f"the request body exceeds {limit} bytes"}
    return JSONResponse(body, status_code=413)


def _field_name(location: tuple[object, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in location)


def _violation(error: Mapping[str, Any]) -> Violation:
    location: tuple[object, ...] = tuple(error["loc"])
    if error["type"] == "json_invalid" and len(location) == 2 and location[0] == "body":
        # FastAPI puts the decoder's position where the field goes: the field is the body itself.
        return Violation("body", "json_invalid", f"the request body is not valid JSON (at character {location[1]})")
    return Violation(_field_name(location), str(error["type"]), str(error["msg"]))


def _from_validation(exc: RequestValidationError) -> InvalidInput:
    return InvalidInput(*(_violation(e) for e in exc.errors()))


def _http_message(request: Request, exc: HTTPException) -> str:
    status = exc.status_code
    if isinstance(exc.detail, str) and exc.detail and exc.detail != HTTPStatus(status).phrase:
        return exc.detail
    if status == 404:
        return NOTHING_HERE
    if status == 405:
        return f"{request.method} is not allowed at this path"
    return HTTPStatus(status).phrase.lower()


def install_error_handlers(app: FastAPI) -> None:
    """The one mapping of errors to HTTP answers, all in the platform's shape `{"error", "message", ...}`: domain
    errors, request validation, and the framework's own (an unknown route's 404, a wrong method's 405, ...)."""

    async def on_domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        error = _from_validation(exc)
        return JSONResponse(error.body(), status_code=error.status)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        headers = dict(exc.headers or {})
        if status < 400:  # e.g. 304: no body at all
            return Response(status_code=status, headers=headers)
        body = {"error": _HTTP_CODES.get(status, f"http_{status}"), "message": _http_message(request, exc)}
        return JSONResponse(body, status_code=status, headers=headers)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_exception)


ErrorAnswer = Callable[[Scope], Response]
"""The answer to an unhandled exception (a 500 that shows nothing of it), given the request's scope."""


def _log_internal_error(scope: Scope, exc: Exception) -> None:
    """An exception no handler answered: logged here once, as a structured line with the request id (the engine
    hides SQL parameters, the log hides locals)."""
    log.error(
        "http.unhandled_error", method=scope["method"], route=_route_of(scope), error=type(exc).__name__, exc_info=exc
    )
    span = trace.get_current_span()
    span.record_exception(exc)
    span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))


def _plain_internal_error(_: Scope) -> Response:
    return JSONResponse({"error": _HTTP_CODES[500], "message": INTERNAL_ERROR}, status_code=500)


def request_id_of(request: Request) -> str:
    """The id this request is answered and logged with (set by the request middleware)."""
    return str(getattr(request.state, "request_id", "")) or uuid.uuid4().hex


def _incoming_request_id(scope: Scope) -> str:
    # A caller's id is kept only when it is a plain token: it ends up in logs and headers.
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return uuid.uuid4().hex


def _route_of(scope: Scope) -> str:
    return str(getattr(scope.get("route"), "path", "unmatched"))


_UNLOGGED_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_REQUEST_ID_HEADER = REQUEST_ID.encode("latin-1")


class RequestContextMiddleware:
    """The request id (a caller's plain one kept, else a new one: in `request.state.request_id`, bound to every log
    line of the request, and answered in `X-Request-ID`), the request metrics, one access log line per request, and
    the platform's plain 500 for an exception no handler answered.

    Pure ASGI: the app runs in the server's task, with no extra task, memory stream or response object per request
    (Starlette's `BaseHTTPMiddleware` has all three)."""

    def __init__(self, app: ASGIApp, internal_error: ErrorAnswer = _plain_internal_error) -> None:
        self.app = app
        self.internal_error = internal_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        encoded_id = request_id.encode("latin-1")
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _REQUEST_ID_HEADER]
                headers.append((_REQUEST_ID_HEADER, encoded_id))
                message["headers"] = headers
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if status:  # the answer has begun: it cannot become a 500 any more
                self._record(scope, status, started, request_id)
                raise
            _log_internal_error(scope, exc)
            await self.internal_error(scope)(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        self._record(scope, status, started, request_id)

    @staticmethod
    def _record(scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        method, route = scope["method"], _route_of(scope)
        metrics.http_requests.labels(method, route, str(status)).inc()
        metrics.http_latency.labels(method, route).observe(elapsed)
        if route not in _UNLOGGED_ROUTES:
            log.info(
                "http.request",
                method=method,
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                request_id=request_id,
            )


_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class TraceContextMiddleware:
    """Continues a caller's W3C trace where no tracing instrumentation runs (no exporter: none is installed).

    The caller's `traceparent` (with `tracestate` and `baggage`) becomes the current context while the request is
    served, as the instrumentation's server span would make it: the log lines carry its trace id, the events the
    request records carry it on (`outbox.record_events`), and the gateway passes it to the service it calls. Where
    the instrumentation runs, its server span is already current and this does nothing. A request without the headers
    (or with a malformed `traceparent`) starts a new trace here, so that what it causes can still be joined up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or trace.get_current_span().get_span_context().is_valid:
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _TRACE_HEADERS}
        found = context_from_headers(carrier) if "traceparent" in carrier else None
        if found is None or not trace.get_current_span(found).get_span_context().is_valid:
            found = fresh_trace_context()
        token = otel_context.attach(found)
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)


def attachment(file_name: str) -> str:
    """A Content-Disposition header value as RFC 6266 with RFC 5987 says: `filename="..."`, an ASCII fallback for old
    clients in which every character but letters, digits, `.`, `_` and `-` is replaced by `_` (so no quote,
    semicolon or line break can end it or add a parameter), and `filename*=UTF-8''...`, the exact name
    percent-encoded. Always a valid (Latin-1) header value."""
    name = file_name or "download"
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
