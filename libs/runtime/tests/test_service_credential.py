"""A service's credential: its token is fetched once, kept until 80 % of its lifetime, shared by concurrent callers,
refreshed after; a failed refresh keeps a still valid token a little longer; no token at all is `Unavailable`.
Against a small token endpoint in-process (the gateway's own is tested with the gateway)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from prasmes_runtime.credentials import TOKEN_PATH, ServiceCredential
from prasmes_runtime.errors import Unavailable
from prasmes_runtime.settings import Settings
from starlette.types import Receive, Scope, Send

URL = f"http://identity{TOKEN_PATH}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class TokenEndpoint:
    """An ASGI token endpoint: counts what it was asked, answers `status`, may hold each answer until `release`."""

    expires_in: int = 300
    status: int = 200
    asked: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http" and scope["path"] == TOKEN_PATH and scope["method"] == "POST"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.asked.append(json.loads(body))
        self.arrived.set()
        if self.release is not None:
            await self.release.wait()
        answer = {"access_token": f"token-{len(self.asked)}", "token_type": "Bearer", "expires_in": self.expires_in}
        if self.status != 200:
            answer = {"error": "unauthorized", "message": "the client credentials are not valid"}
        payload = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _credential(endpoint: TokenEndpoint, clock: Clock) -> ServiceCredential:
    return ServiceCredential(URL, "notifications", "s3cret", transport=httpx.ASGITransport(app=endpoint), clock=clock)


async def test_the_token_is_kept_until_80_percent_of_its_lifetime_then_fetched_again() -> None:
    endpoint, clock = TokenEndpoint(expires_in=300), Clock()
    credential = _credential(endpoint, clock)
    assert await credential.token() == "token-1"
    assert endpoint.asked == [{"client_id": "notifications", "client_secret": "s3cret"}]
    clock.now += 239
    assert await credential.token() == "token-1"
    assert len(endpoint.asked) == 1
    clock.now += 1  # 240 s: 80 % of 300
    assert await credential.token() == "token-2"
    assert await credential.token() == "token-2"
    assert len(endpoint.asked) == 2


async def test_concurrent_callers_share_one_fetch() -> None:
    endpoint, clock = TokenEndpoint(release=asyncio.Event()), Clock()
    credential = _credential(endpoint, clock)
    callers = [asyncio.ensure_future(credential.token()) for _ in range(20)]
    await endpoint.arrived.wait()
    await asyncio.sleep(0.01)  # the other callers are waiting by now
    assert endpoint.release is not None
    endpoint.release.set()
    assert await asyncio.gather(*callers) == ["token-1"] * 20
    assert len(endpoint.asked) == 1


async def test_a_refused_credential_is_unavailable_and_nothing_is_kept() -> None:
    endpoint, clock = TokenEndpoint(status=401), Clock()
    credential = _credential(endpoint, clock)
    for _ in range(2):
        with pytest.raises(Unavailable):
            await credential.token()
    assert len(endpoint.asked) == 2


async def test_an_unreachable_identity_provider_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    credential = ServiceCredential(URL, "notifications", "s3cret", transport=httpx.MockTransport(refuse))
    with pytest.raises(Unavailable):
        await credential.token()


async def test_an_answer_without_a_token_is_unavailable() -> None:
    answers = [{"access_token": "", "expires_in": 300}, {"access_token": "t"}, ["t"], "not json"]
    for answer in answers:
        content = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        transport = httpx.MockTransport(lambda _, body=content: httpx.Response(200, content=body))
        with pytest.raises(Unavailable):
            await ServiceCredential(URL, "notifications", "s3cret", transport=transport).token()


async def test_a_failed_refresh_keeps_the_still_valid_token_and_tries_again_shortly() -> None:
    endpoint, clock = TokenEndpoint(expires_in=300), Clock()
    credential = _credential(endpoint, clock)
    assert await credential.token() == "token-1"
    endpoint.status = 503
    clock.now += 250
    assert await credential.token() == "token-1"  # refresh failed; 50 s of validity left
    assert await credential.token() == "token-1"  # not asked again at once
    assert len(endpoint.asked) == 2
    clock.now += 5
    assert await credential.token() == "token-1"
    assert len(endpoint.asked) == 3
    clock.now = 1000 + 296  # under 5 s of validity left: not handed out any more
    with pytest.raises(Unavailable):
        await credential.token()
    endpoint.status = 200
    assert await credential.token() == "token-5"


async def test_an_invalidated_token_is_fetched_again() -> None:
    endpoint, clock = TokenEndpoint(), Clock()
    credential = _credential(endpoint, clock)
    assert await credential.token() == "token-1"
    credential.invalidate()
    assert await credential.token() == "token-2"


def test_each_event_loop_gets_its_own_client_and_lock() -> None:
    endpoint, clock = TokenEndpoint(), Clock()
    credential = _credential(endpoint, clock)
    assert asyncio.run(credential.token()) == "token-1"
    credential.invalidate()
    assert asyncio.run(credential.token()) == "token-2"


def test_the_credential_comes_from_the_settings_and_never_shows_its_secret() -> None:
    assert ServiceCredential.of(Settings(service_name="notifications")) is None
    settings = Settings(
        service_name="notifications", identity_url="http://gateway:8000/", service_client_secret="s3cret"
    )
    credential = ServiceCredential.of(settings)
    assert credential is not None
    assert (credential.token_url, credential.client_id) == ("http://gateway:8000/auth/service-token", "notifications")
    assert "s3cret" not in repr(credential)
    assert "s3cret" not in repr(settings)
