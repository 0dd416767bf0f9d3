"""The proxy's connections to the services: HTTP/1.1 with keep-alive, a pool per origin, answers parsed by httptools.

Why not httpx on this path: profiled under load, its client, transport, connection pool, h11 and anyio layers were
most of the gateway's CPU, and its pool visits every pooled connection on each request and again on each release
(idle? expired? is its socket readable: a poll each). The proxy needs little of that: one request with a body already
read, the answer's status, headers and bytes as they came (transfer-decoded, content-encoding untouched). Here a
request is one write, an answer is parsed as it arrives by the parser uvicorn itself uses, and a connection is taken
from and given back to the top of its origin's stack. httpx stays for the gateway's other calls (readiness, the
services' OpenAPI documents).

Failures raise `UpstreamError`, named as httpx names them (`ConnectError`, `ConnectTimeout`, `ReadTimeout`,
`RemoteProtocolError`, `PoolTimeout`, ...), and saying how far the request got: `unsent` (no connection could be
made: the service saw nothing of it) or `unanswered` (sent, then the connection ended before a status line: a
replica that died, or a keep-alive connection it had just closed).

A service may run several replicas (`Replicas`): each request goes to the next in turn, and the proxy tries another
one, each replica at most once, only where that cannot apply a request twice (`UpstreamError.retryable`):

* an `unsent` request, whatever its method: nothing reached the replica that failed;
* an `unanswered` request whose method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE): sending it again
  changes nothing the first one may have changed.

Anything else is not retried: a POST (or PATCH) that was sent may have taken effect although its answer was lost,
and no service deduplicates by an `Idempotency-Key` (none reads one), so sending it again could open an account or
submit an application twice; a `ReadTimeout` is a service still at work on the request. A replica that refuses a
connection sits out `COOLDOWN_SECONDS` (tried again after it, or before it when every other one failed too).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import httptools

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
COOLDOWN_SECONDS = 3.0
"""How long a replica that refused a connection is passed over (a restart takes longer; a blip less)."""


class UpstreamError(Exception):
    """The exchange with a service failed; `kind` names how (as httpx would). `unsent`: nothing of the request
    reached the service; `unanswered`: it was sent, and the connection ended before a status line."""

    def __init__(self, kind: str, detail: str = "", *, unsent: bool = False, unanswered: bool = False) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.unsent = unsent
        self.unanswered = unanswered

    def retryable(self, method: str) -> bool:
        """Whether another replica may be sent the same request without risk of applying it twice."""
        return self.unsent or (self.unanswered and method in IDEMPOTENT_METHODS)


@dataclass(frozen=True)
class Origin:
    """Where a service listens, from its base URL (`SERVICE_URLS`)."""

    scheme: str
    host: str
    port: int
    prefix: str
    """The base URL's path, without its trailing slash ("" for none): prepended to every forwarded path."""
    host_header: bytes = field(compare=False)

    @classmethod
    def of(cls, base_url: str) -> Origin:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a service URL must be http(s)://host[:port][/path], not {base_url!r}")
        default = 443 if parts.scheme == "https" else 80
        port = parts.port or default
        host = parts.hostname
        shown = f"[{host}]" if ":" in host else host
        header = shown if port == default else f"{shown}:{port}"
        return cls(parts.scheme, host, port, parts.path.rstrip("/"), header.encode("idna"))


class Replicas:
    """A service's replicas (its `SERVICE_URLS` entry): each request starts at the next in turn (round robin); one
    that refused a connection is tried last until its cool-down has passed."""

    def __init__(self, origins: Sequence[Origin], cooldown: float = COOLDOWN_SECONDS) -> None:
        if not origins:
            raise ValueError("a service needs at least one replica")
        self.origins = tuple(origins)
        self._cooldown = cooldown
        self._turn = 0
        self._out_until: dict[Origin, float] = {}

    @classmethod
    def of(cls, base_urls: Sequence[str], cooldown: float = COOLDOWN_SECONDS) -> Replicas:
        return cls([Origin.of(url) for url in base_urls], cooldown)

    def order(self, now: float) -> Sequence[Origin]:
        """The replicas to try for one request, each once: from the next in turn, those sitting out last."""
        if len(self.origins) == 1:
            return self.origins
        start = self._turn
        self._turn = (start + 1) % len(self.origins)
        turn = self.origins[start:] + self.origins[:start]
        if not self._out_until:
            return turn
        self._out_until = {origin: until for origin, until in self._out_until.items() if until > now}
        return sorted(turn, key=lambda origin: origin in self._out_until)  # stable: the turn's order otherwise

    def sit_out(self, origin: Origin, now: float) -> None:
        """`origin` refused a connection: pass it over for the cool-down."""
        if len(self.origins) > 1:
            self._out_until[origin] = now + self._cooldown


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one exchange at a time, its answer parsed as the bytes arrive."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = self._loop = loop
        self._transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[UpstreamResponse] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._head = False
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._until_close = False
        self.reusable = False
        self._last_read = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # --------------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not derive from asyncio's

    def data_received(self, data: bytes) -> None:
        if self._parser is None:  # bytes nobody asked for: the connection cannot be trusted with a next request
            self.close()
            return
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError("RemoteProtocolError", f"the service's answer is not valid HTTP ({exc})"))

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._headers_done and self._until_close:  # a body delimited by the end of the connection: it ended
            self.reusable = False
            self._complete()
            return
        unanswered = not self._headers_done
        error = UpstreamError("RemoteProtocolError", "the service closed the connection", unanswered=unanswered)
        self._fail(error)

    # --------------------------------------------------------------- httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        assert self._parser is not None
        status = self._parser.get_status_code()
        if self._head:  # no body follows, whatever its Content-Length says; the parser would wait for one
            self.reusable = False
            self._complete()
            return
        framed = any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in self._headers)
        self._until_close = not framed and status >= 200 and status not in (204, 304)

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        assert self._parser is not None
        self.reusable = self._parser.should_keep_alive() and not self.closed
        self._complete()

    # --------------------------------------------------------------- the exchange

    async def exchange(self, request: bytes, *, head: bool, timeout: float) -> UpstreamResponse:
        assert self._transport is not None and self._waiter is None
        self._waiter = self._loop.create_future()
        self._parser = httptools.HttpResponseParser(self)
        self._head = head
        self._headers, self._body = [], []
        self._headers_done = self._until_close = self.reusable = False
        self._last_read = self._loop.time()
        self._timer = self._loop.call_at(self._last_read + timeout, self._check_timeout, timeout)
        try:
            self._transport.write(request)
            return await self._waiter
        except BaseException:
            self.reusable = False  # cancelled, or failed midway: what the connection holds next is unknown
            raise
        finally:
            self._timer.cancel()
            self._waiter = None
            self._parser = None

    def _check_timeout(self, timeout: float) -> None:
        """Times out an answer that stays silent for `timeout` (reset by every read, as httpx's read timeout)."""
        if self._waiter is None or self._waiter.done():
            return
        silent_until = self._last_read + timeout
        if self._loop.time() < silent_until:
            self._timer = self._loop.call_at(silent_until, self._check_timeout, timeout)
            return
        self._fail(UpstreamError("ReadTimeout", f"no answer within {timeout} s"))

    def _complete(self) -> None:
        assert self._parser is not None
        if self._waiter is not None and not self._waiter.done():
            status = self._parser.get_status_code()
            self._waiter.set_result(UpstreamResponse(status, self._headers, b"".join(self._body)))

    def _fail(self, error: UpstreamError) -> None:
        self.reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


