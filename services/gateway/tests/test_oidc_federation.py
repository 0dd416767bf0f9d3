"""Federation to the national eID: a gateway in dev mode plays the eID (uvicorn on a free 127.0.0.1 port, real HTTP),
a second gateway (in-process, not in dev mode) federates to it; a fake eID serves crafted ID tokens that must fail."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from gateway.app import create_app
from gateway.identity import DEV_USERS, NAMESPACE
from gateway.oidc_session import SESSION_COOKIE, UPSTREAM_COOKIE
from gateway.settings import GatewaySettings
from prasmes_runtime.auth import TokenVerifier
from prasmes_testing.servers import free_port
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:  # this directory's conftest (importing it at run time would find the repository's)
    from conftest import GatewayPair, HtmlForm, ThreadedServer

ISSUER = "http://gw"
CALLBACK = f"{ISSUER}/oidc/upstream/callback"
WEB, WEB_SECRET, WEB_CALLBACK = "web", "the web front end's secret", "http://web.test/auth/callback"
FEDERATION, FEDERATION_SECRET = "prasmes-gateway", "the gateway's secret at the eID"
Forms = Callable[[str], list["HtmlForm"]]


class Deferred:
    """An ASGI app set after its server has its port (the eID's issuer URL names the port)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        await self.app(scope, receive, send)


@pytest.fixture
def eid(tmp_path: Any, threaded_server: type[ThreadedServer]) -> Iterator[str]:
    """A gateway in dev mode as the national eID, with the federating gateway as its client; its issuer URL."""
    deferred = Deferred()
    server = threaded_server(deferred)
    url = f"http://127.0.0.1:{server.port}"
    client = {"secret_sha256": hashlib.sha256(FEDERATION_SECRET.encode()).hexdigest(), "redirect_uris": [CALLBACK]}
    settings = GatewaySettings(
        var_dir=tmp_path / "eid",  # a key of its own
        dev_mode=True,
        log_level="WARNING",
        service_urls={},
        oidc_issuer=url,
        oidc_clients={FEDERATION: client},
    )
    deferred.app = create_app(settings)
    with server:
        yield url


def web_client() -> dict[str, Any]:
    return {"secret_sha256": hashlib.sha256(WEB_SECRET.encode()).hexdigest(), "redirect_uris": [WEB_CALLBACK]}


@pytest.fixture
def federated(make_gateway: Callable[..., GatewayPair], eid: str) -> GatewayPair:
    return make_gateway(
        dev_mode=False,
        oidc_issuer=ISSUER,
        oidc_clients={WEB: web_client()},
        oidc_upstream_issuer=eid,
        oidc_upstream_client_id=FEDERATION,
        oidc_upstream_client_secret=FEDERATION_SECRET,
    )


class Request:
    """The web front end's authorization request."""

    def __init__(self) -> None:
        self.verifier = secrets.token_urlsafe(48)
        self.state, self.nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)

    def params(self) -> dict[str, str]:
        return {
            "client_id": WEB,
            "redirect_uri": WEB_CALLBACK,
            "response_type": "code",
            "scope": "openid profile",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": create_s256_code_challenge(self.verifier),
            "code_challenge_method": "S256",
            "ui_locales": "en",
        }


def query_of(response: httpx.Response, starts: str) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(starts), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def to_the_eid(browser: httpx.AsyncClient, request: Request, html_forms: Forms) -> httpx.Response:
    """The federating gateway's sign-in page, and its "national eID" button pressed."""
    page = await browser.get("/oidc/authorize", params=request.params())
    assert page.status_code == 200, page.text
    [form] = html_forms(page.text)
    assert form.buttons == [("method", "eid")] and not form.choices  # not in dev mode: no users listed
    assert "Sign in with the national eID" in page.text
    return await browser.post(form.action, data=form.fields(method="eid"))


