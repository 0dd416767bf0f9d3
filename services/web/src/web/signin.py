"""Sign-in with OpenID Connect (authorization code with PKCE) at the platform's identity provider, by authlib."""

from __future__ import annotations

from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

from web.settings import WebSettings

SCOPES = "openid profile email"


def identity_client(settings: WebSettings) -> StarletteOAuth2App:
    """The identity provider as this front end's client sees it: its endpoints from its discovery document, PKCE with
    S256 on every sign-in, the state and the code verifier kept in the session until the callback."""
    oauth = OAuth()
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    client: StarletteOAuth2App = oauth.register(
        name="prasmes",
        client_id=settings.oidc_client_id,
        client_secret=secret,
        server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
            "timeout": settings.upstream_timeout,
        },
    )
    return client
