"""The OpenID Connect provider: the authorization code flow with PKCE driven as a browser and a relying party would,
and each way it must refuse."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from fastapi import FastAPI
from gateway.identity import DEV_USERS
from gateway.oidc_provider import OidcProvider
from gateway.oidc_session import SESSION_COOKIE
from gateway.settings import GatewaySettings, OidcClient
from itsdangerous import URLSafeTimedSerializer
from joserfc import jwt as jose_jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from prasmes_runtime.auth import TokenVerifier

if TYPE_CHECKING:  # this directory's conftest (importing it at run time would find the repository's)
    from conftest import GatewayPair, HtmlForm

ISSUER = "http://gw"
WEB, WEB_SECRET = "web", "the web front end's secret"
WEB_CALLBACK = "http://web.test/auth/callback"
WEB_SIGNED_OUT = "http://web.test/signed-out"
APP, APP_CALLBACK = "app", "http://app.test/callback"
"""A public client: PKCE alone, no secret."""
FORM = {"content-type": "application/x-www-form-urlencoded"}


def clients() -> dict[str, Any]:
    return {
        WEB: {
            "secret_sha256": hashlib.sha256(WEB_SECRET.encode()).hexdigest(),
            "redirect_uris": [WEB_CALLBACK],
            "post_logout_redirect_uris": [WEB_SIGNED_OUT],
        },
        APP: {"redirect_uris": [APP_CALLBACK]},
    }


@pytest.fixture
def make_provider(make_gateway: Callable[..., GatewayPair]) -> Callable[..., GatewayPair]:
    def make(**overrides: Any) -> GatewayPair:
        return make_gateway(**{"oidc_issuer": ISSUER, "oidc_clients": clients(), **overrides})

    return make


@pytest.fixture
def pair(make_provider: Callable[..., GatewayPair]) -> GatewayPair:
    return make_provider()


@pytest.fixture
def app(pair: GatewayPair) -> FastAPI:
    return pair[0]


@pytest.fixture
def browser(pair: GatewayPair) -> httpx.AsyncClient:
    """The user's browser (it keeps the identity provider's cookies); the relying party's calls go through it too."""
    return pair[1]


def provider_of(app: FastAPI) -> OidcProvider:
    provider: OidcProvider = app.state.oidc
    return provider


@dataclass
class Flow:
    """One authorization request of a relying party, with its PKCE verifier, state and nonce."""

    client_id: str = WEB
    redirect_uri: str = WEB_CALLBACK
    scope: str = "openid profile email"
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    def params(self, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": create_s256_code_challenge(self.verifier),
            "code_challenge_method": "S256",
            "ui_locales": "en",
            **overrides,
        }
        return {name: value for name, value in params.items() if value is not None}


async def authorize(browser: httpx.AsyncClient, flow: Flow, **overrides: str | None) -> httpx.Response:
    return await browser.get("/oidc/authorize", params=flow.params(**overrides))


def sign_in_form(response: httpx.Response, html_forms: Callable[[str], list[HtmlForm]]) -> HtmlForm:
    assert response.status_code == 200, response.text
    [form] = [f for f in html_forms(response.text) if "username" in f.choices]
    return form


async def choose(browser: httpx.AsyncClient, form: HtmlForm, username: str = "anna") -> httpx.Response:
    return await browser.post(form.action, data=form.fields(username=username))


def answered(response: httpx.Response, flow: Flow) -> dict[str, str]:
    """The query the browser is sent back to the relying party with."""
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(flow.redirect_uri + "?"), location
    query = parse_qs(urlsplit(location).query)
    return {name: values[0] for name, values in query.items()}


async def sign_in(
    browser: httpx.AsyncClient, flow: Flow, html_forms: Callable[[str], list[HtmlForm]], username: str = "anna"
) -> str:
    """The code for `flow`: through the sign-in page, or at once within the browser's session (whoever it is of)."""
    response = await authorize(browser, flow)
    if response.status_code == 200:
        response = await choose(browser, sign_in_form(response, html_forms), username)
    query = answered(response, flow)
    assert query["state"] == flow.state
    return query["code"]


async def exchange(
    client: httpx.AsyncClient, flow: Flow, code: str, *, secret: str | None = WEB_SECRET, **overrides: str
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri}
    data |= {"code_verifier": flow.verifier, **overrides}
    if secret is None:
        return await client.post("/oidc/token", data={"client_id": flow.client_id, **data})
    return await client.post("/oidc/token", data=data, auth=(flow.client_id, secret))


