"""Federation to an external OpenID Connect issuer (the national eID, Latvija.lv in production).

The gateway is that issuer's client: the sign-in page's "Sign in with the national eID" starts a code flow with
PKCE there (authlib's `AsyncOAuth2Client`), the issuer sends the browser back to `/oidc/upstream/callback`, the code
is exchanged and the upstream ID token verified (its issuer's key set, `iss`, `aud`, `azp`, `nonce`, `exp`, `iat`).
The upstream subject becomes a platform subject of its own, `uuid5(NAMESPACE, "<upstream issuer>|<sub>")`, with the
role `learner`: no personal code or name of the upstream is kept.
"""

from __future__ import annotations

import hmac
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from prasmes_runtime.logging import get_logger

from gateway.identity import NAMESPACE
from gateway.settings import GatewaySettings

CALLBACK_PATH = "/oidc/upstream/callback"
METADATA_SECONDS = 3600.0
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
"""The upstream ID token's algorithms accepted (those it announces, among these): no `none`, no shared secret."""
LEEWAY_SECONDS = 60
log = get_logger(__name__)

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client


class FederationFailed(Exception):
    """The upstream flow did not end in a verified subject; `error` is what the relying party is told."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


@dataclass(frozen=True)
class UpstreamMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]

    @classmethod
    def of(cls, document: Any, expected_issuer: str) -> UpstreamMetadata:
        if not isinstance(document, dict):
            raise ValueError("the discovery document is not an object")
        issuer = str(document.get("issuer", ""))
        if issuer.rstrip("/") != expected_issuer:
            raise ValueError(f"the discovery document names the issuer {issuer!r}")
        announced = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = tuple(a for a in announced if a in ALGORITHMS)
        if not algorithms:
            raise ValueError(f"no acceptable ID token algorithm among {announced!r}")
        endpoints = {name: str(document[name]) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")}
        if issuer.startswith("https://") and not all(url.startswith("https://") for url in endpoints.values()):
            raise ValueError("an https issuer's endpoints must be https too")
        return cls(issuer=issuer, algorithms=algorithms, **endpoints)


@dataclass(frozen=True)
class PendingUpstream:
    """What the callback needs of the upstream request it answers (kept in a signed cookie meanwhile)."""

    state: str
    nonce: str
    verifier: str


def federated_subject(upstream_issuer: str, upstream_subject: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{upstream_issuer}|{upstream_subject}"))


class Federation:
    def __init__(self, settings: GatewaySettings) -> None:
        assert settings.oidc_upstream_issuer is not None and settings.oidc_upstream_client_id is not None
        self.issuer = settings.oidc_upstream_issuer
        self._client_id = settings.oidc_upstream_client_id
        secret = settings.oidc_upstream_client_secret
        self._secret = secret.get_secret_value() if secret is not None else None
        self._scope = settings.oidc_upstream_scope
        self._timeout = settings.oidc_upstream_timeout
        self.callback_url = settings.oidc_issuer + CALLBACK_PATH
        self._metadata: tuple[float, UpstreamMetadata] | None = None
        self._jwks: dict[str, Any] = {}

    def _client(self) -> AsyncOAuth2Client:
        # Imported here: importing it warns that authlib prefers httpx2, in every gateway, federated or not.
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._secret,
            token_endpoint_auth_method="client_secret_basic" if self._secret else "none",
            scope=self._scope,
            redirect_uri=self.callback_url,
            code_challenge_method="S256",
            timeout=self._timeout,
        )

    async def metadata(self, *, fresh: bool = False) -> UpstreamMetadata:
        if self._metadata is not None and not fresh and time.monotonic() - self._metadata[0] < METADATA_SECONDS:
            return self._metadata[1]
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(url)
                response.raise_for_status()
                metadata = UpstreamMetadata.of(response.json(), self.issuer)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise FederationFailed("temporarily_unavailable", f"the upstream discovery failed: {exc}") from exc
        self._metadata = (time.monotonic(), metadata)
        self._jwks = {}
        return metadata

    async def start(self) -> tuple[str, PendingUpstream]:
        """The upstream authorization URL to send the browser to, and what its callback will need."""
        metadata = await self.metadata()
        verifier, nonce = generate_token(64), generate_token(32)
        async with self._client() as client:
            url, state = client.create_authorization_url(
                metadata.authorization_endpoint, code_verifier=verifier, nonce=nonce
            )
        return str(url), PendingUpstream(str(state), nonce, verifier)

    async def finish(self, code: str, pending: PendingUpstream) -> str:
        """The upstream subject the code stands for, once its ID token is verified."""
        metadata = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(metadata.token_endpoint, code=code, code_verifier=pending.verifier)
        except (OAuthError, ValueError) as exc:
            raise FederationFailed("access_denied", f"the upstream token endpoint refused: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FederationFailed("temporarily_unavailable", f"the upstream token endpoint: {exc}") from exc
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise FederationFailed("access_denied", "the upstream answered without an ID token")
        claims = await self._verify(id_token, metadata)
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), pending.nonce.encode()):
            raise FederationFailed("access_denied", "the upstream ID token's nonce is not ours")
        return str(claims["sub"])

    async def _verify(self, id_token: str, metadata: UpstreamMetadata) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            algorithm = str(header.get("alg"))
            if algorithm not in metadata.algorithms:
                raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")
            key = await self._key(str(header.get("kid") or ""), metadata)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=[algorithm],
                audience=self._client_id,
                issuer=metadata.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise FederationFailed("access_denied", f"the upstream ID token does not verify: {exc}") from exc
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if (several or "azp" in claims) and claims.get("azp") != self._client_id:
            raise FederationFailed("access_denied", "the upstream ID token was issued to another party (azp)")
        return claims

    async def _key(self, kid: str, metadata: UpstreamMetadata) -> Any:
        """The upstream key of `kid` (the only one when the token names none), its key set read again once for an
        unknown kid (a rotation)."""
        for attempt in range(2):
            if not self._jwks or attempt:
                self._jwks = await self._fetch_jwks(metadata.jwks_uri)
            keys = [k for k in jwt.PyJWKSet.from_dict(self._jwks).keys if (k.key_id == kid) or not kid]
            if len(keys) == 1:
                return keys[0].key
        raise jwt.InvalidKeyError(f"no single upstream key for kid {kid!r}")

    async def _fetch_jwks(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise FederationFailed("temporarily_unavailable", f"the upstream key set: {exc}") from exc
        if not isinstance(document, dict):
            raise FederationFailed("temporarily_unavailable", "the upstream key set is not an object")
        return document
