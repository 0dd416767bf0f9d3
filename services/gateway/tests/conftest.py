"""Fixtures: a real upstream service over HTTP (uvicorn on 127.0.0.1) and a gateway driven in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from gateway.app import create_app
from gateway.settings import GatewaySettings
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prasmes_testing.servers import free_port
from pydantic import BaseModel
from starlette.types import ASGIApp


@dataclass
class Seen:
    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Upstream:
    url: str
    seen: list[Seen] = field(default_factory=list)


class Tag(BaseModel):
    name: str


class Programme(BaseModel):
    title: str
    tags: list[Tag] = []


def upstream_app(seen: list[Seen]) -> FastAPI:
    app = FastAPI(title="Echo service")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/programmes", status_code=201)
    async def create_programme(programme: Programme) -> Programme:
        return programme

    @app.get("/programmes/{programme_id}", operation_id="get_programme")
    async def get_programme(programme_id: int) -> Programme:
        return Programme(title=f"programme {programme_id}")

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @app.api_route("/echo/{path:path}", methods=methods, include_in_schema=False)
    async def echo(path: str, request: Request) -> Response:
        body = await request.body()
        seen.append(
            Seen(
                request.method,
                request.scope["raw_path"].decode(),
                request.scope["query_string"].decode(),
                dict(request.headers),
                body,
            )
        )
        status = int(request.query_params.get("status", "200"))
        response = Response(content=b'{"echo": true}', status_code=status, media_type="application/json")
        response.raw_headers += [(b"x-multi", b"one"), (b"x-multi", b"two")]
        return response

    return app


class ThreadedServer:
    """uvicorn on a free port in a daemon thread; real HTTP between the gateway and the upstream."""

    def __init__(self, app: ASGIApp) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the upstream test server did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def threaded_server() -> type[ThreadedServer]:
    """Serves any ASGI app over real HTTP: `with threaded_server(app) as server: ... server.port`."""
    return ThreadedServer


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[Upstream]:
    upstream = Upstream(url="")
    with ThreadedServer(upstream_app(upstream.seen)) as server:
        upstream.url = f"http://127.0.0.1:{server.port}"
        yield upstream


@pytest.fixture
def upstream(_upstream_server: Upstream) -> Upstream:
    _upstream_server.seen.clear()
    return _upstream_server


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Finished spans of this process. OpenTelemetry keeps the first global provider it is given,
    so the exporter is added to whichever SDK provider is installed (or installs one)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def make_settings(tmp_path: Path, upstream: Upstream) -> Callable[..., GatewaySettings]:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    def make(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "var_dir": tmp_path,
            "dev_mode": True,
            "log_level": "WARNING",
            "service_urls": {"echo": upstream.url, "down": down},
        }
        return GatewaySettings(**{**values, **overrides})

    return make


GatewayPair = tuple[FastAPI, httpx.AsyncClient]


@pytest.fixture
async def make_gateway(
    make_settings: Callable[..., GatewaySettings],
) -> AsyncIterator[Callable[..., GatewayPair]]:
    """create_app(settings with `overrides`) and an httpx client that drives it in-process."""
    opened: list[GatewayPair] = []

    def make(**overrides: Any) -> GatewayPair:
        app = create_app(make_settings(**overrides))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        opened.append((app, client))
        return app, client

    yield make
    for app, client in opened:
        await client.aclose()
        await app.state.upstreams.pool.aclose()
        await app.state.upstream_client.aclose()


@pytest.fixture
def gateway_pair(make_gateway: Callable[..., GatewayPair]) -> GatewayPair:
    return make_gateway()


@pytest.fixture
def gateway_app(gateway_pair: GatewayPair) -> FastAPI:
    return gateway_pair[0]


@pytest.fixture
def gateway(gateway_pair: GatewayPair) -> httpx.AsyncClient:
    return gateway_pair[1]


@dataclass
class HtmlForm:
    """A form of a page as a browser would post it: its hidden fields, its choices and its buttons."""

    action: str
    method: str
    hidden: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    """Radio button name -> the values offered."""
    buttons: list[tuple[str, str]] = field(default_factory=list)
    """(name, value) of the submit buttons that have a name."""
    labels: dict[str, str] = field(default_factory=dict)
    """An input's id -> its label's text."""
    required: set[str] = field(default_factory=set)

    def fields(self, **chosen: str) -> dict[str, str]:
        return {**dict(self.hidden), **chosen}


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[HtmlForm] = []
        self._label_for: str | None = None
        self._label_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(HtmlForm(attributes.get("action", ""), attributes.get("method", "get").lower()))
        elif tag == "label":
            self._label_for, self._label_text = attributes.get("for", ""), []
        elif self.forms and tag in ("input", "button"):
            self._control(tag, attributes)

    def _control(self, tag: str, attributes: dict[str, str]) -> None:
        form, kind = self.forms[-1], attributes.get("type", "submit" if tag == "button" else "text")
        name, value = attributes.get("name", ""), attributes.get("value", "")
        if kind == "hidden":
            form.hidden.append((name, value))
        elif kind == "radio":
            form.choices.setdefault(name, []).append(value)
        elif kind == "submit" and name:
            form.buttons.append((name, value))
        if "required" in attributes:
            form.required.add(name)

    def handle_data(self, data: str) -> None:
        if self._label_for is not None:
            self._label_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_for is not None and self.forms:
            self.forms[-1].labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None


def read_forms(html: str) -> list[HtmlForm]:
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


@pytest.fixture(scope="session")
def html_forms() -> Callable[[str], list[HtmlForm]]:
    """Reads the forms of an HTML page (the identity provider's sign-in page) as a browser would post them."""
    return read_forms
