"""The scenario's HTTP side: one pooled async client to the gateway, learners' tokens and the staff's logins, a
bounded number of persons in flight with progress, and patience with what the platform has not caught up with yet.

Learners' tokens are signed with the stack's identity key (`Stack.token_issuer`), as the identity provider signs
them, one subject per person; the seeded staff (Ilze, Mārtiņš, Līga) log in through the gateway's dev login, again
when their token is half-way to its expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from prasmes_runtime.auth import TokenIssuer

T = TypeVar("T")
Who = int | str
"""A learner by their person number, or a seeded staff member by username."""
LEARNER_TOKEN_SECONDS = 24 * 3600
"""A learner's token outlives a full run; minted once per person and run."""
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
RETRIES = 8
PATIENCE_SECONDS = 180.0
"""How long a person waits for the platform to catch up (an event another service has not consumed yet)."""


class ScenarioError(Exception):
    """An answer the scenario does not expect: the run stops (and resumes from there when run again)."""

    @classmethod
    def of(cls, response: httpx.Response, what: str) -> ScenarioError:
        request = response.request
        return cls(
            f"{what}: {request.method} {request.url.path} answered {response.status_code}: {response.text[:500]}"
        )


class NotYet(Exception):
    """The platform has not caught up with an earlier step yet: the person is tried again a little later."""


def subject(person: int) -> str:
    return f"scenario-learner-{person}"


@dataclass
class Api:
    client: httpx.AsyncClient
    issuer: TokenIssuer
    requests: int = 0
    _tokens: dict[int, str] = field(default_factory=dict)
    _staff: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def _learner(self, person: int) -> dict[str, str]:
        token = self._tokens.get(person)
        if token is None:
            token = self.issuer.issue(subject(person), ["learner"], ttl_seconds=LEARNER_TOKEN_SECONDS)
            self._tokens[person] = token
        return {"Authorization": f"Bearer {token}"}

    async def login(self, username: str, *, again: bool = False) -> dict[str, Any]:
        """The staff member's dev login (token and subject), kept until half its lifetime has passed."""
        kept = self._staff.get(username)
        if kept is not None and not again and time.monotonic() < kept[0]:
            return kept[1]
        response = await self.client.post("/auth/dev-login", json={"username": username})
        if response.status_code != 200:
            raise ScenarioError.of(response, f"the dev login of {username}")
        body: dict[str, Any] = response.json()
        self._staff[username] = (time.monotonic() + body["expires_in"] / 2, body)
        return body

    async def _headers(self, who: Who, again: bool = False) -> dict[str, str]:
        if isinstance(who, int):
            return self._learner(who)
        return {"Authorization": f"Bearer {(await self.login(who, again=again))['access_token']}"}

    async def call(self, method: str, path: str, who: Who | None = None, **send: Any) -> httpx.Response:
        """One request, sent again on a transport error or an overloaded answer (429, 502-504), and once with a new
        login when a staff member's token was refused."""
        again, extra = False, send.pop("headers", {})
        for attempt in range(RETRIES):
            headers = await self._headers(who, again) if who is not None else {}
            try:
                response = await self.client.request(method, path, headers={**headers, **extra}, **send)
            except httpx.TransportError:
                await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
                continue
            self.requests += 1
            if response.status_code == 401 and isinstance(who, str) and not again:
                again = True
                continue
            if response.status_code in RETRIED_STATUSES:
                await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
                continue
            return response
        raise ScenarioError(f"{method} {path}: no answer after {RETRIES} attempts")


@contextlib.asynccontextmanager
async def api(base_url: str, issuer: TokenIssuer, concurrency: int) -> AsyncIterator[Api]:
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        yield Api(client, issuer)


def rule(response: httpx.Response) -> set[str]:
    """The rules a 422 names (`{"errors": [{"field", "rule", ...}]}`)."""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        return {e.get("rule", "") for e in response.json().get("errors", [])}
    return set()


def current(response: httpx.Response) -> dict[str, Any]:
    """What a 409 says the thing now is."""
    with contextlib.suppress(ValueError, AttributeError):
        found = response.json().get("current")
        if isinstance(found, dict):
            return found
    return {}


async def patiently(action: Callable[[], Awaitable[T]], what: str, patience: float = PATIENCE_SECONDS) -> T:
    """`action()` until it does not raise NotYet, waiting a little longer each time, for at most `patience` s."""
    deadline, delay = time.monotonic() + patience, 0.1
    while True:
        try:
            return await action()
        except NotYet as exc:
            if time.monotonic() > deadline:
                raise ScenarioError(f"{what}: the platform did not catch up within {patience:.0f} s ({exc})") from exc
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


@dataclass
class Progress:
    """A step's progress, printed every few seconds: persons done of all, their rate, requests per second."""

    label: str
    total: int
    done: int
    api: Api
    every: float = 5.0
    started: float = field(default_factory=time.monotonic)
    _requests_at_start: int = field(init=False, default=0)
    _done_at_start: int = field(init=False, default=0)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        new = self.done - self._done_at_start
        rate = new / elapsed
        requests = (self.api.requests - self._requests_at_start) / elapsed
        left = self.total - self.done
        eta = f", about {_duration(left / rate)} left" if rate > 0 and left else ""
        return f"  {self.label}: {self.done}/{self.total} ({rate:.1f}/s, {requests:.0f} requests/s{eta})"

    def __post_init__(self) -> None:
        self._requests_at_start = self.api.requests
        self._done_at_start = self.done

    async def show(self) -> None:
        tty = sys.stdout.isatty()
        while True:
            await asyncio.sleep(1.0 if tty else self.every)
            print("\r" + self.line() if tty else self.line(), end="" if tty else "\n", flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
        if seconds >= 3600
        else f"{seconds // 60} min {seconds % 60:02d} s"
    )


async def each(
    items: Sequence[T],
    action: Callable[[T], Awaitable[None]],
    progress: Progress,
    concurrency: int,
    on_done: Callable[[T], None],
) -> None:
    """`action` on every item, at most `concurrency` at a time, each patient with the platform (`patiently`); the
    first failure stops them all and is raised."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def work() -> None:
        while not queue.empty():
            item = queue.get_nowait()
            await patiently(functools.partial(action, item), f"{progress.label} #{item}")
            on_done(item)
            progress.done += 1

    shower = asyncio.create_task(progress.show())
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(items)) or 1):
                group.create_task(work())
    except* Exception as failed:  # the first failure, as itself: the others are its consequences (cancelled)
        raise failed.exceptions[0] from None
    finally:
        shower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await shower
        end = "\n" if sys.stdout.isatty() else ""
        print(end + progress.line(), flush=True)
