"""A service's own credential: its client id and secret traded at the identity provider for a short `service` token.

A service calls another platform service on its own behalf (not for a person: notifications asks the directory for
a learner's e-mail address at send time) with a token whose only role is `service`. The identity provider (the
gateway) issues it for the client id and secret it knows:

    POST {identity_url}/auth/service-token   {"client_id": "notifications", "client_secret": "..."}
        200 {"access_token", "token_type": "Bearer", "expires_in"}  | 401 (unknown client or wrong secret)

`ServiceCredential.token()` keeps the token and fetches a new one once 80 % of its lifetime has passed (concurrent
callers wait for one fetch). A refresh that fails while the kept token is still valid keeps it a little longer;
with no valid token left the failure is `Unavailable` (503): the caller retries later.

    credential = ServiceCredential.of(settings)   # None without SERVICE_CLIENT_SECRET
    headers = {"Authorization": f"Bearer {await credential.token()}"}
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from prasmes_runtime.client import SharedClient
from prasmes_runtime.errors import Unavailable
from prasmes_runtime.logging import get_logger
from prasmes_runtime.settings import Settings

TOKEN_PATH = "/auth/service-token"
"""The identity provider's client-credentials endpoint, under IDENTITY_URL."""
REFRESH_AT = 0.8
"""The share of a token's lifetime after which a new one is fetched."""
RETRY_AFTER = 5.0
"""Seconds a failed refresh waits before the next attempt, while the kept token is still valid."""
EXPIRY_MARGIN = 5.0
"""Seconds before its `exp` a kept token is no longer handed out (it must still be valid where it is sent)."""
UNAVAILABLE = "the identity provider did not issue this service's token; try again later"
log = get_logger(__name__)


@dataclass(frozen=True)
class _Kept:
    token: str
    refresh_at: float
    expires_at: float


class ServiceCredential:
    """The client credentials of one service (`client_id`, `secret`) at `token_url`, and the token they bought."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        secret: SecretStr | str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        self._http = SharedClient(timeout=timeout, transport=transport)
        self._clock = clock
        self._kept: _Kept | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def of(cls, settings: Settings, **options: Any) -> ServiceCredential | None:
        """This service's credential from its settings (client id: SERVICE_NAME; secret: SERVICE_CLIENT_SECRET; the
        token endpoint under IDENTITY_URL); None when it has no secret."""
        if settings.service_client_secret is None:
            return None
        url = settings.identity_url.rstrip("/") + TOKEN_PATH
        return cls(url, settings.service_name, settings.service_client_secret, **options)

    def __repr__(self) -> str:
        return f"ServiceCredential({self.token_url!r}, {self.client_id!r}, secret=**********)"

    async def token(self) -> str:
        """A valid `service` token: the kept one until 80 % of its lifetime, then a new one (one fetch at a time)."""
        kept = self._kept
        if kept is not None and self._clock() < kept.refresh_at:
            return kept.token
        async with self._fetching():
            kept = self._kept
            now = self._clock()
            if kept is not None and now < kept.refresh_at:
                return kept.token  # another caller fetched it while this one waited
            try:
                self._kept = await self._fetch()
            except Unavailable:
                if kept is None or now >= kept.expires_at - EXPIRY_MARGIN:
                    raise
                log.warning("service_credential.refresh_failed", client_id=self.client_id, kept_for=RETRY_AFTER)
                self._kept = _Kept(kept.token, min(now + RETRY_AFTER, kept.expires_at), kept.expires_at)
            return self._kept.token

    def invalidate(self) -> None:
        """Forget the kept token (e.g. it was refused with a 401): the next `token()` fetches a new one."""
        self._kept = None

    def _fetching(self) -> asyncio.Lock:
        """The lock of this event loop (a lock belongs to the loop it was first awaited on; each test has its own)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def _fetch(self) -> _Kept:
        started = self._clock()
        body = {"client_id": self.client_id, "client_secret": self._secret.get_secret_value()}
        try:
            response = await self._http.client().post(self.token_url, json=body)
        except httpx.HTTPError as exc:
            log.warning("service_credential.unreachable", client_id=self.client_id, error=type(exc).__name__)
            raise Unavailable(UNAVAILABLE) from exc
        if response.status_code != 200:
            log.warning("service_credential.refused", client_id=self.client_id, status=response.status_code)
            raise Unavailable(UNAVAILABLE)
        try:
            answer = response.json()
            token, lifetime = answer["access_token"], float(answer["expires_in"])
            if not isinstance(token, str) or not token or lifetime <= 0:
                raise ValueError("no token, or no lifetime")
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("service_credential.unexpected_answer", client_id=self.client_id, error=type(exc).__name__)
            raise Unavailable(UNAVAILABLE) from exc
        return _Kept(token, started + REFRESH_AT * lifetime, started + lifetime)
