"""One pooled HTTP client per process for the calls a service makes to another (registers, the directory).

An `httpx.AsyncClient` built per call costs a TLS context and a new connection each time (about 27 ms of CPU,
most of calls' checks under load); one kept for the process reuses both. It belongs to the event loop it was made
on: a new loop (each test has its own) gets a new client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class SharedClient:
    """`client()` is this process's `httpx.AsyncClient` with the given options, made on first use."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._loop is not loop:
            self._client, self._loop = httpx.AsyncClient(**self._options), loop
        return self._client
