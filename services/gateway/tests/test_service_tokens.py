"""Client credentials for the platform's services: a good secret buys a short `service` token, which the directory
answers by subject with the contact (e-mail address and language) and every person's route refuses; an unknown
client and a wrong secret get one and the same 401; the route is rate limited like the other /auth routes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from gateway.identity import DEV_USERS
from gateway.service_tokens import CLIENT_REFUSED
from gateway.settings import GatewaySettings
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, TokenIssuer, TokenVerifier, require_person, require_role
from prasmes_runtime.credentials import TOKEN_PATH, ServiceCredential
from prasmes_runtime.errors import Unavailable
from prasmes_runtime.http import install_error_handlers
from pydantic import ValidationError

SECRET = "a-long-random-secret-of-notifications"
CLIENTS = {"notifications": hashlib.sha256(SECRET.encode()).hexdigest()}
DIRECTORY = "/auth/directory/users"
STAFF = "/auth/directory/staff"
GatewayPair = tuple[FastAPI, httpx.AsyncClient]


@pytest.fixture
def pair(make_gateway: Callable[..., GatewayPair]) -> GatewayPair:
    return make_gateway(service_clients=CLIENTS)


@pytest.fixture
def client(pair: GatewayPair) -> httpx.AsyncClient:
    return pair[1]


def _verifier(app: FastAPI) -> TokenVerifier:
    issuer: TokenIssuer = app.state.token_issuer
    return TokenVerifier(issuer=issuer.issuer, audience=issuer.audience, jwks=issuer.jwks())


def _as(app: FastAPI, username: str) -> dict[str, str]:
    issuer: TokenIssuer = app.state.token_issuer
    user = DEV_USERS[username]
    return {"Authorization": f"Bearer {issuer.issue(user.subject, user.roles)}"}


async def _service_token(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post(TOKEN_PATH, json={"client_id": "notifications", "client_secret": SECRET})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_a_good_secret_buys_a_short_service_token(pair: GatewayPair) -> None:
    app, client = pair
    answer = await client.post(TOKEN_PATH, json={"client_id": "notifications", "client_secret": SECRET})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 300)
    principal = await _verifier(app).verify(body["access_token"])
    assert principal.subject == "service:notifications"
    assert principal.roles == {roles.SERVICE}
    assert principal.claims["exp"] - principal.claims["iat"] == 300
    assert principal.claims["client_id"] == "notifications"


async def test_the_credentials_may_come_as_a_form(client: httpx.AsyncClient) -> None:
    form = {"grant_type": "client_credentials", "client_id": "notifications", "client_secret": SECRET}
    answer = await client.post(TOKEN_PATH, data=form)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"


async def test_an_unknown_client_and_a_wrong_secret_get_the_same_401(
    client: httpx.AsyncClient, make_gateway: Callable[..., GatewayPair]
) -> None:
    wrong = await client.post(TOKEN_PATH, json={"client_id": "notifications", "client_secret": SECRET + "x"})
    unknown = await client.post(TOKEN_PATH, json={"client_id": "catalog", "client_secret": SECRET})
    _, unconfigured = make_gateway()  # no SERVICE_CLIENTS: no client is known
    none = await unconfigured.post(TOKEN_PATH, json={"client_id": "notifications", "client_secret": SECRET})
    for refused in (wrong, unknown, none):
        assert refused.status_code == 401
        assert refused.json() == {"error": "unauthorized", "message": CLIENT_REFUSED}
        assert "www-authenticate" not in refused.headers
    assert wrong.content == unknown.content == none.content


async def test_malformed_credentials_are_invalid_input_without_echoing_the_secret(client: httpx.AsyncClient) -> None:
    missing = await client.post(TOKEN_PATH, json={"client_id": "notifications"})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["client_secret"]
    grant = await client.post(TOKEN_PATH, data={"grant_type": "password", "client_id": "x", "client_secret": SECRET})
    assert grant.status_code == 422 and SECRET not in grant.text
    too_long = await client.post(TOKEN_PATH, json={"client_id": "notifications", "client_secret": "s" * 300})
    assert too_long.status_code == 422 and "sss" not in too_long.text
    assert (
        await client.post(TOKEN_PATH, content=b"{", headers={"content-type": "application/json"})
    ).status_code == 422
    assert (await client.post(TOKEN_PATH, content=b"x", headers={"content-type": "text/plain"})).status_code == 422


async def test_the_token_route_is_rate_limited_like_the_other_auth_routes(
    make_gateway: Callable[..., GatewayPair],
) -> None:
    _, client = make_gateway(service_clients=CLIENTS, rate_limit_per_minute=6, rate_limit_burst=2)
    body = {"client_id": "notifications", "client_secret": "guess"}
    statuses = [(await client.post(TOKEN_PATH, json=body)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_the_directory_answers_a_service_by_subject_with_the_contact(pair: GatewayPair) -> None:
    app, client = pair
    service = await _service_token(client)
    subjects = [DEV_USERS["anna"].subject, DEV_USERS["janis"].subject, "no-such-subject"]
    answer = await client.get(DIRECTORY, params={"subject": subjects}, headers=service)
    assert answer.status_code == 200, answer.text
    contacts = {u["username"]: (u["email"], u["language"]) for u in answer.json()["users"]}
    assert contacts == {"anna": ("anna@example.lv", "lv"), "janis": ("janis@example.lv", "en")}

    staff = await client.get(DIRECTORY, params={"subject": subjects}, headers=_as(app, "liga"))
    assert staff.status_code == 200
    assert all("language" not in u for u in staff.json()["users"])  # staff keep what they had

    for query in ({"username": "anna"}, {"email": "anna@example.lv"}, {}):
        refused = await client.get(DIRECTORY, params=query, headers=service)
        assert refused.status_code == 403, query  # a service asks by subject only
    for who in ("anna", "partner-nva"):
        by_subject = await client.get(DIRECTORY, params={"subject": subjects}, headers=_as(app, who))
        assert by_subject.status_code == 403, who


async def test_a_service_asks_who_holds_an_agency_role_and_gets_subjects_only(pair: GatewayPair) -> None:
    app, client = pair
    service = await _service_token(client)
    officers = await client.get(STAFF, params={"role": "agency_officer"}, headers=service)
    assert officers.status_code == 200, officers.text
    assert officers.json() == {"role": "agency_officer", "subjects": [DEV_USERS["ilze"].subject]}
    admins = await client.get(STAFF, params={"role": "agency_admin"}, headers=service)
    assert admins.json()["subjects"] == [DEV_USERS["martins"].subject]

    for role in ("learner", "provider_admin", ""):
        refused = await client.get(STAFF, params={"role": role}, headers=service)
        assert refused.status_code == 422, role  # no listing of learners nor of an institution's users
        assert refused.json()["errors"][0]["field"] == "role"
    for who in ("martins", "ilze", "liga", "anna"):
        assert (await client.get(STAFF, params={"role": "agency_officer"}, headers=_as(app, who))).status_code == 403
    assert (await client.get(STAFF, params={"role": "agency_officer"})).status_code == 401


async def test_a_service_token_is_refused_by_the_routes_of_people(pair: GatewayPair) -> None:
    """The gateway's own /auth/me (any signed-in person) and a service's learner route and person's action."""
    app, client = pair
    service = await _service_token(client)
    assert (await client.get("/auth/me", headers=service)).status_code == 403

    other = FastAPI()
    install_error_handlers(other)
    other.state.token_verifier = _verifier(app)  # verifies with the gateway's published key set

    @other.get("/learner")
    async def learner(user: Annotated[Principal, Depends(require_role(roles.LEARNER))]) -> dict[str, str]:
        return {"subject": user.subject}

    @other.get("/person")
    async def person(user: Annotated[Principal, Depends(require_person())]) -> dict[str, str]:
        return {"subject": user.subject}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://svc") as svc:
        for path in ("/learner", "/person"):
            refused = await svc.get(path, headers=service)
            assert refused.status_code == 403, path
        assert (await svc.get("/learner", headers=_as(app, "anna"))).status_code == 200


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)


