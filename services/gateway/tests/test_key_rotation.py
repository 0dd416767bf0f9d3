"""Rolling the signing key over: the gateway signs with the new key and still publishes the retired one, so a
service's verifier (reading the key set over real HTTP) accepts the tokens signed before the rollover until they
expire, and refuses them once the operator drops the retired key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI, Request, Response
from gateway.oidc_provider import OidcProvider
from gateway.oidc_session import SESSION_COOKIE, Session
from gateway.oidc_tokens import AuthorizationCode
from prasmes_runtime.auth import TOKEN_EXPIRED, CurrentUser, TokenIssuer, TokenVerifier, load_key, load_or_create_key
from prasmes_runtime.http import install_error_handlers
from starlette.types import ASGIApp, Receive, Scope, Send

JWKS_PATH = "/.well-known/jwks.json"
MakeGateway = Callable[..., tuple[FastAPI, httpx.AsyncClient]]


class Restartable:
    """The gateway of the moment behind one address, as a restart with other settings leaves it; 503 while none
    runs. Counts the key set's reads."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None
        self.jwks_reads = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == JWKS_PATH:
            self.jwks_reads += 1
        if self.app is None:
            await Response("the gateway is down", status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.fixture
def served(threaded_server: Any) -> Iterator[tuple[Restartable, str]]:
    restartable = Restartable()
    with threaded_server(restartable) as server:
        yield restartable, f"http://127.0.0.1:{server.port}"


@pytest.fixture
def key_a(tmp_path: Path) -> Path:
    load_or_create_key(tmp_path / "keys" / "a.pem")
    return tmp_path / "keys" / "a.pem"


@pytest.fixture
def key_b(tmp_path: Path) -> Path:
    load_or_create_key(tmp_path / "keys" / "b.pem")
    return tmp_path / "keys" / "b.pem"


@pytest.fixture
def start(
    make_gateway: MakeGateway, served: tuple[Restartable, str]
) -> Callable[..., tuple[FastAPI, httpx.AsyncClient]]:
    """(Re)starts the gateway behind the served address, signing with `signing`, publishing `retired` too."""

    def start_with(signing: Path, *retired: Path) -> tuple[FastAPI, httpx.AsyncClient]:
        app, client = make_gateway(signing_key_path=signing, retired_signing_key_paths=list(retired))
        served[0].app = app
        return app, client

    return start_with


def service_app(jwks_url: str, **verifier: Any) -> FastAPI:
    """A backend as the runtime builds one, as far as tokens go: its verifier reads the gateway's key set over HTTP."""
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = TokenVerifier(
        issuer="prasmes-identity", audience="prasmes", jwks_url=jwks_url, **verifier
    )

    @app.get("/me")
    async def me(principal: CurrentUser) -> dict[str, str]:
        return {"subject": principal.subject}

    return app


@pytest.fixture
async def make_service(served: tuple[Restartable, str]) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []

    def make(**verifier: Any) -> httpx.AsyncClient:
        app = service_app(served[1] + JWKS_PATH, **verifier)
        opened.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service"))
        return opened[-1]

    yield make
    for client in opened:
        await client.aclose()


async def login(gateway: httpx.AsyncClient, username: str = "anna") -> str:
    response = await gateway.post("/auth/dev-login", json={"username": username})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def me(service: httpx.AsyncClient, token: str) -> httpx.Response:
    return await service.get("/me", headers={"Authorization": f"Bearer {token}"})


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def kid_of_key(path: Path) -> str:
    return TokenIssuer(load_key(path), issuer="prasmes-identity", audience="prasmes").kid


async def published_kids(url: str) -> list[str]:
    async with httpx.AsyncClient() as client:
        response = await client.get(url + JWKS_PATH)
    assert response.status_code == 200, response.text
    return [key["kid"] for key in response.json()["keys"]]


def provider_of(app: FastAPI) -> OidcProvider:
    provider: OidcProvider = app.state.oidc
    return provider


async def test_after_a_rollover_old_tokens_verify_and_new_ones_carry_the_new_kid(
    start: Callable[..., Any],
    make_service: Callable[..., httpx.AsyncClient],
    served: tuple[Restartable, str],
    key_a: Path,
    key_b: Path,
) -> None:
    _, gateway = start(key_a)
    old_token = await login(gateway)
    # A service that has read the key set before the rollover (and keeps a verified token), and one that starts after.
    running = make_service(refetch_after=0)
    assert (await me(running, old_token)).status_code == 200

    _, gateway = start(key_b, key_a)
    new_token = await login(gateway)
    started_after = make_service()

    assert await published_kids(served[1]) == [kid_of_key(key_b), kid_of_key(key_a)]
    assert kid_of(old_token) == kid_of_key(key_a)
    assert kid_of(new_token) == kid_of_key(key_b)
    for service in (running, started_after):
        for token in (old_token, new_token):  # the running one reads the key set again for the new kid
            response = await me(service, token)
            assert response.status_code == 200, response.text


async def test_dropping_the_retired_key_refuses_its_tokens(
    start: Callable[..., Any], make_service: Callable[..., httpx.AsyncClient], key_a: Path, key_b: Path
) -> None:
    _, gateway = start(key_a)
    old_token = await login(gateway)
    _, gateway = start(key_b, key_a)
    new_token = await login(gateway)
    # max_key_age=0: the key set is read again at every request (300 s by default), so a key dropped stops verifying.
    running = make_service(max_key_age=0)
    assert (await me(running, old_token)).status_code == 200

    start(key_b)
    refused = await me(running, old_token)
    fresh = await me(make_service(), old_token)

    for response in (refused, fresh):
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized", "message": "the token is not valid"}
    assert (await me(running, new_token)).status_code == 200


async def test_an_expired_token_of_a_retired_key_is_refused(
    start: Callable[..., Any], make_service: Callable[..., httpx.AsyncClient], key_a: Path, key_b: Path
) -> None:
    app, _ = start(key_a)
    expired = app.state.token_issuer.issue("anna", ["learner"], ttl_seconds=-1)
    start(key_b, key_a)

    response = await me(make_service(), expired)

    assert response.status_code == 401
    assert response.json()["message"] == TOKEN_EXPIRED


async def test_a_key_set_that_cannot_be_read_again_keeps_the_keys_held(
    start: Callable[..., Any],
    make_service: Callable[..., httpx.AsyncClient],
    served: tuple[Restartable, str],
    key_a: Path,
) -> None:
    _, gateway = start(key_a)
    token = await login(gateway)
    service = make_service(max_key_age=0, refetch_after=60)
    assert (await me(service, token)).status_code == 200
    reads = served[0].jwks_reads

    served[0].app = None  # the gateway is down
    answers = [await me(service, token) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert served[0].jwks_reads == reads + 1  # tried once, then not again before refetch_after


async def test_unknown_kids_read_the_key_set_at_most_once_per_interval(
    start: Callable[..., Any],
    make_service: Callable[..., httpx.AsyncClient],
    served: tuple[Restartable, str],
    key_a: Path,
    tmp_path: Path,
) -> None:
    _, gateway = start(key_a)
    service = make_service(refetch_after=60)
    assert (await me(service, await login(gateway))).status_code == 200
    stranger = TokenIssuer(load_or_create_key(tmp_path / "stranger.pem"), issuer="prasmes-identity", audience="prasmes")

    answers = [await me(service, stranger.issue(f"x{i}", ["learner"])) for i in range(5)]

    assert {answer.status_code for answer in answers} == {401}
    assert served[0].jwks_reads == 1  # the first request's read; the unknown kids within a minute read nothing


def session_cookie(app: FastAPI, subject: str) -> str:
    browser, response = provider_of(app).browser, Response()
    browser.keep_session(response, browser.new_session(subject))
    return SimpleCookie(response.headers["set-cookie"])[SESSION_COOKIE].value


def session_read_by(app: FastAPI, cookie: str) -> Session | None:
    request = Request({"type": "http", "headers": [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())]})
    return provider_of(app).browser.session(request)


async def test_the_identity_providers_sessions_and_codes_survive_the_rollover(
    start: Callable[..., Any], key_a: Path, key_b: Path
) -> None:
    old, _ = start(key_a)
    cookie = session_cookie(old, "subject-1")
    code = AuthorizationCode("web", "http://web/cb", "challenge", ("openid",), "subject-1", auth_time=1)
    old_code = provider_of(old).signer.issue_code(code, 60)

    rolled, _ = start(key_b, key_a)
    session = session_read_by(rolled, cookie)
    redeemed = provider_of(rolled).signer.read_code(old_code)
    new_cookie = session_cookie(rolled, "subject-2")
    dropped, _ = start(key_b)

    assert session is not None and session.subject == "subject-1"
    assert (redeemed.subject, redeemed.client_id) == ("subject-1", "web")
    assert session_read_by(dropped, cookie) is None  # the sign-in made under the dropped key must be made again
    assert session_read_by(dropped, new_cookie) is not None


def test_a_retired_key_that_is_missing_stops_the_gateway(make_gateway: MakeGateway, key_a: Path) -> None:
    missing = key_a.parent / "missing.pem"

    with pytest.raises(FileNotFoundError):
        make_gateway(signing_key_path=key_a, retired_signing_key_paths=[missing])
    assert not missing.exists()  # a retired key is never made up


def test_retired_signing_key_paths_are_read_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Any], key_a: Path, key_b: Path
) -> None:
    monkeypatch.setenv("RETIRED_SIGNING_KEY_PATHS", f'["{key_a}", "{key_b}"]')

    assert make_settings().retired_signing_key_paths == [key_a, key_b]


async def test_a_key_published_ahead_lets_both_generations_of_replicas_verify_each_other(
    make_gateway: MakeGateway, key_a: Path, key_b: Path
) -> None:
    """The runbook's rollover: B is published first (still signing with A), then signs (A retired). While the gateway's
    replicas are rolled from one step to the next, each accepts what the other signed."""
    ahead, ahead_client = make_gateway(signing_key_path=key_a, retired_signing_key_paths=[key_b])
    rolled, rolled_client = make_gateway(signing_key_path=key_b, retired_signing_key_paths=[key_a])

    for issuer, verifier in ((ahead_client, rolled_client), (rolled_client, ahead_client)):
        token = await login(issuer)
        response = await verifier.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
    assert kid_of(await login(ahead_client)) == kid_of_key(key_a)
    assert session_read_by(ahead, session_cookie(rolled, "subject-1")) is not None
