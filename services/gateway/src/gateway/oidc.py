"""The gateway as an OpenID Connect provider: the authorization code flow with PKCE (mandatory, S256) for the
platform's web front ends, federating to the national eID when configured (services/gateway/README.md).

- `GET /.well-known/openid-configuration`: the discovery document.
- `GET /oidc/authorize`: the authorization request; answered at once within the identity provider's session,
  else the sign-in page (the seeded users in dev mode, the national eID when federated), which posts back here.
- `POST /oidc/token`: the code for an access token (the one every service accepts) and an ID token.
- `GET|POST /oidc/userinfo`: the bearer's claims.
- `GET|POST /oidc/logout`: RP-initiated logout.
- `GET /oidc/upstream/callback`: the national eID's answer to a federated sign-in.

The routes read and answer; `gateway.oidc_provider` does the work; `gateway.oidc_openapi` documents them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from prasmes_runtime.auth import PUBLIC, CurrentUser
from pydantic import BaseModel

from gateway import oidc_openapi as doc
from gateway.oidc_pages import LANGUAGES, language_of
from gateway.oidc_provider import NO_STORE, OidcProvider, redirect
from gateway.oidc_requests import (
    PROMPTS,
    SCOPES,
    NotRedirectable,
    Redirectable,
    TokenError,
    authenticate_client,
    parse_authorization,
)

FORM = doc.FORM
MAX_FORM_BYTES = 16 * 1024
MAX_FIELDS = 64
SUPPORTED: dict[str, Any] = {
    "response_types_supported": ["code"],
    "response_modes_supported": ["query"],
    "grant_types_supported": ["authorization_code"],
    "code_challenge_methods_supported": ["S256"],
    "id_token_signing_alg_values_supported": ["EdDSA"],
    "subject_types_supported": ["public"],
    "scopes_supported": list(SCOPES),
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name", "email", "locale"],
    "prompt_values_supported": sorted(PROMPTS),
    "ui_locales_supported": list(LANGUAGES),
    "authorization_response_iss_parameter_supported": True,
    "claims_parameter_supported": False,
    "request_parameter_supported": False,
    "request_uri_parameter_supported": False,
}
"""The discovery document beside the endpoints. `roles` is no ID token claim: userinfo answers it."""
SIGN_IN_CONTROLS = frozenset({"csrf_token", "method", "username"})
"""The sign-in form's own fields, beside the authorization request's."""


def _provider(request: Request) -> OidcProvider:
    provider: OidcProvider = request.app.state.oidc
    return provider


Provider = Annotated[OidcProvider, Depends(_provider)]
router = APIRouter(tags=["identity"])


class OidcTokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    id_token: str
    scope: str


@router.get("/.well-known/openid-configuration", openapi_extra=PUBLIC, summary="OpenID Connect discovery")
async def discovery(provider: Provider, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    issuer = provider.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oidc/authorize",
        "token_endpoint": f"{issuer}/oidc/token",
        "userinfo_endpoint": f"{issuer}/oidc/userinfo",
        "end_session_endpoint": f"{issuer}/oidc/logout",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        **SUPPORTED,
    }


@router.get(
    "/oidc/authorize",
    openapi_extra=doc.AUTHORIZE,
    response_class=HTMLResponse,
    responses=doc.page("the sign-in page", 400, 503),
    summary="The OpenID Connect authorization endpoint (code flow, PKCE with S256 required)",
)
async def authorize(request: Request, provider: Provider) -> Response:
    language = language_of(request, request.query_params.get("ui_locales"))
    try:
        auth = parse_authorization(request.query_params.multi_items(), provider.clients)
        session = provider.current_session(request, auth)
        if session is not None:
            return redirect(provider.code_redirect(auth, session))
        if "none" in auth.prompt:
            raise Redirectable("login_required", "the user is not signed in", auth)
    except NotRedirectable as exc:
        return provider.error_page(language, exc.reason)
    except Redirectable as exc:
        return provider.error_redirect(exc)
    return provider.sign_in_page(request, auth, language)


@router.post(
    "/oidc/authorize",
    openapi_extra=doc.SIGN_IN,
    response_class=HTMLResponse,
    responses=doc.page("never: a redirect or an error page", 400),
    summary="The sign-in page's form",
)
async def sign_in(request: Request, provider: Provider) -> Response:
    """The sign-in page's post: the request is validated again, then the form's CSRF token and the user's choice."""
    items = await _posted(request)
    controls = {name: value for name, value in items if name in SIGN_IN_CONTROLS}
    fields = [(name, value) for name, value in items if name not in SIGN_IN_CONTROLS]
    language = language_of(request, dict(fields).get("ui_locales"))
    try:
        auth = parse_authorization(fields, provider.clients)
    except NotRedirectable as exc:
        return provider.error_page(language, exc.reason)
    except Redirectable as exc:
        return provider.error_redirect(exc, 303)
    return await provider.sign_in(request, auth, controls, language)


