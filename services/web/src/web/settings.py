"""The web pages' settings: the shared `Settings` plus where the gateway is, the OpenID Connect client and cookies."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from prasmes_runtime.settings import Settings
from pydantic import Field, SecretStr


class WebSettings(Settings):
    service_name: str = "web"

    gateway_url: str = "http://127.0.0.1:8000"
    """The platform's API, as this process reaches it (GATEWAY_URL): every page's data comes from there."""
    web_url: str = "http://127.0.0.1:8007"
    """Where browsers reach these pages (WEB_URL): the OpenID Connect redirect URI is built from it, and cookies are
    `Secure` when it is https."""
    oidc_issuer: str = ""
    """The identity provider (OIDC_ISSUER); default: the gateway, as browsers reach it (PUBLIC_URL)."""
    public_url: str = "http://127.0.0.1:8000"
    """The gateway as browsers reach it (PUBLIC_URL): the identity provider's sign-in page is there."""
    oidc_client_id: str = "web"
    oidc_client_secret: SecretStr | None = None
    """This front end's secret at the identity provider (OIDC_CLIENT_SECRET); unset: a public client (PKCE only)."""
    session_secret: SecretStr | None = None
    """Signs the session cookie (SESSION_SECRET, 32+ random bytes); default: one made once in var_dir/web/."""
    session_max_age_seconds: int = Field(default=8 * 3600, gt=0)
    """A session ends this long after sign-in at the latest (the access token's own lifetime is shorter: an expired
    token sends the user through the identity provider again, which signs them in at once while its session lasts)."""
    upstream_timeout: float = Field(default=15.0, gt=0)

    @property
    def issuer(self) -> str:
        return (self.oidc_issuer or self.public_url).rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        return self.web_url.startswith("https://")

    @property
    def redirect_uri(self) -> str:
        return f"{self.web_url.rstrip('/')}/signin/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.web_url.rstrip('/')}/signed-out"

    def resolved_session_secret(self) -> str:
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        return _kept_secret(self.var_dir / "web" / "session-secret")


def _kept_secret(path: Path) -> str:
    """A random secret made on first use and kept (0600), so that sessions survive a restart of the process."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # several workers start at once: the first one's secret stays
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()