async def test_a_service_credential_gets_its_token_from_the_gateway_once_and_asks_the_directory(
    pair: GatewayPair,
) -> None:
    app, client = pair
    transport = Counting(httpx.ASGITransport(app=app))
    credential = ServiceCredential(f"http://gw{TOKEN_PATH}", "notifications", SECRET, transport=transport)
    tokens = {await credential.token() for _ in range(3)}
    assert len(tokens) == 1 and transport.paths == [TOKEN_PATH]
    answer = await client.get(
        DIRECTORY, params={"subject": DEV_USERS["janis"].subject}, headers={"Authorization": f"Bearer {tokens.pop()}"}
    )
    assert answer.json()["users"][0]["language"] == "en"

    wrong = ServiceCredential(f"http://gw{TOKEN_PATH}", "notifications", "wrong", transport=transport)
    with pytest.raises(Unavailable):
        await wrong.token()


def test_service_clients_come_from_the_environment_as_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_CLIENTS", json.dumps({"notifications": CLIENTS["notifications"].upper()}))
    assert GatewaySettings().service_clients == CLIENTS
    for clients in ({"notifications": SECRET}, {"Not An Id": CLIENTS["notifications"]}):
        monkeypatch.setenv("SERVICE_CLIENTS", json.dumps(clients))
        with pytest.raises(ValidationError):
            GatewaySettings()


def test_the_token_route_is_documented_for_json_and_forms(gateway_app: FastAPI) -> None:
    operation: dict[str, Any] = gateway_app.openapi()["paths"][TOKEN_PATH]["post"]
    assert operation["security"] == []
    assert set(operation["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded"}
