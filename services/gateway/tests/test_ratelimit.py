"""The token-bucket limiter (a fake clock, no sleeping) and its middleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from gateway.ratelimit import ClientKey, TokenBucketLimiter, retry_after_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def scope(peer: str, forwarded_for: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    return {"type": "http", "client": (peer, 50000), "headers": headers}


def test_a_burst_is_allowed_then_refused() -> None:
    limiter = TokenBucketLimiter(60, burst=3, clock=FakeClock())

    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(1.0)


def test_tokens_refill_at_the_rate() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(120, burst=1, clock=clock)  # one token every 0.5 s
    limiter.acquire("a")

    clock.advance(0.2)
    assert limiter.acquire("a") == pytest.approx(0.3)
    clock.advance(0.3)
    assert limiter.acquire("a") == 0.0


def test_a_bucket_never_holds_more_than_the_burst() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(60, burst=2, clock=clock)
    limiter.acquire("a")

    clock.advance(3600)

    assert [limiter.acquire("a") > 0 for _ in range(3)] == [False, False, True]


def test_clients_have_buckets_of_their_own() -> None:
    limiter = TokenBucketLimiter(60, burst=1, clock=FakeClock())

    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0


def test_idle_buckets_are_evicted() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(60, burst=10, clock=clock)  # full again after 10 s
    for client in range(100):
        limiter.acquire(f"client-{client}")
    assert len(limiter) == 100

    clock.advance(10)
    limiter.acquire("late")

    assert len(limiter) == 1


def test_memory_stays_bounded_under_a_flood_of_clients() -> None:
    limiter = TokenBucketLimiter(60, burst=10, clock=FakeClock(), max_clients=50)

    for client in range(1000):
        limiter.acquire(f"client-{client}")

    assert len(limiter) == 50


def test_a_busy_client_is_not_evicted_while_its_bucket_is_short() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(60, burst=2, clock=clock)
    limiter.acquire("busy")
    limiter.acquire("busy")

    clock.advance(1.5)  # refilled 1.5 of 2 tokens: still remembered
    limiter.acquire("other")

    assert limiter.acquire("busy") == 0.0
    assert limiter.acquire("busy") > 0


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (-1, 1), (60, 0)])
def test_nonsense_limits_are_refused(per_minute: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucketLimiter(per_minute, burst)


@pytest.mark.parametrize(("wait", "header"), [(0.001, 1), (0.5, 1), (1.0, 1), (1.01, 2), (59.2, 60)])
def test_retry_after_is_whole_seconds_at_least_one(wait: float, header: int) -> None:
    assert retry_after_seconds(wait) == header


def test_the_key_is_the_peer_when_no_proxy_is_trusted() -> None:
    key = ClientKey()

    assert key(scope("203.0.113.7", forwarded_for="198.51.100.1")) == "203.0.113.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    key = ClientKey(["10.0.0.0/8"])

    assert key(scope("203.0.113.7", forwarded_for="198.51.100.1")) == "203.0.113.7"


def test_a_trusted_proxy_names_the_client() -> None:
    key = ClientKey(["10.0.0.0/8", "192.0.2.1"])

    # A client may prepend anything it likes; the hop our proxies saw is the rightmost untrusted one.
    header = "1.2.3.4, 198.51.100.1, 10.1.1.1"
    assert key(scope("192.0.2.1", forwarded_for=header)) == "198.51.100.1"


def test_a_trusted_proxy_without_forwarded_for_is_the_client() -> None:
    assert ClientKey(["10.0.0.0/8"])(scope("10.0.0.5")) == "10.0.0.5"


def test_ipv6_clients_share_a_bucket_per_64() -> None:
    key = ClientKey()

    assert key(scope("2001:db8:1:2::a")) == key(scope("2001:db8:1:2:ffff::1")) == "2001:db8:1:2::/64"
    assert key(scope("::ffff:198.51.100.1")) == "198.51.100.1"


async def test_over_the_limit_is_429_with_retry_after(make_gateway: Callable[..., Any], upstream: Any) -> None:
    _, client = make_gateway(rate_limit_per_minute=6, rate_limit_burst=2)

    statuses = [(await client.get("/api/echo/echo/x")).status_code for _ in range(2)]
    refused = await client.post("/auth/dev-login", json={"username": "anna"})

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert refused.headers["x-request-id"]
    assert len(upstream.seen) == 2


async def test_health_and_metrics_are_not_limited(make_gateway: Callable[..., Any]) -> None:
    _, client = make_gateway(rate_limit_per_minute=1, rate_limit_burst=1)

    statuses = {(await client.get("/healthz")).status_code for _ in range(5)}

    assert statuses == {200}
