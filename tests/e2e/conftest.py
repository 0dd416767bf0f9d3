"""The platform the web pages' browser tests run against: started once for the run (as `make run` starts it, with
its demo data, but each service as one process: the pages do not care which role serves them, the api and worker
split is tests/integration/test_roles.py's subject, and half the processes start in half the time), only when a test
asks for it, and stopped after the last test that asks for it: an idle stack still takes part of a core (a third
with both roles), which the rest of the suite (on CI's 2 cores) should not pay for.

The browser modules that change what others read (an allocation, a rebuild, calls' clock) run on their own stacks,
also one process per service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prasmes_devtools.devstack import Stack, free_base_port, seed_demo

WEB_STACK = "web_stack"
_last_user: list[str] = []
"""The node id of the last collected test that uses the web stack."""
_started: list[Stack] = []


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected theirs
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    users = [item.nodeid for item in items if WEB_STACK in getattr(item, "fixturenames", ())]
    _last_user[:] = users[-1:]


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _started and [item.nodeid] == _last_user:
        _started[0].stop()  # the fixture's own stop, at the session's end, finds nothing left to stop


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(var_dir=tmp_path_factory.mktemp("web"), base_port=free_base_port(), split_roles=False)
    _started[:] = [stack]
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
