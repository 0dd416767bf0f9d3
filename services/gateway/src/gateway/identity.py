"""The platform's identity provider: the signing key, its public key set and the development login."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, Request, Response
from prasmes_runtime.auth import CurrentUser, TokenIssuer, load_key, load_or_create_key
from prasmes_runtime.errors import Forbidden, NotFound
from prasmes_runtime.roles import ROLES, SERVICE
from pydantic import BaseModel

from gateway.settings import GatewaySettings

# Fixed forever: changing it would change every development user's subject.
NAMESPACE = uuid.UUID("6f1c2a54-3d1e-5b8a-9c47-2e0f8b6d4a13")
PUBLIC: dict[str, Any] = {"security": []}
"""OpenAPI extra for routes that need no bearer token."""
Language = Literal["lv", "en"]


@dataclass(frozen=True)
class DevUser:
    username: str
    subject: str
    roles: frozenset[str]
    display_name: str
    language: Language = "lv"
    """The language the user reads the platform's messages in (what notifications writes to them in)."""

    @property
    def email(self) -> str:
        """Development users' addresses are in the reserved example.lv domain: no mail reaches a person."""
        return f"{self.username}@example.lv"


def _dev_user(username: str, display_name: str, *roles: str, language: Language = "lv") -> DevUser:
    assert set(roles) <= ROLES, f"unknown roles {set(roles) - ROLES}"
    assert SERVICE not in roles, "a platform service is no development user: it has client credentials"
    subject = str(uuid.uuid5(NAMESPACE, username))
    return DevUser(username, subject, frozenset(roles), display_name, language)


DEV_USERS: dict[str, DevUser] = {
    user.username: user
    for user in (
        _dev_user("anna", "Anna Bērziņa", "learner"),
        _dev_user("janis", "Jānis Kalniņš", "learner", language="en"),  # reads the platform in English
        _dev_user("liga", "Līga Ozola (provider administrator)", "provider_admin"),
        _dev_user("peteris", "Pēteris Liepa (provider staff)", "provider_staff"),
        # a second institution's people, not seeded: it registers through the pages, invites its staff
        _dev_user("karlis", "Kārlis Zariņš (provider administrator)", "provider_admin"),
        _dev_user("sandra", "Sandra Kļaviņa (provider staff)", "provider_staff", language="en"),
        _dev_user("ilze", "Ilze Krūmiņa (agency officer)", "agency_officer"),
        _dev_user("martins", "Mārtiņš Vītols (agency administrator)", "agency_admin"),
        _dev_user("partner-nva", "NVA partner system", "partner"),
    )
}


def signing_keys(settings: GatewaySettings) -> tuple[Ed25519PrivateKey, list[Ed25519PrivateKey]]:
    """The key that signs and the retired ones (RETIRED_SIGNING_KEY_PATHS), which must exist: they are never made."""
    retired = [load_key(path) for path in settings.retired_signing_key_paths]
    return load_or_create_key(settings.resolved_signing_key_path()), retired


def build_issuer(settings: GatewaySettings) -> TokenIssuer:
    key, retired = signing_keys(settings)
    return TokenIssuer(
        key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.token_ttl_seconds,
        retired=[old.public_key() for old in retired],
    )


class DevLoginRequest(BaseModel):
    username: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    subject: str
    roles: list[str]


class DevUserView(BaseModel):
    username: str
    roles: list[str]
    display_name: str


class PrincipalView(BaseModel):
    subject: str
    roles: list[str]


def _issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer = request.app.state.token_issuer
    return issuer


def _dev_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    if not settings.dev_mode:
        raise Forbidden("development login is disabled")
    return settings


Issuer = Annotated[TokenIssuer, Depends(_issuer)]
DevMode = Annotated[GatewaySettings, Depends(_dev_settings)]

router = APIRouter(tags=["identity"])


@router.get("/.well-known/jwks.json", openapi_extra=PUBLIC)
async def jwks(issuer: Issuer, response: Response) -> dict[str, Any]:
    # Verifiers refetch on an unknown kid, so a short cache does not delay a key rotation much.
    response.headers["Cache-Control"] = "public, max-age=300"
    return issuer.jwks()


@router.post("/auth/dev-login", openapi_extra=PUBLIC)
async def dev_login(body: DevLoginRequest, issuer: Issuer, _: DevMode) -> TokenResponse:
    user = DEV_USERS.get(body.username)
    if user is None:
        raise NotFound(f"no development user {body.username!r}")
    token = issuer.issue(user.subject, user.roles)
    return TokenResponse(
        access_token=token, expires_in=issuer.ttl_seconds, subject=user.subject, roles=sorted(user.roles)
    )


@router.get("/auth/dev-users", openapi_extra=PUBLIC)
async def dev_users(_: DevMode) -> list[DevUserView]:
    return [
        DevUserView(username=u.username, roles=sorted(u.roles), display_name=u.display_name) for u in DEV_USERS.values()
    ]


@router.get("/auth/me")
async def me(principal: CurrentUser) -> PrincipalView:
    return PrincipalView(subject=principal.subject, roles=sorted(principal.roles))
