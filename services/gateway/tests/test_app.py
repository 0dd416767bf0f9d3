"""The composition root: settings from the environment, readiness, the factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway.app import app_factory
from gateway.settings import DEFAULT_SERVICE_URLS, GatewaySettings
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SERVICE_NAME",
        "SERVICE_URLS",
        "MAX_BODY_BYTES",
        "RATE_LIMIT_PER_MINUTE",
        "RATE_LIMIT_BURST",
        "VAR_DIR",
        "SIGNING_KEY_PATH",
    ):
        monkeypatch.delenv(name, raising=False)

    settings = GatewaySettings()

    assert settings.service_name == "gateway"
    assert settings.service_urls == DEFAULT_SERVICE_URLS
    assert settings.max_body_bytes == 10 * 1024 * 1024
    assert (settings.rate_limit_per_minute, settings.rate_limit_burst) == (1200, 200)
    assert settings.resolved_signing_key_path() == Path("var/identity/signing-key.pem")


def test_service_urls_and_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_URLS", '{"catalog": "http://catalog:8000"}')
    monkeypatch.setenv("TRUSTED_PROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")

    settings = GatewaySettings()

    assert settings.service_urls == {"catalog": "http://catalog:8000"}
    assert settings.trusted_proxies == ["10.0.0.0/8"]
    assert settings.max_body_bytes == 2048


def test_the_factory_reads_settings_when_called(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DEV_MODE", "true")

    app = app_factory()

    assert isinstance(app, FastAPI)
    assert app.state.settings.dev_mode is True
    assert (tmp_path / "identity" / "signing-key.pem").exists()


async def test_ready_while_one_service_is_down(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"down": "degraded", "echo": "ok"}}


async def test_not_ready_when_no_service_answers(make_gateway: Callable[..., Any]) -> None:
    _, client = make_gateway(service_urls={"a": "http://127.0.0.1:9", "b": "http://127.0.0.1:9"})

    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"a": "unreachable", "b": "unreachable"}


async def test_health_and_metrics(gateway: httpx.AsyncClient) -> None:
    assert (await gateway.get("/healthz")).json() == {"status": "ok"}
    await gateway.get("/api/echo/echo/x")
    assert "prasmes_http_requests_total" in (await gateway.get("/metrics")).text


async def test_probes_are_not_traced_but_proxied_paths_are(
    gateway: httpx.AsyncClient, upstream: Any, spans: InMemorySpanExporter
) -> None:
    spans.clear()

    await gateway.get("/readyz")
    await gateway.get("/api/echo/echo/healthz")

    finished = spans.get_finished_spans()
    assert "GET /readyz" not in [span.name for span in finished]
    assert [span.kind for span in finished if span.kind is SpanKind.CLIENT] == [SpanKind.CLIENT]
    assert any(span.name == "GET /api/{service}/{path:path}" and span.kind is SpanKind.SERVER for span in finished)
