"""The platform's API as the pages use it: every call goes through the gateway, with the signed-in user's token."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

PUBLIC_SECONDS = 30.0
KEPT_ENTRIES = 20_000


@dataclass(eq=False)  # not frozen: Starlette clears an answered exception's __traceback__
class ApiError(Exception):
    """The API answered with an error (its platform-shaped body kept: `error`, `message`, `errors`, `current`)."""

    status: int
    body: dict[str, Any]

    @property
    def violations(self) -> list[dict[str, str]]:
        errors = self.body.get("errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


class Unreachable(Exception):
    """The gateway did not answer (down, timed out)."""


class Kept:
    """Answers kept for a few seconds in this process, by key (never more than `entries` of them)."""

    def __init__(self, entries: int = KEPT_ENTRIES) -> None:
        self._entries = entries
        self._kept: dict[str, tuple[float, Any]] = {}

    async def read(self, key: str, seconds: float, read: Callable[[], Awaitable[Any]]) -> Any:
        """What `read` answered for `key` in the last `seconds`, else what it answers now."""
        found = self._kept.get(key)
        if found is not None and found[0] > time.monotonic():
            return found[1]
        value = await read()
        self.put(key, seconds, value)
        return value

    def put(self, key: str, seconds: float, value: Any) -> None:
        now = time.monotonic()
        if len(self._kept) >= self._entries:  # the ended ones go first
            self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            if len(self._kept) >= self._entries:
                self._kept.clear()
        self._kept[key] = (now + seconds, value)


class Gateway:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._public = Kept()

    async def public(self, path: str, seconds: float = PUBLIC_SECONDS) -> Any:
        """A public answer that changes seldom (the funding projects), kept for `seconds` in this process: every
        catalogue page needs it, and asking accounts each time was a tenth of the page's cost."""
        return await self._public.read(path, seconds, lambda: self.get(path))

    async def get(self, path: str, token: str | None = None, params: Any = None) -> Any:
        return _body(await self._send("GET", path, token, params=params))

    async def post(self, path: str, token: str | None, json: Any) -> Any:
        return _body(await self._send("POST", path, token, json=json))

    async def put(self, path: str, token: str | None, json: Any) -> Any:
        return _body(await self._send("PUT", path, token, json=json))

    async def patch(self, path: str, token: str | None, json: Any) -> Any:
        return _body(await self._send("PATCH", path, token, json=json))

    async def delete(self, path: str, token: str | None) -> Any:
        return _body(await self._send("DELETE", path, token))

    async def upload(self, path: str, token: str | None, content: bytes, media_type: str, params: Any = None) -> Any:
        """A file as the request's body (calls' attachments, the signed agreement, catalog's documents)."""
        headers = {"Content-Type": media_type}
        return _body(await self._send("POST", path, token, content=content, params=params, headers=headers))

    async def raw(self, path: str, token: str | None = None, params: Any = None) -> httpx.Response:
        """The answer as it came (an SVG chart, a file), after the same error check."""
        response = await self._send("GET", path, token, params=params)
        _check(response)
        return response

    async def _send(
        self, method: str, path: str, token: str | None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = (headers or {}) | ({"Authorization": f"Bearer {token}"} if token else {})
        try:
            return await self.client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(type(exc).__name__) from exc


def _check(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    raise ApiError(response.status_code, body if isinstance(body, dict) else {})


def _body(response: httpx.Response) -> Any:
    _check(response)
    return response.json() if response.content else None
