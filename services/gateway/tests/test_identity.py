"""The identity provider: key set, development login, and what /auth/me accepts."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from gateway.identity import DEV_USERS, NAMESPACE
from prasmes_runtime.auth import InvalidToken, TokenIssuer, TokenVerifier
from prasmes_runtime.roles import ROLES, SERVICE


async def login(client: httpx.AsyncClient, username: str = "anna") -> dict[str, Any]:
    response = await client.post("/auth/dev-login", json={"username": username})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issuer_of(app: FastAPI) -> TokenIssuer:
    issuer: TokenIssuer = app.state.token_issuer
    return issuer


def unsigned_token(claims: dict[str, Any], header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


async def test_dev_login_issues_a_token_for_a_seeded_user(gateway: httpx.AsyncClient) -> None:
    body = await login(gateway, "liga")

    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["roles"] == ["provider_admin"]
    assert body["subject"] == str(uuid.uuid5(NAMESPACE, "liga"))


async def test_dev_login_token_verifies_against_the_published_key_set(gateway: httpx.AsyncClient) -> None:
    body = await login(gateway, "anna")
    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    verifier = TokenVerifier(issuer="prasmes-identity", audience="prasmes", jwks=jwks)

    principal = await verifier.verify(body["access_token"])

    assert principal.subject == body["subject"]
    assert principal.roles == frozenset({"learner"})
    assert jwt.get_unverified_header(body["access_token"])["kid"] == jwks["keys"][0]["kid"]


async def test_key_set_holds_only_public_material(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/.well-known/jwks.json")

    [key] = response.json()["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
    assert "d" not in key
    assert "max-age" in response.headers["cache-control"]


async def test_dev_login_is_refused_outside_dev_mode(make_gateway: Callable[..., Any]) -> None:
    _, client = make_gateway(dev_mode=False)

    login_response = await client.post("/auth/dev-login", json={"username": "anna"})
    users_response = await client.get("/auth/dev-users")

    assert login_response.status_code == 403
    assert login_response.json() == {"error": "forbidden", "message": "development login is disabled"}
    assert users_response.status_code == 403


async def test_dev_login_of_an_unknown_user_is_not_found(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/auth/dev-login", json={"username": "mallory"})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_dev_login_without_a_username_is_invalid_input(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/auth/dev-login", json={})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "username"


async def test_dev_users_lists_every_role_of_a_person_or_partner_for_a_demo(gateway: httpx.AsyncClient) -> None:
    users = (await gateway.get("/auth/dev-users")).json()

    names = {u["username"] for u in users}
    assert {"anna", "janis", "liga", "peteris", "ilze", "martins", "partner-nva"} <= names
    # A platform service is no development user: it gets its token for its client credentials.
    assert {role for u in users for role in u["roles"]} == ROLES - {SERVICE}
    assert all(u["display_name"] for u in users)


def test_dev_user_subjects_are_opaque_and_stable() -> None:
    subjects = {user.subject for user in DEV_USERS.values()}

    assert len(subjects) == len(DEV_USERS)
    assert DEV_USERS["anna"].subject == str(uuid.uuid5(NAMESPACE, "anna"))
    assert all("anna" not in s for s in subjects)


async def test_the_signing_key_survives_a_restart(make_gateway: Callable[..., Any]) -> None:
    first, _ = make_gateway()
    second, _ = make_gateway()

    assert issuer_of(first).kid == issuer_of(second).kid


async def test_me_returns_the_verified_principal(gateway: httpx.AsyncClient) -> None:
    body = await login(gateway, "martins")

    response = await gateway.get("/auth/me", headers=bearer(body["access_token"]))

    assert response.status_code == 200
    assert response.json() == {"subject": body["subject"], "roles": ["agency_admin"]}


async def test_me_without_a_token_is_unauthorized(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/auth/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_me_rejects_an_expired_token(gateway_app: FastAPI, gateway: httpx.AsyncClient) -> None:
    token = issuer_of(gateway_app).issue(DEV_USERS["anna"].subject, ["learner"], ttl_seconds=-60)

    response = await gateway.get("/auth/me", headers=bearer(token))

    assert response.status_code == 401
    assert "expired" in response.text


async def test_me_rejects_a_token_signed_by_another_key(gateway: httpx.AsyncClient) -> None:
    stranger = TokenIssuer(Ed25519PrivateKey.generate(), issuer="prasmes-identity", audience="prasmes")

    response = await gateway.get("/auth/me", headers=bearer(stranger.issue("x", ["agency_admin"])))

    assert response.status_code == 401


async def test_me_rejects_another_key_posing_under_our_kid(gateway_app: FastAPI, gateway: httpx.AsyncClient) -> None:
    kid = issuer_of(gateway_app).kid
    valid = issuer_of(gateway_app).issue("x", ["agency_admin"])
    claims = jwt.decode(valid, options={"verify_signature": False})
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})

    response = await gateway.get("/auth/me", headers=bearer(forged))

    assert response.status_code == 401
    assert response.json()["message"] == "the token is not valid"  # the reason is for the log, not the caller
    with pytest.raises(InvalidToken, match=r"(?i)signature"):
        await gateway_app.state.token_verifier.verify(forged)


async def test_me_rejects_a_token_for_another_audience(gateway_app: FastAPI, gateway: httpx.AsyncClient) -> None:
    ours = issuer_of(gateway_app)
    elsewhere = TokenIssuer(ours._key, issuer=ours.issuer, audience="someone-else")

    token = elsewhere.issue("x", ["learner"])
    response = await gateway.get("/auth/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["message"] == "the token is not valid"
    with pytest.raises(InvalidToken, match=r"(?i)audience"):
        await gateway_app.state.token_verifier.verify(token)


@pytest.mark.parametrize("alg", ["none", "None", "HS256"])
async def test_me_rejects_unsigned_and_symmetric_tokens(
    gateway_app: FastAPI, gateway: httpx.AsyncClient, alg: str
) -> None:
    valid = issuer_of(gateway_app).issue("x", ["agency_admin"])
    claims = jwt.decode(valid, options={"verify_signature": False})
    token = unsigned_token(claims, {"alg": alg, "typ": "JWT", "kid": issuer_of(gateway_app).kid})

    response = await gateway.get("/auth/me", headers=bearer(token))

    assert response.status_code == 401


async def test_a_verifier_rejects_alg_none_directly(gateway_app: FastAPI) -> None:
    claims = jwt.decode(issuer_of(gateway_app).issue("x", []), options={"verify_signature": False})
    verifier: TokenVerifier = gateway_app.state.token_verifier

    with pytest.raises(InvalidToken, match="not accepted"):
        await verifier.verify(unsigned_token(claims, {"alg": "none", "kid": issuer_of(gateway_app).kid}))
