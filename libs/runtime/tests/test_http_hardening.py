"""What every service's HTTP side answers an attacker's probe: one error shape, a body cap, closed metrics,
docs without a CDN. Driven in-process on a small service built with `ServiceDefinition`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from prasmes_runtime.auth import CurrentUser, TokenIssuer, TokenVerifier
from prasmes_runtime.dependencies import DatabaseDep
from prasmes_runtime.service import ServiceDefinition
from prasmes_runtime.settings import Settings
from pydantic import BaseModel

MARKER_EMAIL = "anna.marker.7f3a@example.lv"
KIB = 1024


class Item(BaseModel):
    name: str
    count: int = 1


router = APIRouter()


@router.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@router.get("/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"subject": user.subject}


@router.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"size": size}


@router.patch("/profile")
async def change_profile(database: DatabaseDep) -> dict[str, str]:
    async with database.transaction() as session:
        await session.execute(sa.text("UPDATE no_such_profiles SET email = :email"), {"email": MARKER_EMAIL})
    return {"email": MARKER_EMAIL}


PROBE = ServiceDefinition(name="probe", title="Probe service", routers=[router])


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., FastAPI]:
    def make(**overrides: Any) -> FastAPI:
        values: dict[str, Any] = {
            "var_dir": tmp_path,
            "event_log_path": tmp_path / "events.db",
            "log_level": "WARNING",
            "dev_mode": False,
        }
        return PROBE.create_app(Settings(**(values | overrides)))

    return make


@pytest.fixture
async def client(make_app: Callable[..., FastAPI], token_verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()
    app.state.token_verifier = token_verifier  # the identity provider's key set, without fetching it
    async with _client(app) as c:
        yield c
    await app.state.runtime.database.dispose()


def _client(app: FastAPI) -> httpx.AsyncClient:
    # Not raising the app's exceptions: the test sees what a caller gets, 500 included.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://probe")


def _platform_shape(body: dict[str, Any], code: str) -> None:
    assert "detail" not in body
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"error", "message", "errors", "current"}


# ---------------------------------------------------------------- one error shape


async def test_an_unknown_route_answers_the_platform_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")

    assert response.status_code == 404
    _platform_shape(response.json(), "not_found")


async def test_a_wrong_method_answers_the_platform_405_and_keeps_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/items")

    assert response.status_code == 405
    _platform_shape(response.json(), "method_not_allowed")
    assert response.headers["allow"] == "POST"


async def test_malformed_json_names_the_body_not_a_position(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", content=b'{"name": "a", ', headers={"content-type": "application/json"})

    assert response.status_code == 422
    body = response.json()
    _platform_shape(body, "invalid_input")
    [violation] = body["errors"]
    assert (violation["field"], violation["rule"]) == ("body", "json_invalid")
    assert "not valid JSON" in violation["message"]


async def test_field_violations_keep_naming_field_and_rule(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "a", "count": "many"})

    assert response.status_code == 422
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("count", "int_parsing")]


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30.AAAA"])
async def test_a_garbage_token_gets_a_plain_401(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": "the token is not valid"}
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_of_another_key_gets_the_same_plain_401(make_app: Callable[..., FastAPI]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ours = TokenIssuer(Ed25519PrivateKey.generate(), issuer="prasmes-identity", audience="prasmes")
    theirs = TokenIssuer(Ed25519PrivateKey.generate(), issuer="prasmes-identity", audience="prasmes")
    theirs.kid = ours.kid
    app = make_app()
    app.state.token_verifier = TokenVerifier(issuer="prasmes-identity", audience="prasmes", jwks=ours.jwks())
    async with _client(app) as client:
        forged = await client.get("/me", headers={"Authorization": f"Bearer {theirs.issue('anna', ['learner'])}"})
        good = await client.get("/me", headers={"Authorization": f"Bearer {ours.issue('anna', ['learner'])}"})

    assert forged.status_code == 401
    assert forged.json() == {"error": "unauthorized", "message": "the token is not valid"}
    assert good.json() == {"subject": "anna"}


async def test_a_server_error_is_a_plain_500(client: httpx.AsyncClient) -> None:
    response = await client.patch("/profile")

    assert response.status_code == 500
    body = response.json()
    _platform_shape(body, "internal_error")
    text = response.text
    for internal in (MARKER_EMAIL, "no_such_profiles", "UPDATE", "sqlite", "Traceback"):
        assert internal not in text
    assert response.headers["x-request-id"]


def test_every_engine_hides_sql_parameters(make_app: Callable[..., FastAPI]) -> None:
    from prasmes_runtime.db import Database

    assert make_app().state.runtime.database.engine.sync_engine.hide_parameters is True
    assert Database("sqlite+aiosqlite:///:memory:").engine.sync_engine.hide_parameters is True


# ---------------------------------------------------------------- a body cap in every service


def _counted(total: int, chunk: int = 16 * KIB) -> tuple[list[int], Callable[[], AsyncIterator[bytes]]]:
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(total // chunk):
            sent.append(chunk)
            yield b"x" * chunk

    return sent, body


async def test_a_streamed_body_over_the_cap_is_refused_before_it_is_all_read(
    make_app: Callable[..., FastAPI],
) -> None:
    total = 4 * 1024 * KIB
    sent, body = _counted(total)
    async with _client(make_app(max_body_bytes=64 * KIB)) as client:
        response = await client.post("/upload", content=body())

    assert response.status_code == 413
    _platform_shape(response.json(), "payload_too_large")
    assert sum(sent) < total, "the service read the whole body before refusing it"
    assert sum(sent) <= 64 * KIB + 2 * 16 * KIB


async def test_a_declared_length_over_the_cap_is_refused_unread(make_app: Callable[..., FastAPI]) -> None:
    total = 1024 * KIB
    sent, body = _counted(total)
    async with _client(make_app(max_body_bytes=64 * KIB)) as client:
        response = await client.post("/upload", content=body(), headers={"content-length": str(total)})

    assert response.status_code == 413
    _platform_shape(response.json(), "payload_too_large")
    assert sent == []


async def test_a_json_body_over_the_cap_is_refused_too(make_app: Callable[..., FastAPI]) -> None:
    async with _client(make_app(max_body_bytes=1 * KIB)) as client:
        response = await client.post("/items", json={"name": "x" * 4 * KIB})

    assert response.status_code == 413
    _platform_shape(response.json(), "payload_too_large")


async def test_a_body_under_the_cap_is_served(make_app: Callable[..., FastAPI]) -> None:
    _, body = _counted(64 * KIB)
    async with _client(make_app(max_body_bytes=64 * KIB)) as client:
        response = await client.post("/upload", content=body())

    assert response.status_code == 200
    assert response.json() == {"size": 64 * KIB}


def test_the_default_cap_lets_the_gateway_answer_first_and_fits_documents() -> None:
    cap = Settings().max_body_bytes
    assert 10 * 1024 * KIB < cap <= 16 * 1024 * KIB


# ---------------------------------------------------------------- metrics for the operators' scraper only


async def test_metrics_are_closed_without_a_scrape_token(make_app: Callable[..., FastAPI]) -> None:
    async with _client(make_app()) as client:
        response = await client.get("/metrics")

    assert response.status_code == 404
    _platform_shape(response.json(), "not_found")
    assert "prasmes_" not in response.text


async def test_metrics_need_the_scrape_token(make_app: Callable[..., FastAPI]) -> None:
    async with _client(make_app(metrics_token="scrape-" + "k" * 32)) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer scrape-nope"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-" + "k" * 32})

    for refused in (missing, wrong):
        assert refused.status_code == 401
        _platform_shape(refused.json(), "unauthorized")
        assert "prasmes_" not in refused.text
    assert right.status_code == 200
    assert "prasmes_http_requests_total" in right.text


async def test_metrics_are_open_in_dev_mode_without_a_token(make_app: Callable[..., FastAPI]) -> None:
    async with _client(make_app(dev_mode=True)) as client:
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert "prasmes_http_requests_total" in response.text


async def test_probes_stay_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}


# ---------------------------------------------------------------- docs without a CDN


_URL_ATTRS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _external_hosts(html: str) -> list[str]:
    return re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_service_docs_load_nothing_from_elsewhere(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    html = response.text
    assert _external_hosts(html) == []
    assets = _URL_ATTRS.findall(html)
    assert any(a.endswith(".js") for a in assets)
    if page == "/docs":
        assert any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        fetched = await client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 1000 or asset.endswith(".png"), asset


async def test_the_docs_still_read_the_service_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert "/items" in document["paths"]
    assert "/openapi.json" in (await client.get("/docs")).text
