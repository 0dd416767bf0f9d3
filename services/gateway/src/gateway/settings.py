"""The gateway's settings: the shared `Settings` plus upstream addresses, limits and the signing key."""

from __future__ import annotations

import re
from pathlib import Path

from prasmes_runtime import registry
from prasmes_runtime.settings import Settings
from pydantic import Field, field_validator

DEFAULT_SERVICE_URLS: dict[str, str] = registry.default_urls()
"""Every backend of the service registry, where the launcher starts it on one machine."""
_CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class GatewaySettings(Settings):
    service_name: str = "gateway"

    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_URLS))
    """Service name -> base URL; from the environment as JSON: SERVICE_URLS='{"catalog": "http://..."}'."""

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
    token_ttl_seconds: int = Field(default=3600, gt=0)
    service_clients: dict[str, str] = Field(default_factory=dict)
    """The platform services that may get a `service` token (`POST /auth/service-token`): client id -> the SHA-256 of
    its secret, in hex (never the secret itself); from the environment as JSON: SERVICE_CLIENTS='{"notifications":
    "9f86d0..."}'. None by default: no service token is issued. The launcher writes one secret per service."""
    service_token_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    """A service token's lifetime: short, as nothing revokes it (the services fetch a new one before it ends)."""

    upstream_timeout: float = Field(default=30.0, gt=0)
    openapi_timeout: float = Field(default=3.0, gt=0)
    openapi_cache_seconds: float = Field(default=30.0, ge=0)

    @field_validator("service_clients")
    @classmethod
    def _secret_hashes(cls, clients: dict[str, str]) -> dict[str, str]:
        for client_id, digest in clients.items():
            if not _CLIENT_ID.fullmatch(client_id):
                raise ValueError(f"SERVICE_CLIENTS: {client_id!r} is not a client id (lower-case letters, digits, -_.)")
            if not _SHA256_HEX.fullmatch(digest.lower()):
                raise ValueError(f"SERVICE_CLIENTS[{client_id!r}] is not the SHA-256 of a secret in hex (64 digits)")
        return {client_id: digest.lower() for client_id, digest in clients.items()}

    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or self.var_dir / "identity" / "signing-key.pem"