class UpstreamPool:
    """Keep-alive connections per origin, the most recently used first; O(1) to take and to give back.

    At most `max_connections` exchanges at a time (a request past it waits up to `timeout`, then `PoolTimeout`);
    per origin at most `max_idle` idle connections are kept, none longer than `keepalive_expiry` seconds (keep it
    shorter than the services' keep-alive, so the gateway never writes on a connection a service has just closed).
    """

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float,
        max_connections: int = 256,
        max_idle: int = 200,
        keepalive_expiry: float = 60.0,
        user_agent: str = "prasmes-gateway",
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._keepalive_expiry = keepalive_expiry
        self._max_idle = max_idle
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._user_agent = user_agent.encode("latin-1")
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    async def request(
        self,
        origin: Origin,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
    ) -> UpstreamResponse:
        """Sends `method target` (the path with its query, as it goes on the request line) with `headers` (lower-case
        names; `host`, `connection`, `user-agent` and `content-length` are the pool's) and `body`."""
        if self._closed:
            raise UpstreamError("ConnectError", "the upstream pool is closed")
        request = self._encode(origin, method, target, headers, body)
        if self._slots.locked():  # (uncontended, acquiring does not even suspend: no timer for it)
            try:
                async with asyncio.timeout(self._timeout):
                    await self._slots.acquire()
            except TimeoutError:
                raise UpstreamError("PoolTimeout", "every upstream connection stayed busy") from None
        else:
            await self._slots.acquire()
        try:
            connection = self._take(origin) or await self._connect(origin)
            response = await connection.exchange(request, head=method == "HEAD", timeout=self._timeout)
            self._give_back(origin, connection)
            return response
        finally:
            self._slots.release()

    def _encode(
        self, origin: Origin, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> bytes:
        parts = [method.encode("ascii"), b" ", target.encode("latin-1"), b" HTTP/1.1\r\nhost: ", origin.host_header]
        if body or method not in _NO_BODY_METHODS:
            parts += [b"\r\ncontent-length: ", str(len(body)).encode("ascii")]
        parts += [b"\r\nconnection: keep-alive\r\nuser-agent: ", self._user_agent]
        for name, value in headers:
            parts += [b"\r\n", name, b": ", value]
        parts += [b"\r\n\r\n", body]
        return b"".join(parts)

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() - self._keepalive_expiry
        while idle and (idle[0].closed or idle[0].idle_since < deadline):  # the oldest, at the bottom
            idle.popleft().close()
        while idle:
            connection = idle.pop()
            if connection.loop is not loop:  # made in another event loop (tests): unusable, and not closable here
                continue
            if not connection.closed:
                return connection
        return None

    def _give_back(self, origin: Origin, connection: _Connection) -> None:
        if not connection.reusable or connection.closed or self._closed:
            connection.close()
            return
        idle = self._idle.setdefault(origin, deque())
        if len(idle) >= self._max_idle:
            idle.popleft().close()
        connection.idle_since = asyncio.get_running_loop().time()
        idle.append(connection)

    async def _connect(self, origin: Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        context = self._ssl_context() if origin.scheme == "https" else None
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Connection(loop), origin.host, origin.port, ssl=context
                )
        except TimeoutError:
            raise UpstreamError("ConnectTimeout", f"{origin.host}:{origin.port}", unsent=True) from None
        except OSError as exc:
            raise UpstreamError("ConnectError", str(exc), unsent=True) from exc
        return protocol

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._idle.clear()
        await asyncio.sleep(0)  # the transports close in the loop's next round
