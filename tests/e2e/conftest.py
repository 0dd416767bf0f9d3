"""The platform the web pages' browser tests run against: started once for the run (as `make run` starts it, with
its demo data), only when a test asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prasmes_devtools.devstack import Stack, free_base_port, seed_demo


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(var_dir=tmp_path_factory.mktemp("web"), base_port=free_base_port())
    stack.start(timeout=120)
    try:
        seed_demo(stack)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def demo_programme(web_stack: Stack) -> dict[str, Any]:
    """The demo's programme, "Datu analīze ar Python" (others are published by tests of the agency's pages)."""
    with httpx.Client(base_url=web_stack.gateway_url, timeout=10) as client:
        found = client.get("/api/catalog/public/programmes", params={"limit": 100}).json()["items"]
    (programme,) = [p for p in found if p["title"]["lv"] == "Datu analīze ar Python"]
    return dict(programme)
