"""The HTTP side every service shares: request ids, access logs, metrics, health, error mapping."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from prasmes_runtime import metrics
from prasmes_runtime.errors import DomainError, InvalidInput, Violation
from prasmes_runtime.logging import get_logger

REQUEST_ID = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNTRACED_URLS = r"//[^/]+/(healthz|readyz|metrics)(\?|$)"
"""Probe and scrape endpoints: anchored, so that /api/x/metrics is still traced."""
ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]
log = get_logger("http")


def install_common(app: FastAPI, readiness: ReadinessCheck) -> None:
    """Health, readiness, metrics, the request-id middleware and the error mapping."""
    install_error_handlers(app)
    app.middleware("http")(_request_context)

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
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _field_name(location: tuple[object, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in location)


def _from_validation(exc: RequestValidationError) -> InvalidInput:
    return InvalidInput(*(Violation(_field_name(tuple(e["loc"])), str(e["type"]), str(e["msg"])) for e in exc.errors()))


def install_error_handlers(app: FastAPI) -> None:
    """The one mapping of domain errors (and request validation) to HTTP answers."""

    async def on_domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        error = _from_validation(exc)
        return JSONResponse(error.body(), status_code=error.status)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)


def request_id_of(request: Request) -> str:
    """The id this request is answered and logged with (set by the request middleware)."""
    return str(getattr(request.state, "request_id", "")) or uuid.uuid4().hex


def _incoming_request_id(request: Request) -> str:
    # A caller's id is kept only when it is a plain token: it ends up in logs and headers.
    given = request.headers.get(REQUEST_ID, "")
    return given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    request_id = _incoming_request_id(request)
    request.state.request_id = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    elapsed = time.perf_counter() - started
    route = getattr(request.scope.get("route"), "path", "unmatched")
    metrics.http_requests.labels(request.method, route, str(response.status_code)).inc()
    metrics.http_latency.labels(request.method, route).observe(elapsed)
    response.headers[REQUEST_ID] = request_id
    if route not in ("/healthz", "/readyz", "/metrics"):
        log.info(
            "http.request",
            method=request.method,
            route=route,
            status=response.status_code,
            duration_ms=round(elapsed * 1000, 2),
            request_id=request_id,
        )
    return response
