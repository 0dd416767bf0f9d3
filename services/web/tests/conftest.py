"""The web app in-process, pointed at a gateway address nothing listens on: for what the pages decide themselves
(who may see a page, the CSRF check, redirects, headers) before they ask the API anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prasmes_testing.servers import free_port
from web.app import create_app
from web.settings import WebSettings


@pytest.fixture
def web_app(tmp_path: Path) -> FastAPI:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = WebSettings(
        var_dir=tmp_path, gateway_url=nowhere, public_url=nowhere, web_url="http://web.test", log_level="WARNING"
    )
    return create_app(settings)


@pytest.fixture
async def web(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as client:
        yield client
