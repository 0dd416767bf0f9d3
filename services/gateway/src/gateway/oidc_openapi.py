"""How the OpenID Connect routes appear in the API document: they read their parameters themselves (the protocol's
errors are not the platform's 422), so their parameters, bodies and answers are described here."""

from __future__ import annotations

from typing import Any

from prasmes_runtime.auth import PUBLIC
from pydantic import BaseModel

from gateway.oidc_requests import AUTHORIZATION_FIELDS

FORM = "application/x-www-form-urlencoded"
_REQUIRED = ("client_id", "redirect_uri", "response_type", "scope", "code_challenge", "code_challenge_method")
LOGOUT_FIELDS = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id", "ui_locales")
_HTML = {"text/html": {"schema": {"type": "string"}}}


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str


def _query(names: tuple[str, ...], required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "required": n in required, "schema": {"type": "string"}} for n in names]


def _form(names: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema = {"type": "object", "required": list(required), "properties": {n: {"type": "string"} for n in names}}
    return {"requestBody": {"required": True, "content": {FORM: {"schema": schema}}}}


def page(description: str, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """The answers of a browser route: the page, the redirect and the error page."""
    answers: dict[int | str, dict[str, Any]] = {200: {"description": description, "content": _HTML}}
    answers |= {302: {"description": "to the relying party (or the national eID)"}}
    answers |= {status: {"description": "an error page", "content": _HTML} for status in statuses}
    return answers


AUTHORIZE = {**PUBLIC, "parameters": _query(AUTHORIZATION_FIELDS, _REQUIRED)}
SIGN_IN = {**PUBLIC, **_form((*AUTHORIZATION_FIELDS, "csrf_token", "method", "username"), _REQUIRED)}
_GRANT = ("grant_type", "code", "redirect_uri", "code_verifier")
TOKEN = {**PUBLIC, **_form((*_GRANT, "client_id", "client_secret"), _GRANT)}
TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": OAuthErrorBody}, 401: {"model": OAuthErrorBody}}
LOGOUT = {**PUBLIC, "parameters": _query(LOGOUT_FIELDS)}
LOGOUT_POST = {**PUBLIC, **_form(LOGOUT_FIELDS)}
CALLBACK = {**PUBLIC, "parameters": _query(("state", "code", "error", "iss"))}
