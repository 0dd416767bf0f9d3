"""Per-client token buckets, applied to /api/* and /auth/* as an ASGI middleware."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from prasmes_runtime.errors import DomainError
from starlette.types import ASGIApp, Receive, Scope, Send

Clock = Callable[[], float]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """`burst` requests at once, refilled at `per_minute`; O(1) per call, memory bounded.

    A bucket left alone long enough to refill completely is indistinguishable from a new one, so
    it is dropped; `max_clients` caps memory even under a flood of distinct clients.
    """

    def __init__(
        self, per_minute: float, burst: int, *, clock: Clock = time.monotonic, max_clients: int = 100_000
    ) -> None:
        if per_minute <= 0 or burst < 1 or max_clients < 1:
            raise ValueError("per_minute must be > 0, burst and max_clients >= 1")
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._idle_after = self._burst / self._rate
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, key: str) -> float:
        """Take one token for `key`: 0.0 when allowed, else the seconds until a token is due."""
        now = self._clock()
        bucket = self._refilled(key, now)
        self._evict(now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(self._burst, now)
        else:
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
        self._buckets[key] = bucket  # most recently used at the end
        return bucket

    def _evict(self, now: float) -> None:
        # Amortised O(1): each bucket is evicted at most once after being (re)inserted.
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if now - oldest.updated < self._idle_after:
                break
            self._buckets.popitem(last=False)


def retry_after_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


class ClientKey:
    """The client's IP: the peer, or the X-Forwarded-For hop nearest to us when the peer is trusted."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted: tuple[IpNetwork, ...] = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)

    def __call__(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if not self._trusted or not self._is_trusted(peer):
            return _bucket_key(peer)
        # The rightmost hop that is not one of ours is the first one we cannot vouch for.
        for hop in reversed(_forwarded_for(scope)):
            if not self._is_trusted(hop):
                return _bucket_key(hop)
        return _bucket_key(peer)


def _bucket_key(address: str) -> str:
    """IPv6 clients are keyed by their /64: one host usually holds the whole prefix."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _forwarded_for(scope: Scope) -> list[str]:
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
    return [hop.strip() for value in values for hop in value.split(",") if hop.strip()]


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: TokenBucketLimiter,
        client_key: ClientKey,
        prefixes: Sequence[str] = ("/api/", "/auth/"),
    ) -> None:
        self.app = app
        self._limiter = limiter
        self._client_key = client_key
        self._prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self._prefixes):
            await self.app(scope, receive, send)
            return
        wait = self._limiter.acquire(self._client_key(scope))
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = retry_after_seconds(wait)
        error = RateLimited(f"too many requests; retry after {retry_after} s")
        response = JSONResponse(
            {**error.body(), "retry_after": retry_after},
            status_code=error.status,
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