@router.post(
    "/oidc/token",
    openapi_extra=doc.TOKEN,
    response_model=OidcTokens,
    responses=doc.TOKEN_ERRORS,
    summary="The OpenID Connect token endpoint (authorization code with PKCE)",
)
async def token(request: Request, provider: Provider) -> JSONResponse:
    """RFC 6749 4.1.3 with RFC 7636: `grant_type=authorization_code`, `code`, `redirect_uri`, `code_verifier`; the
    client by `client_secret_basic`, `client_secret_post`, or `client_id` alone for a public client."""
    try:
        form = await _token_form(request)
        client_id = authenticate_client(request.headers.get("authorization", ""), form, provider.clients)
        answer = provider.redeem(client_id, form)
    except TokenError as exc:
        body = {"error": exc.error, "error_description": exc.description}
        return JSONResponse(body, status_code=exc.status, headers={**NO_STORE, **exc.headers})
    return JSONResponse(answer, headers=NO_STORE)


@router.get("/oidc/userinfo", summary="The bearer's claims (OpenID Connect)")
async def userinfo(principal: CurrentUser, provider: Provider, response: Response) -> dict[str, Any]:
    """`sub` and `roles`, and for a user the identity provider knows `name`, `email` and `locale`."""
    response.headers["Cache-Control"] = "no-store"
    return provider.userinfo(principal)


@router.post("/oidc/userinfo", summary="The bearer's claims (OpenID Connect), as a POST")
async def userinfo_post(principal: CurrentUser, provider: Provider, response: Response) -> dict[str, Any]:
    return await userinfo(principal, provider, response)


@router.get(
    "/oidc/logout",
    openapi_extra=doc.LOGOUT,
    response_class=HTMLResponse,
    responses=doc.page("the signed-out page", 400),
    summary="RP-initiated logout",
)
async def logout(request: Request, provider: Provider) -> Response:
    return _sign_out(request, provider, request.query_params.multi_items())


@router.post(
    "/oidc/logout",
    openapi_extra=doc.LOGOUT_POST,
    response_class=HTMLResponse,
    responses=doc.page("the signed-out page", 400),
    summary="RP-initiated logout, as a form post",
)
async def logout_post(request: Request, provider: Provider) -> Response:
    return _sign_out(request, provider, await _posted(request))


@router.get(
    "/oidc/upstream/callback",
    openapi_extra=doc.CALLBACK,
    response_class=HTMLResponse,
    responses=doc.page("never: a redirect or an error page", 400),
    summary="Where the national eID sends the browser back",
)
async def upstream_callback(request: Request, provider: Provider) -> Response:
    return await provider.upstream_callback(request, language_of(request))


def _sign_out(request: Request, provider: OidcProvider, items: list[tuple[str, str]]) -> Response:
    params: dict[str, str] = {}
    for name, value in items:
        params.setdefault(name, value)
    response = provider.sign_out(params, language_of(request, params.get("ui_locales")))
    provider.browser.end_session(response)
    return response


async def _posted(request: Request) -> list[tuple[str, str]]:
    async with request.form(max_files=0, max_fields=MAX_FIELDS) as form:
        return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


async def _token_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM:
        raise TokenError("invalid_request", f"send the token request as {FORM}")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise TokenError("invalid_request", "the token request is too long")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise TokenError("invalid_request", "the token request is not a valid form") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise TokenError("invalid_request", "a parameter is repeated")
    return form