async def test_a_learner_signs_in_with_the_national_eid(federated: GatewayPair, eid: str, html_forms: Forms) -> None:
    _, browser = federated
    request = Request()

    upstream = await to_the_eid(browser, request, html_forms)
    asked = query_of(upstream, f"{eid}/oidc/authorize?")
    assert asked["client_id"] == FEDERATION and asked["redirect_uri"] == CALLBACK
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    async with httpx.AsyncClient() as eid_browser:
        page = await eid_browser.get(upstream.headers["location"])
        [form] = [f for f in html_forms(page.text) if "username" in f.choices]
        back = await eid_browser.post(f"{eid}{form.action}", data=form.fields(username="anna"))
    answer = query_of(back, f"{CALLBACK}?")
    assert answer["state"] == asked["state"] and answer["iss"] == eid

    finished = await browser.get(f"/oidc/upstream/callback?{urlsplit(back.headers['location']).query}")
    code = query_of(finished, f"{WEB_CALLBACK}?")
    assert code["state"] == request.state
    assert UPSTREAM_COOKIE in finished.headers.get("set-cookie", "")  # the pending sign-in is cleared

    tokens = await browser.post(
        "/oidc/token",
        data={"grant_type": "authorization_code", "code": code["code"], "redirect_uri": WEB_CALLBACK}
        | {"code_verifier": request.verifier},
        auth=(WEB, WEB_SECRET),
    )
    assert tokens.status_code == 200, tokens.text
    jwks = (await browser.get("/.well-known/jwks.json")).json()
    verifier = TokenVerifier(issuer="prasmes-identity", audience="prasmes", jwks=jwks)
    principal = await verifier.verify(tokens.json()["access_token"])
    expected = str(uuid.uuid5(NAMESPACE, f"{eid}|{DEV_USERS['anna'].subject}"))
    assert principal.subject == expected and principal.roles == frozenset({"learner"})
    id_token = jwt.decode(
        tokens.json()["id_token"], jwt.PyJWK(jwks["keys"][0]).key, algorithms=["EdDSA"], audience=WEB, issuer=ISSUER
    )
    assert id_token["sub"] == expected and id_token["nonce"] == request.nonce

    again = Request()
    assert "code" in query_of(await browser.get("/oidc/authorize", params=again.params()), f"{WEB_CALLBACK}?")


async def test_the_callback_needs_the_pending_sign_in_and_its_state(
    federated: GatewayPair, eid: str, html_forms: Forms
) -> None:
    app, browser = federated
    upstream = query_of(await to_the_eid(browser, Request(), html_forms), f"{eid}/oidc/authorize?")

    wrong_state = await browser.get("/oidc/upstream/callback", params={"state": "forged", "code": "x"})
    not_ascii = await browser.get("/oidc/upstream/callback", params={"state": "stāvoklis", "code": "x"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as stranger:
        no_cookie = await stranger.get("/oidc/upstream/callback", params={"state": upstream["state"], "code": "x"})

    for response in (wrong_state, not_ascii, no_cookie):
        assert response.status_code == 400 and "location" not in response.headers
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_an_upstream_refusal_or_a_spent_upstream_code_goes_back_as_access_denied(
    federated: GatewayPair, eid: str, html_forms: Forms
) -> None:
    _, browser = federated
    request = Request()
    upstream = query_of(await to_the_eid(browser, request, html_forms), f"{eid}/oidc/authorize?")
    pending = browser.cookies.get(UPSTREAM_COOKIE)

    denied = await browser.get("/oidc/upstream/callback", params={"state": upstream["state"], "error": "access_denied"})
    browser.cookies.set(UPSTREAM_COOKIE, pending or "", path="/oidc")
    bad_code = await browser.get("/oidc/upstream/callback", params={"state": upstream["state"], "code": "made-up"})

    for response in (denied, bad_code):
        answer = query_of(response, f"{WEB_CALLBACK}?")
        assert answer["error"] == "access_denied" and answer["state"] == request.state and "code" not in answer


async def test_an_unreachable_eid_goes_back_as_temporarily_unavailable(
    make_gateway: Callable[..., GatewayPair], html_forms: Forms
) -> None:
    _, browser = make_gateway(
        dev_mode=False,
        oidc_issuer=ISSUER,
        oidc_clients={WEB: web_client()},
        oidc_upstream_issuer=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        oidc_upstream_client_id=FEDERATION,
    )
    request = Request()

    answer = query_of(await to_the_eid(browser, request, html_forms), f"{WEB_CALLBACK}?")

    assert answer["error"] == "temporarily_unavailable" and answer["state"] == request.state


# ------------------------------------------------------------------- the upstream ID token's checks


class FakeEid:
    """An eID that answers the token request with whatever ID token the test makes (`claims`, `key`, `header`)."""

    def __init__(self) -> None:
        self.url = ""
        self.key = Ed25519PrivateKey.generate()
        self.claims: dict[str, Any] = {}
        self.sign_with: Any = self.key
        self.header: dict[str, Any] = {"kid": "eid-1"}
        self.algorithm = "EdDSA"

    def sign_symmetrically(self) -> None:
        self.sign_with, self.algorithm = "a shared secret of 32 characters", "HS256"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            endpoints = {"authorization_endpoint": "/authorize", "token_endpoint": "/token", "jwks_uri": "/jwks"}
            metadata: dict[str, Any] = {name: self.url + path for name, path in endpoints.items()}
            return {**metadata, "issuer": self.url, "id_token_signing_alg_values_supported": ["EdDSA", "RS256"]}

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            key = jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**key, "kid": "eid-1", "alg": "EdDSA", "use": "sig"}]}

        @app.post("/token")
        async def token() -> dict[str, Any]:
            id_token = jwt.encode(self.claims, self.sign_with, algorithm=self.algorithm, headers=self.header)
            return {"access_token": "opaque", "token_type": "Bearer", "id_token": id_token}

        return app


