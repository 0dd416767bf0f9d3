"""The HTTP side every service shares: request ids, access logs, metrics, health, error mapping."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from prasmes_runtime import metrics
from prasmes_runtime.errors import install_error_handlers
from prasmes_runtime.logging import get_logger

REQUEST_ID = "x-request-id"
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


async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    request_id = request.headers.get(REQUEST_ID) or uuid.uuid4().hex
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