async def tokens(browser: httpx.AsyncClient, flow: Flow, html_forms: Callable[..., Any], user: str = "anna") -> Any:
    response = await exchange(browser, flow, await sign_in(browser, flow, html_forms, user))
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: httpx.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


def stays_here(response: httpx.Response, status: int = 400) -> None:
    """An error page: the browser is not sent anywhere."""
    assert response.status_code == status, response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


@pytest.fixture
def quiet_eddsa() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc prefers the "Ed25519" name (RFC 9864)
        yield


# ------------------------------------------------------------------- discovery


async def test_the_discovery_document_names_the_endpoints_and_what_they_support(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/.well-known/openid-configuration")

    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/oidc/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/oidc/token"
    assert document["userinfo_endpoint"] == f"{ISSUER}/oidc/userinfo"
    assert document["end_session_endpoint"] == f"{ISSUER}/oidc/logout"
    assert document["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert document["response_types_supported"] == ["code"]
    assert document["grant_types_supported"] == ["authorization_code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["EdDSA"]
    assert document["subject_types_supported"] == ["public"]
    assert document["scopes_supported"] == ["openid", "profile", "email"]
    methods = {"client_secret_basic", "client_secret_post", "none"}
    assert set(document["token_endpoint_auth_methods_supported"]) == methods
    assert {"sub", "name", "email", "locale", "nonce", "auth_time"} <= set(document["claims_supported"])


def test_the_issuer_defaults_to_the_identity_url_without_its_trailing_slash(tmp_path: Any) -> None:
    settings = GatewaySettings(var_dir=tmp_path, identity_url="https://id.example.lv/")

    assert settings.oidc_issuer == "https://id.example.lv"


# ------------------------------------------------------------------- the whole flow


async def test_a_seeded_user_signs_in_and_the_tokens_verify_against_the_key_set(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]], quiet_eddsa: None
) -> None:
    flow = Flow()
    page = await authorize(browser, flow)
    form = sign_in_form(page, html_forms)

    assert re.search(r'<html lang="en">', page.text)
    assert "<h1>" in page.text and "<fieldset>" in page.text and "<legend>" in page.text
    assert set(form.choices["username"]) == set(DEV_USERS)
    assert form.labels["user-anna"] == "Anna Bērziņa roles: learner"
    assert form.labels["user-martins"].endswith("roles: agency_admin")
    assert "csrf_token" in dict(form.hidden) and "username" in form.required
    assert not re.search(r"""(src|href)=["']?https?:""", page.text)  # nothing from elsewhere

    query = answered(await choose(browser, form, "anna"), flow)
    assert query["state"] == flow.state and query["iss"] == ISSUER

    response = await exchange(browser, flow, query["code"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "openid profile email"

    jwks = (await browser.get("/.well-known/jwks.json")).json()
    principal = await TokenVerifier(issuer="prasmes-identity", audience="prasmes", jwks=jwks).verify(
        body["access_token"]
    )
    assert principal.subject == DEV_USERS["anna"].subject
    assert principal.roles == frozenset({"learner"})

    decoded = jose_jwt.decode(body["id_token"], KeySet.import_key_set(jwks), registry=JWSRegistry(algorithms=["EdDSA"]))
    params = {"nonce": flow.nonce, "client_id": WEB, "access_token": body["access_token"]}
    claims = CodeIDToken(decoded.claims, decoded.header, {"iss": {"values": [ISSUER]}}, params)
    claims.validate(leeway=0)  # authlib's checks: iss, aud, exp, iat, nonce, at_hash
    assert claims["sub"] == DEV_USERS["anna"].subject
    assert claims["name"] == "Anna Bērziņa" and claims["email"] == "anna@example.lv" and claims["locale"] == "lv"
    assert abs(claims["auth_time"] - time.time()) < 10

    same = jwt.decode(
        body["id_token"], jwt.PyJWK(jwks["keys"][0]).key, algorithms=["EdDSA"], audience=WEB, issuer=ISSUER
    )
    assert same["nonce"] == flow.nonce


async def test_the_id_token_carries_only_what_the_scopes_ask(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    body = await tokens(browser, Flow(scope="openid email"), html_forms, "janis")
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})

    assert body["scope"] == "openid email"
    assert claims["email"] == "janis@example.lv"
    assert "name" not in claims and "locale" not in claims


async def test_the_access_token_is_accepted_where_the_dev_login_s_is(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    body = await tokens(browser, Flow(), html_forms, "martins")

    response = await browser.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})

    assert response.status_code == 200
    assert response.json() == {"subject": DEV_USERS["martins"].subject, "roles": ["agency_admin"]}


async def test_userinfo_answers_the_bearer_s_claims(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    body = await tokens(browser, Flow(), html_forms, "janis")
    bearer = {"Authorization": f"Bearer {body['access_token']}"}

    got = await browser.get("/oidc/userinfo", headers=bearer)
    posted = await browser.post("/oidc/userinfo", headers=bearer)
    anonymous = await browser.get("/oidc/userinfo")

    assert got.status_code == 200 and got.json() == posted.json()
    janis = DEV_USERS["janis"]
    expected = {"sub": janis.subject, "name": janis.display_name, "email": janis.email, "locale": "en"}
    assert got.json() == {**expected, "roles": ["learner"]}
    assert anonymous.status_code == 401


async def test_authlib_s_client_completes_the_flow_with_each_authentication_method(
    app: FastAPI, browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    """As the web front end does it: authlib's client builds the request and exchanges the code."""
    for client_id, secret, method, callback in [
        (WEB, WEB_SECRET, "client_secret_basic", WEB_CALLBACK),
        (WEB, WEB_SECRET, "client_secret_post", WEB_CALLBACK),
        (APP, None, "none", APP_CALLBACK),
    ]:
        async with AsyncOAuth2Client(
            client_id=client_id,
            client_secret=secret,
            token_endpoint_auth_method=method,
            scope="openid profile",
            redirect_uri=callback,
            code_challenge_method="S256",
            transport=httpx.ASGITransport(app=app),
        ) as relying_party:
            verifier = secrets.token_urlsafe(48)
            url, state = relying_party.create_authorization_url(
                f"{ISSUER}/oidc/authorize", code_verifier=verifier, nonce="n-0S6_WzA2Mj"
            )
            page = await browser.get(url)
            form = sign_in_form(page, html_forms) if page.status_code == 200 else None
            answer = await choose(browser, form, "liga") if form is not None else page
            location = answer.headers["location"]
            assert parse_qs(urlsplit(location).query)["state"] == [state]
            token = await relying_party.fetch_token(
                f"{ISSUER}/oidc/token", authorization_response=location, code_verifier=verifier
            )
        assert jwt.decode(token["id_token"], options={"verify_signature": False})["aud"] == client_id, method


# ------------------------------------------------------------------- the session


async def test_a_second_request_within_the_session_skips_the_sign_in_page(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    await sign_in(browser, Flow(), html_forms, "ilze")
    second = Flow(client_id=APP, redirect_uri=APP_CALLBACK)

    query = answered(await authorize(browser, second), second)
    response = await exchange(browser, second, query["code"], secret=None)

    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["id_token"], options={"verify_signature": False})
    assert claims["sub"] == DEV_USERS["ilze"].subject and claims["nonce"] == second.nonce


async def test_prompt_login_shows_the_page_again_and_prompt_none_needs_a_session(
    pair: GatewayPair, make_provider: Callable[..., GatewayPair], html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    _, browser = pair
    await sign_in(browser, Flow(), html_forms)
    flow = Flow()
    _, stranger = make_provider()

    login = await authorize(browser, flow, prompt="login")
    silent = answered(await authorize(browser, flow, prompt="none"), flow)
    nobody = answered(await authorize(stranger, flow, prompt="none"), flow)
    too_old = await authorize(browser, flow, max_age="0")

    sign_in_form(login, html_forms)
    assert "code" in silent
    assert nobody["error"] == "login_required" and nobody["state"] == flow.state and "code" not in nobody
    sign_in_form(too_old, html_forms)


async def test_the_session_cookie_is_signed_http_only_lax_on_oidc_and_holds_only_the_subject(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    form = sign_in_form(await authorize(browser, flow), html_forms)
    response = await choose(browser, form)

    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= set(attributes) and "secure" not in attributes
    assert attributes["path"] == "Path=/oidc" and attributes["samesite"].lower() == "samesite=lax"
    value = cookie.split(";")[0].split("=", 1)[1]
    _, payload = URLSafeTimedSerializer("not the key").loads_unsafe(value)
    assert set(payload) == {"sub", "auth_time"} and payload["sub"] == DEV_USERS["anna"].subject


async def test_the_cookies_are_secure_when_the_issuer_is_https(
    make_provider: Callable[..., GatewayPair], html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    _, browser = make_provider(oidc_issuer="https://id.example.lv")

    page = await authorize(browser, Flow())

    assert "Secure" in page.headers["set-cookie"]


async def test_a_forged_session_cookie_is_ignored(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    forged = URLSafeTimedSerializer("a guessed key", salt="prasmes.oidc.session")
    browser.cookies.set(SESSION_COOKIE, forged.dumps({"sub": DEV_USERS["martins"].subject, "auth_time": 1}))

    sign_in_form(await authorize(browser, Flow()), html_forms)


# ------------------------------------------------------------------- what the code must refuse


async def test_a_wrong_verifier_is_an_invalid_grant(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    code, another = await sign_in(browser, flow, html_forms), await sign_in(browser, flow, html_forms)

    refused(await exchange(browser, flow, code, code_verifier=secrets.token_urlsafe(48)), "invalid_grant")
    refused(await exchange(browser, flow, code), "invalid_grant")  # the failed attempt spent it
    refused(await exchange(browser, flow, another, code_verifier=""), "invalid_request")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile email"}, "invalid_scope"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"request": "eyJ..."}, "request_not_supported"),
        ({"state": "s" * 3000}, "invalid_request"),
    ],
)
async def test_a_bad_request_goes_back_to_the_client_with_its_state(
    browser: httpx.AsyncClient, overrides: dict[str, str | None], error: str
) -> None:
    flow = Flow()

    query = answered(await authorize(browser, flow, **overrides), flow)

    assert query["error"] == error and query["error_description"] and "code" not in query
    if "state" not in overrides:
        assert query["state"] == flow.state


async def test_a_repeated_parameter_is_refused(browser: httpx.AsyncClient) -> None:
    flow = Flow()
    query = urlencode(flow.params()) + "&scope=openid"

    assert answered(await browser.get(f"/oidc/authorize?{query}"), flow)["error"] == "invalid_request"


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "http://evil.test/steal"},
        {"redirect_uri": WEB_CALLBACK + "/"},
        {"redirect_uri": WEB_CALLBACK.upper()},
        {"redirect_uri": APP_CALLBACK},  # another client's
        {"redirect_uri": None},
        {"client_id": "stranger"},
        {"client_id": None},
    ],
)
async def test_an_unknown_client_or_redirect_uri_shows_a_page_and_never_redirects(
    browser: httpx.AsyncClient, overrides: dict[str, str | None]
) -> None:
    response = await authorize(browser, Flow(), **overrides)

    stays_here(response)
    assert 'lang="en"' in response.text and "<h1>" in response.text


async def test_a_code_is_spent_once(browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]) -> None:
    flow = Flow()
    code = await sign_in(browser, flow, html_forms)

    first, second = await exchange(browser, flow, code), await exchange(browser, flow, code)

    assert first.status_code == 200
    refused(second, "invalid_grant")
    assert "used" in second.json()["error_description"]


async def test_a_code_of_another_client_is_refused(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    code = await sign_in(browser, flow, html_forms)
    thief = Flow(client_id=APP, redirect_uri=WEB_CALLBACK, verifier=flow.verifier)

    refused(await exchange(browser, thief, code, secret=None), "invalid_grant")
    assert (await exchange(browser, flow, code)).status_code == 200  # not spent by the other client's attempt


async def test_the_redirect_uri_must_be_the_request_s(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    code = await sign_in(browser, flow, html_forms)

    refused(await exchange(browser, flow, code, redirect_uri="http://web.test/other"), "invalid_grant")


@pytest.mark.parametrize("secret", ["wrong", "", WEB_SECRET.upper()])
async def test_a_wrong_client_secret_is_a_401(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]], secret: str
) -> None:
    flow = Flow()
    code = await sign_in(browser, flow, html_forms)

    basic = await exchange(browser, flow, code, secret=secret)
    posted = await exchange(browser, flow, code, secret=None, client_secret=secret)

    refused(basic, "invalid_client", 401)
    refused(posted, "invalid_client", 401)
    assert basic.headers["www-authenticate"].startswith("Basic")
    assert (await exchange(browser, flow, code)).status_code == 200  # a refused client spends no code


async def test_a_confidential_client_must_authenticate_and_a_public_one_has_no_secret(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    code = await sign_in(browser, flow, html_forms)
    public = Flow(client_id=APP, redirect_uri=APP_CALLBACK)
    public_code = await sign_in(browser, public, html_forms)

    refused(await exchange(browser, flow, code, secret=None), "invalid_client", 401)
    refused(await exchange(browser, public, public_code, secret="made up"), "invalid_client", 401)
    refused(await exchange(browser, Flow(client_id="stranger"), code, secret=None), "invalid_client", 401)
    nobody = await browser.post("/oidc/token", data={"grant_type": "authorization_code", "code": code})
    refused(nobody, "invalid_request")  # no client named at all: malformed, not a failed authentication


async def test_an_expired_code_is_refused(
    app: FastAPI, browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    provider_of(app).signer.clock = lambda: time.time() - 61  # issued 61 s ago: past its 60 s
    code = await sign_in(browser, flow, html_forms)
    provider_of(app).signer.clock = time.time

    refused(await exchange(browser, flow, code), "invalid_grant")


async def test_neither_a_code_nor_an_id_token_passes_for_an_access_token(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    code = await sign_in(browser, flow, html_forms)
    id_token = (await exchange(browser, flow, code)).json()["id_token"]

    for token in (code, id_token):
        response = await browser.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, response.text


async def test_an_access_token_or_an_id_token_is_no_code(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    body = await tokens(browser, flow, html_forms)

    for token in (body["access_token"], body["id_token"]):
        refused(await exchange(browser, flow, token), "invalid_grant")


# ------------------------------------------------------------------- the sign-in form's CSRF token


async def test_the_sign_in_post_needs_its_csrf_token(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    form = sign_in_form(await authorize(browser, flow), html_forms)
    fields = form.fields(username="anna")

    missing = await browser.post("/oidc/authorize", data={k: v for k, v in fields.items() if k != "csrf_token"})
    garbage = await browser.post("/oidc/authorize", data={**fields, "csrf_token": "garbage"})
    other_request = await browser.post("/oidc/authorize", data={**fields, "state": "another state"})

    for response in (missing, garbage, other_request):
        stays_here(response)
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_a_csrf_token_is_good_only_in_the_browser_it_was_shown_to(
    make_provider: Callable[..., GatewayPair], html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    app, victim = make_provider()
    form = sign_in_form(await authorize(victim, Flow()), html_forms)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as attacker:
        response = await attacker.post("/oidc/authorize", data=form.fields(username="anna"))

    stays_here(response)


async def test_the_sign_in_post_validates_the_request_again(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    form = sign_in_form(await authorize(browser, Flow()), html_forms)

    moved = await browser.post("/oidc/authorize", data=form.fields(username="anna", redirect_uri="http://evil.test/"))
    nobody = await browser.post("/oidc/authorize", data=form.fields(username="mallory"))

    stays_here(moved)
    stays_here(nobody)


async def test_outside_dev_mode_without_federation_sign_in_is_not_available(
    make_provider: Callable[..., GatewayPair], html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    _, browser = make_provider(dev_mode=False)
    flow = Flow()

    page = await authorize(browser, flow)
    posted = await browser.post("/oidc/authorize", data={**flow.params(), "method": "dev", "username": "anna"})

    stays_here(page, 503)
    assert "not available" in page.text
    assert not html_forms(page.text) and "Anna" not in page.text
    stays_here(posted)


# ------------------------------------------------------------------- sign-out


async def sign_out(browser: httpx.AsyncClient, **params: str) -> httpx.Response:
    return await browser.get("/oidc/logout", params={"ui_locales": "en", **params})


def session_cleared(response: httpx.Response) -> bool:
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")]
    return len(cookies) == 1 and ("Max-Age=0" in cookies[0] or "expires=Thu, 01 Jan 1970" in cookies[0])


async def test_logout_ends_the_session_and_returns_to_a_registered_uri(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    body = await tokens(browser, Flow(), html_forms)

    response = await sign_out(
        browser, id_token_hint=body["id_token"], post_logout_redirect_uri=WEB_SIGNED_OUT, state="bye"
    )

    assert response.status_code == 302
    assert response.headers["location"] == f"{WEB_SIGNED_OUT}?state=bye"
    assert session_cleared(response)
    sign_in_form(await authorize(browser, Flow()), html_forms)  # the page again


@pytest.mark.parametrize(
    "uri", ["http://evil.test/", WEB_CALLBACK, WEB_SIGNED_OUT + "?next=http://evil.test/", WEB_SIGNED_OUT + "/"]
)
async def test_logout_never_redirects_to_an_unregistered_uri(
    browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]], uri: str
) -> None:
    body = await tokens(browser, Flow(), html_forms)

    response = await sign_out(browser, id_token_hint=body["id_token"], post_logout_redirect_uri=uri)

    stays_here(response)
    assert session_cleared(response)
    assert "not registered" in response.text


async def test_logout_without_a_hint_or_with_a_bad_one(
    app: FastAPI, browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    body = await tokens(browser, Flow(), html_forms)
    forged = jwt.encode(
        jwt.decode(body["id_token"], options={"verify_signature": False}),
        secrets.token_bytes(32),
        algorithm="HS256",
        headers={"kid": provider_of(app).signer.kid},
    )

    plain = await sign_out(browser)
    unnamed = await sign_out(browser, post_logout_redirect_uri=WEB_SIGNED_OUT)
    by_client_id = await sign_out(browser, client_id=WEB, post_logout_redirect_uri=WEB_SIGNED_OUT)
    bad_hints = [await sign_out(browser, id_token_hint=h) for h in ("garbage", forged, body["access_token"])]
    hint_of_another = await sign_out(browser, id_token_hint=body["id_token"], client_id=APP)

    assert plain.status_code == 200 and "signed out" in plain.text and session_cleared(plain)
    stays_here(unnamed)
    assert by_client_id.status_code == 302 and by_client_id.headers["location"] == WEB_SIGNED_OUT
    for response in [*bad_hints, hint_of_another]:
        stays_here(response)
        assert session_cleared(response)


async def test_logout_accepts_an_expired_hint(
    app: FastAPI, browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]
) -> None:
    flow = Flow()
    code = await sign_in(browser, flow, html_forms)
    provider_of(app).signer.clock = lambda: time.time() - 3600  # the ID token expired long ago
    id_token = (await exchange(browser, flow, code)).json()["id_token"]
    provider_of(app).signer.clock = time.time

    response = await sign_out(browser, id_token_hint=id_token, post_logout_redirect_uri=WEB_SIGNED_OUT)

    assert response.status_code == 302 and response.headers["location"] == WEB_SIGNED_OUT


async def test_logout_by_post(browser: httpx.AsyncClient, html_forms: Callable[[str], list[HtmlForm]]) -> None:
    body = await tokens(browser, Flow(), html_forms)

    response = await browser.post(
        "/oidc/logout", data={"id_token_hint": body["id_token"], "post_logout_redirect_uri": WEB_SIGNED_OUT}
    )

    assert response.status_code == 302 and session_cleared(response)


# ------------------------------------------------------------------- garbage


WEB_AUTH = (WEB, WEB_SECRET)


def _basic(text: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text).decode()}


GARBAGE: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/oidc/token", {"json": {"grant_type": "authorization_code", "code": "x"}}),
    ("POST", "/oidc/token", {"content": b"\xff\xfe\x00", "headers": FORM}),
    ("POST", "/oidc/token", {"content": b"code=a&code=b&grant_type=authorization_code", "headers": FORM}),
    ("POST", "/oidc/token", {"content": b"&".join([b"a=b"] * 100), "headers": FORM}),
    ("POST", "/oidc/token", {"content": b"x" * 20_000, "headers": FORM}),
    ("POST", "/oidc/token", {"data": {"grant_type": "authorization_code", "code": "a.b.c"}, "auth": WEB_AUTH}),
    ("POST", "/oidc/token", {"data": {"grant_type": "authorization_code", "code": "x" * 9000}, "auth": WEB_AUTH}),
    ("POST", "/oidc/token", {"data": {"grant_type": "password"}, "auth": WEB_AUTH}),
    ("POST", "/oidc/token", {"data": {"code": "x"}, "auth": WEB_AUTH}),
    ("POST", "/oidc/token", {"data": {"grant_type": "authorization_code"}, "headers": {"Authorization": "Basic !!!"}}),
    ("POST", "/oidc/token", {"data": {"grant_type": "authorization_code"}, "headers": _basic(b"no colon")}),
    ("POST", "/oidc/token", {"data": {"grant_type": "authorization_code"}, "headers": _basic(b"\xff\xfe:\xff")}),
    ("POST", "/oidc/token", {"data": {"client_secret": "x"}, "auth": WEB_AUTH}),
    ("POST", "/oidc/token", {"data": {"grant_type": "authorization_code", "code": "ā.ā.ā"}, "auth": ("ā", "ē")}),
    ("POST", "/oidc/token", {"data": {"grant_type": "authorization_code", "code": "ā.ā.ā", "code_verifier": "ā"}}),
    ("GET", "/oidc/authorize", {}),
    ("GET", "/oidc/authorize", {"params": {"client_id": "\x00", "redirect_uri": "\ud7ff"}}),
    ("GET", "/oidc/authorize?client_id=web&client_id=app", {}),
    ("GET", "/oidc/authorize?%ff%fe=%ff", {}),
    ("POST", "/oidc/authorize", {"json": {"client_id": WEB}}),
    ("POST", "/oidc/authorize", {"files": {"file": ("a.txt", b"hello")}, "data": {"client_id": WEB}}),
    ("POST", "/oidc/authorize", {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}}),
    ("POST", "/oidc/authorize", {"content": b"&".join([b"a=b"] * 200), "headers": FORM}),
    ("GET", "/oidc/logout", {"params": {"id_token_hint": "a.b.c", "post_logout_redirect_uri": "javascript:x"}}),
    ("GET", "/oidc/logout", {"params": {"id_token_hint": "x" * 5000}}),
    ("POST", "/oidc/logout", {"content": b"id_token_hint=%ff%fe", "headers": FORM}),
    ("GET", "/oidc/upstream/callback", {"params": {"state": "stāvoklis", "code": "y"}}),
    ("GET", "/oidc/userinfo", {"headers": {"Authorization": "Bearer not.a.token"}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), GARBAGE, ids=[f"{m} {p}" for m, p, _ in GARBAGE])
async def test_garbage_is_refused_with_a_4xx_never_a_5xx(
    browser: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = await browser.request(method, path, **kwargs)

    assert 400 <= response.status_code < 500, (response.status_code, response.text)


async def test_the_oidc_routes_are_rate_limited(make_provider: Callable[..., GatewayPair]) -> None:
    _, browser = make_provider(rate_limit_per_minute=1, rate_limit_burst=1)

    first, second = await authorize(browser, Flow()), await authorize(browser, Flow())

    assert first.status_code == 200 and second.status_code == 429


# ------------------------------------------------------------------- settings


def test_a_client_is_registered_by_its_secret_s_hash_and_exact_uris() -> None:
    client = OidcClient(secret_sha256="AB" * 32, redirect_uris=[WEB_CALLBACK])

    assert client.secret_sha256 == "ab" * 32
    bad: dict[str, Any]
    for bad in (
        {"secret_sha256": "the secret itself", "redirect_uris": [WEB_CALLBACK]},
        {"redirect_uris": []},
        {"redirect_uris": ["/relative"]},
        {"redirect_uris": ["http://web.test/cb#fragment"]},
        {"redirect_uris": ["javascript:alert(1)"]},
        {"redirect_uris": [WEB_CALLBACK], "post_logout_redirect_uris": ["ftp://web.test/"]},
    ):
        with pytest.raises(ValueError):
            OidcClient.model_validate(bad)


def test_the_settings_refuse_a_bad_client_id_an_audience_as_client_or_half_a_federation(tmp_path: Any) -> None:
    good = {"redirect_uris": [WEB_CALLBACK]}
    bad: dict[str, Any]
    for bad in (
        {"oidc_clients": {"Web Front": good}},
        {"oidc_clients": {"prasmes": good}},  # the access tokens' audience
        {"oidc_issuer": "prasmes-identity"},
        {"oidc_upstream_issuer": "https://eid.example.lv"},  # without its client id
    ):
        with pytest.raises(ValueError):
            GatewaySettings(var_dir=tmp_path, **bad)


def test_the_clients_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    digest = hashlib.sha256(WEB_SECRET.encode()).hexdigest()
    client = {"secret_sha256": digest, "redirect_uris": [WEB_CALLBACK]}
    monkeypatch.setenv("OIDC_CLIENTS", json.dumps({WEB: client}))

    settings = GatewaySettings(var_dir=tmp_path)

    assert settings.oidc_clients == {WEB: OidcClient(secret_sha256=digest, redirect_uris=[WEB_CALLBACK])}
