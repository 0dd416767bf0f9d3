"""The rate limit cannot be dodged with a made-up X-Forwarded-For: the gateway as the launcher starts it (a real
uvicorn process) keys its limiter on the real peer, and believes the header only from a configured proxy."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prasmes_devtools.devstack import Stack, free_base_port

pytestmark = pytest.mark.e2e

BURST = 5


def _gateway(tmp_path_factory: pytest.TempPathFactory, **env: str) -> Iterator[Stack]:
    stack = Stack(
        var_dir=tmp_path_factory.mktemp("xff"),
        base_port=free_base_port(),
        extra_env={"DEV_MODE": "true", "RATE_LIMIT_PER_MINUTE": "6", "RATE_LIMIT_BURST": str(BURST), **env},
    )
    stack.start(("gateway",))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _gateway(tmp_path_factory)


@pytest.fixture(scope="module")
def behind_a_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway that trusts 127.0.0.1 as its load balancer (the test client plays the balancer)."""
    yield from _gateway(tmp_path_factory, TRUSTED_PROXIES='["127.0.0.1"]')


def _flood(stack: Stack, forwarded_for: list[str]) -> list[int]:
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        return [client.get("/auth/dev-users", headers={"X-Forwarded-For": hop}).status_code for hop in forwarded_for]


def test_a_spoofed_forwarded_for_flood_is_limited(gateway: Stack) -> None:
    statuses = _flood(gateway, [f"198.51.100.{i}" for i in range(1, 31)])

    assert statuses[:BURST] == [200] * BURST
    assert set(statuses[BURST:]) == {429}, statuses


def test_a_trusted_proxy_names_its_clients(behind_a_proxy: Stack) -> None:
    distinct = _flood(behind_a_proxy, [f"203.0.113.{i}" for i in range(1, 16)])
    one_client = _flood(behind_a_proxy, ["192.0.2.77"] * (BURST + 3))
    spoofed_in_front = _flood(behind_a_proxy, [f"10.9.9.{i}, 192.0.2.77" for i in range(1, 4)])

    assert set(distinct) == {200}
    assert one_client[:BURST] == [200] * BURST and set(one_client[BURST:]) == {429}
    assert set(spoofed_in_front) == {429}  # what a client prepends is not the hop our proxy saw