@pytest.fixture(scope="module")
def fake_eid(threaded_server: type[ThreadedServer]) -> Iterator[FakeEid]:
    fake = FakeEid()
    with threaded_server(fake.app()) as server:
        fake.url = f"http://127.0.0.1:{server.port}"
        yield fake


def _valid(fake: FakeEid, nonce: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": fake.url, "aud": FEDERATION, "sub": "12345-personal", "iat": now, "exp": now + 300, "nonce": nonce}


TAMPERED: dict[str, Callable[[FakeEid, dict[str, Any]], None]] = {
    "wrong nonce": lambda fake, claims: claims.update(nonce="another"),
    "no nonce": lambda fake, claims: claims.pop("nonce"),
    "another audience": lambda fake, claims: claims.update(aud="someone-else"),
    "another issuer": lambda fake, claims: claims.update(iss="http://evil.test"),
    "expired": lambda fake, claims: claims.update(exp=int(time.time()) - 3600),
    "no subject": lambda fake, claims: claims.pop("sub"),
    "another party": lambda fake, claims: claims.update(aud=[FEDERATION, "other"], azp="other"),
    "another key": lambda fake, claims: setattr(fake, "sign_with", Ed25519PrivateKey.generate()),
    "a shared secret": lambda fake, claims: fake.sign_symmetrically(),
    "an unknown kid": lambda fake, claims: fake.header.update(kid="eid-2"),
}


@pytest.mark.parametrize("tamper", [None, *TAMPERED], ids=["valid", *TAMPERED])
async def test_the_upstream_id_token_must_verify(
    make_gateway: Callable[..., GatewayPair], fake_eid: FakeEid, html_forms: Forms, tamper: str | None
) -> None:
    fake_eid.sign_with, fake_eid.algorithm, fake_eid.header = fake_eid.key, "EdDSA", {"kid": "eid-1"}
    _, browser = make_gateway(
        dev_mode=False,
        oidc_issuer=ISSUER,
        oidc_clients={WEB: web_client()},
        oidc_upstream_issuer=fake_eid.url,
        oidc_upstream_client_id=FEDERATION,  # a public client of the eID: PKCE alone
    )
    request = Request()
    upstream = query_of(await to_the_eid(browser, request, html_forms), f"{fake_eid.url}/authorize?")
    fake_eid.claims = _valid(fake_eid, upstream["nonce"])
    if tamper is not None:
        TAMPERED[tamper](fake_eid, fake_eid.claims)

    response = await browser.get("/oidc/upstream/callback", params={"state": upstream["state"], "code": "c"})

    answer = query_of(response, f"{WEB_CALLBACK}?")
    if tamper is None:
        assert "code" in answer and "error" not in answer
    else:
        assert answer["error"] == "access_denied" and "code" not in answer
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
