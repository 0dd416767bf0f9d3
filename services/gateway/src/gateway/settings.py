"""The gateway's settings: the shared `Settings` plus upstream addresses, limits, the signing key and the
OpenID Connect provider's clients and federation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from prasmes_runtime import registry
from prasmes_runtime.settings import Settings
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

DEFAULT_SERVICE_URLS: dict[str, str] = registry.default_urls()
"""Every backend of the service registry, where the launcher starts it on one machine."""
_CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _default_service_urls() -> dict[str, str | list[str]]:
    return dict(DEFAULT_SERVICE_URLS)


def replica_urls(urls: str | Sequence[str]) -> list[str]:
    """A service's entry of SERVICE_URLS as the list of its replicas' base URLs."""
    return [urls] if isinstance(urls, str) else list(urls)


def _absolute_url(url: str, what: str, *, query: bool = True) -> str:
    """`url` if it is an absolute http(s) URL without a fragment (and without a query unless `query`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "#" in url or (parts.query and not query):
        raise ValueError(f"{what}: {url!r} is not an absolute http(s) URL" + ("" if query else " without a query"))
    return url


class OidcClient(BaseModel):
    """A relying party registered with the OpenID Connect provider (one entry of OIDC_CLIENTS)."""

    secret_sha256: str | None = None
    """The SHA-256 of the client's secret, in hex (never the secret). None: a public client, which authenticates with
    PKCE alone (`token_endpoint_auth_method=none`)."""
    redirect_uris: list[str] = Field(min_length=1)
    """Where the provider may send the browser back with a code: compared exactly, character for character."""
    post_logout_redirect_uris: list[str] = []
    """Where `/oidc/logout` may send the browser back after signing out (exact match too)."""

    @field_validator("secret_sha256")
    @classmethod
    def _digest(cls, digest: str | None) -> str | None:
        if digest is not None and not _SHA256_HEX.fullmatch(digest.lower()):
            raise ValueError("secret_sha256 is not the SHA-256 of a secret in hex (64 digits)")
        return digest.lower() if digest is not None else None

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _uris(cls, uris: list[str]) -> list[str]:
        return [_absolute_url(uri, "a redirect URI") for uri in uris]


class GatewaySettings(Settings):
    service_name: str = "gateway"

    service_urls: dict[str, str | list[str]] = Field(default_factory=_default_service_urls)
    """Service name -> base URL, or the base URLs of its replicas (the proxy spreads requests over them); from the
    environment as JSON: SERVICE_URLS='{"catalog": "http://...", "accounts": ["http://...", "http://..."]}'."""

    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    """Below every service's own cap (the runtime's default is 11 MiB), so that the gateway's 413 comes first."""
    rate_limit_per_minute: int = Field(default=1200, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    trusted_proxies: list[str] = Field(default_factory=list)
    """Peers (IP addresses or CIDR networks) whose X-Forwarded-For is believed; JSON list. None by default: the
    limiter keys on the real peer. The server must not rewrite the peer itself: run uvicorn with
    `--no-proxy-headers` (the launcher does), or it believes X-Forwarded-For from 127.0.0.1."""

    signing_key_path: Path | None = None
    """The identity provider's Ed25519 key (PEM); default var_dir/identity/signing-key.pem."""
    retired_signing_key_paths: list[Path] = Field(default_factory=list)
    """Keys that sign nothing but are published and verify (PEM; RETIRED_SIGNING_KEY_PATHS, JSON list): the former
    signing key after a rollover, so that the tokens (and the identity provider's cookies) it signed verify until they
    expire, or the next one ahead of it. A path dropped: what its key signed is refused (deploy/README.md)."""
    token_ttl_seconds: int = Field(default=3600, gt=0)
    service_clients: dict[str, str] = Field(default_factory=dict)
    """The platform services that may get a `service` token (`POST /auth/service-token`): client id -> the SHA-256 of
    its secret, in hex (never the secret itself); from the environment as JSON: SERVICE_CLIENTS='{"notifications":
    "9f86d0..."}'. None by default: no service token is issued. The launcher writes one secret per service."""
    service_token_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    """A service token's lifetime: short, as nothing revokes it (the services fetch a new one before it ends)."""

    oidc_issuer: str = ""
    """The OpenID Connect provider's issuer (OIDC_ISSUER), the public URL of the gateway as the browser and the
    relying parties reach it; default IDENTITY_URL. Without a trailing slash."""
    oidc_clients: dict[str, OidcClient] = Field(default_factory=dict)
    """The relying parties (OIDC_CLIENTS, JSON): client id -> {"secret_sha256": ..., "redirect_uris": [...],
    "post_logout_redirect_uris": [...]}. None by default: no authorization request is accepted."""
    oidc_code_ttl_seconds: int = Field(default=60, gt=0, le=600)
    oidc_id_token_ttl_seconds: int = Field(default=600, gt=0, le=86_400)
    oidc_session_seconds: int = Field(default=8 * 3600, gt=0, le=30 * 86_400)
    """How long the identity provider's own sign-in (its session cookie) lasts: within it, a relying party's
    authorization request is answered without showing the sign-in page again."""
    oidc_upstream_issuer: str | None = None
    """The external identity provider the sign-in page federates to (the national eID, Latvija.lv in production):
    its issuer URL, whose /.well-known/openid-configuration is read. None: no federation."""
    oidc_upstream_client_id: str | None = None
    oidc_upstream_client_secret: SecretStr | None = None
    """None: the gateway is a public client of the upstream issuer (PKCE alone)."""
    oidc_upstream_scope: str = "openid"
    oidc_upstream_timeout: float = Field(default=10.0, gt=0)

    upstream_timeout: float = Field(default=30.0, gt=0)
    openapi_timeout: float = Field(default=3.0, gt=0)
    openapi_cache_seconds: float = Field(default=30.0, ge=0)

    @field_validator("service_urls")
    @classmethod
    def _replicas(cls, urls: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for service, value in urls.items():
            if not replica_urls(value):
                raise ValueError(f"SERVICE_URLS[{service!r}] lists no URL")
        return urls

    def service_replicas(self) -> dict[str, list[str]]:
        """`service_urls` with every service's URLs as a list (one URL: a list of one)."""
        return {service: replica_urls(value) for service, value in self.service_urls.items()}

    @field_validator("service_clients")
    @classmethod
    def _secret_hashes(cls, clients: dict[str, str]) -> dict[str, str]:
        for client_id, digest in clients.items():
            if not _CLIENT_ID.fullmatch(client_id):
                raise ValueError(f"SERVICE_CLIENTS: {client_id!r} is not a client id (lower-case letters, digits, -_.)")
            if not _SHA256_HEX.fullmatch(digest.lower()):
                raise ValueError(f"SERVICE_CLIENTS[{client_id!r}] is not the SHA-256 of a secret in hex (64 digits)")
        return {client_id: digest.lower() for client_id, digest in clients.items()}

    @field_validator("oidc_clients")
    @classmethod
    def _oidc_client_ids(cls, clients: dict[str, OidcClient]) -> dict[str, OidcClient]:
        for client_id in clients:
            if not _CLIENT_ID.fullmatch(client_id):
                raise ValueError(f"OIDC_CLIENTS: {client_id!r} is not a client id (lower-case letters, digits, -_.)")
        return clients

    @model_validator(mode="after")
    def _oidc(self) -> Self:
        self.oidc_issuer = _absolute_url(self.oidc_issuer or self.identity_url, "OIDC_ISSUER", query=False).rstrip("/")
        # An ID token's audience is its client: one named like the access tokens' audience could pass for one.
        if self.jwt_audience in self.oidc_clients:
            raise ValueError(f"OIDC_CLIENTS: {self.jwt_audience!r} is the access tokens' audience, not a client id")
        if self.oidc_upstream_issuer is not None:
            upstream = _absolute_url(self.oidc_upstream_issuer, "OIDC_UPSTREAM_ISSUER", query=False)
            self.oidc_upstream_issuer = upstream.rstrip("/")
            if not self.oidc_upstream_client_id:
                raise ValueError("OIDC_UPSTREAM_ISSUER is set but OIDC_UPSTREAM_CLIENT_ID is not")
        return self

    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or self.var_dir / "identity" / "signing-key.pem"
