"""What the gateway answers an attacker's probe: the services' internal endpoints stay behind it, its own metrics
are for the scraper, one error shape, plain token errors, docs without a CDN."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from gateway.settings import GatewaySettings
from prasmes_runtime.service import ServiceDefinition
from prasmes_runtime.settings import Settings
from starlette.types import ASGIApp, Receive, Scope, Send

router = APIRouter()


@router.get("/things")
async def things() -> dict[str, list[str]]:
    return {"items": ["a"]}


class Recorder:
    """Every path the upstream was asked for."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(str(scope["path"]))
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, threaded_server: Callable[[ASGIApp], Any]
) -> Iterator[tuple[str, Recorder]]:
    """A real runtime service (its /metrics, /readyz, /healthz, /docs, ...) behind real HTTP."""
    var_dir = tmp_path_factory.mktemp("svc")
    definition = ServiceDefinition(name="svc", title="A service", routers=[router])
    settings = Settings(var_dir=var_dir, event_log_path=var_dir / "events.db", log_level="WARNING", dev_mode=True)
    recorder = Recorder(definition.create_app(settings))
    with threaded_server(recorder) as server:
        yield f"http://127.0.0.1:{server.port}", recorder


@pytest.fixture
def svc_gateway(service: tuple[str, Recorder], make_gateway: Callable[..., Any]) -> tuple[httpx.AsyncClient, Recorder]:
    url, recorder = service
    recorder.paths.clear()
    _, client = make_gateway(service_urls={"svc": url})
    return client, recorder


INTERNAL = [
    "/api/svc/metrics",
    "/api/svc/readyz",
    "/api/svc/healthz",
    "/api/svc/docs",
    "/api/svc/docs/oauth2-redirect",
    "/api/svc/docs/assets/swagger-ui-bundle.js",
    "/api/svc/redoc",
    "/api/svc/openapi.json",
    "/api/svc/metrics/",
    "/api/svc//metrics",
    "/api/svc/%6Detrics",
    "/api/svc/%6d%65trics",
    "/api/svc/METRICS",
    "/api/svc/openapi%2Ejson",
    "/api/svc/metrics?format=text",
]


@pytest.mark.parametrize("path", INTERNAL)
async def test_internal_endpoints_of_a_service_are_not_forwarded(
    svc_gateway: tuple[httpx.AsyncClient, Recorder], path: str
) -> None:
    client, recorder = svc_gateway

    response = await client.get(path)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "prasmes_" not in response.text and "swagger" not in response.text.lower()
    assert recorder.paths == []


@pytest.mark.parametrize("method", ["HEAD", "POST", "OPTIONS"])
async def test_no_method_reaches_an_internal_endpoint(
    svc_gateway: tuple[httpx.AsyncClient, Recorder], method: str
) -> None:
    client, recorder = svc_gateway

    response = await client.request(method, "/api/svc/metrics")

    assert response.status_code == 404
    assert recorder.paths == []


async def test_the_api_is_still_forwarded(svc_gateway: tuple[httpx.AsyncClient, Recorder]) -> None:
    client, recorder = svc_gateway

    response = await client.get("/api/svc/things")

    assert response.status_code == 200
    assert response.json() == {"items": ["a"]}
    assert recorder.paths == ["/things"]


async def test_the_merged_document_still_reads_the_services_own(
    svc_gateway: tuple[httpx.AsyncClient, Recorder],
) -> None:
    client, recorder = svc_gateway

    document = (await client.get("/openapi.json")).json()

    assert "/api/svc/things" in document["paths"]
    assert document["info"]["x-unavailable"] == []
    assert recorder.paths == ["/openapi.json"]  # asked directly, not through the proxy


# ---------------------------------------------------------------- the gateway's own metrics


async def test_the_gateway_metrics_are_closed_without_a_scrape_token(make_gateway: Callable[..., Any]) -> None:
    _, client = make_gateway(dev_mode=False)

    response = await client.get("/metrics")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "prasmes_" not in response.text


async def test_the_gateway_metrics_need_the_scrape_token(make_gateway: Callable[..., Any]) -> None:
    token = "scrape-" + "t" * 40
    _, client = make_gateway(dev_mode=False, metrics_token=token)

    missing = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer scrape-wrong"})
    right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.json()["error"] == wrong.json()["error"] == "unauthorized"
    assert "prasmes_" not in missing.text + wrong.text
    assert right.status_code == 200
    assert "prasmes_http_requests_total" in right.text


def test_the_scrape_token_is_a_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "from-the-env-" + "x" * 20)

    settings = GatewaySettings()

    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == "from-the-env-" + "x" * 20
    assert "from-the-env" not in repr(settings)


# ---------------------------------------------------------------- one error shape


async def test_an_unknown_route_answers_the_platform_404(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/nothing/here")

    assert response.status_code == 404
    body = response.json()
    assert "detail" not in body
    assert body["error"] == "not_found" and body["message"]


async def test_a_wrong_method_answers_the_platform_405(gateway: httpx.AsyncClient) -> None:
    response = await gateway.delete("/auth/dev-login")

    assert response.status_code == 405
    body = response.json()
    assert "detail" not in body
    assert body["error"] == "method_not_allowed" and body["message"]
    assert response.headers["allow"] == "POST"


async def test_malformed_json_names_the_body(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/auth/dev-login", content=b'{"username": "anna"', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    [violation] = response.json()["errors"]
    assert (violation["field"], violation["rule"]) == ("body", "json_invalid")
    assert "not valid JSON" in violation["message"]


@pytest.mark.parametrize("token", ["not-a-token", "x.y.z", "eyJhbGciOiJFZERTQSIsImtpZCI6Im5vcGUifQ.e30.AAAA"])
async def test_a_garbage_token_gets_a_plain_401(gateway: httpx.AsyncClient, token: str) -> None:
    response = await gateway.get("/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": "the token is not valid"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_services_cap_is_above_the_gateways() -> None:
    gateway_cap = GatewaySettings().max_body_bytes
    assert gateway_cap == 10 * 1024 * 1024
    assert Settings().max_body_bytes > gateway_cap


# ---------------------------------------------------------------- docs without a CDN


_URL_ATTRS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_nothing_from_elsewhere(gateway: httpx.AsyncClient, page: str) -> None:
    response = await gateway.get(page)

    assert response.status_code == 200
    html = response.text
    assert re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", html) == []
    assert "/openapi.json" in html
    assets = _URL_ATTRS.findall(html)
    assert any(a.endswith(".js") for a in assets)
    if page == "/docs":
        assert any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        fetched = await gateway.get(asset)
        assert fetched.status_code == 200, asset
