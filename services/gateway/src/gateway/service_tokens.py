"""Client credentials for the platform's own services: a service trades its client id and secret for a short token
whose only role is `service` (subject `service:<client id>`), accepted only by the routes that name that role.

The gateway knows each client by the SHA-256 of its secret (`SERVICE_CLIENTS`), never the secret itself; a secret
is compared in constant time, and an unknown client and a wrong secret get the same 401 (no oracle for client ids).
The route is under /auth/, so the gateway's rate limit applies to it as to the other identity routes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from prasmes_runtime import roles
from prasmes_runtime.credentials import TOKEN_PATH
from prasmes_runtime.errors import InvalidInput, Unauthorized
from prasmes_runtime.logging import get_logger
from pydantic import BaseModel, Field, SecretStr, ValidationError

from gateway.identity import PUBLIC, Issuer
from gateway.settings import GatewaySettings

CLIENT_REFUSED = "the client credentials are not valid"
"""The one answer to an unknown client and to a wrong secret."""
SUBJECT_PREFIX = "service:"
_NO_CLIENT = hashlib.sha256(b"no such client").hexdigest()
"""Compared against when the client is unknown, so that both refusals take the same work."""
FORM = "application/x-www-form-urlencoded"
log = get_logger(__name__)


class ClientRefused(Unauthorized):
    """401 for client credentials: no `WWW-Authenticate: Bearer` (no bearer token was at fault)."""

    headers: ClassVar[dict[str, str] | None] = None


class ServiceTokenRequest(BaseModel):
    """A service's client credentials (the OAuth 2.0 client-credentials grant's fields), as JSON or as a form."""

    grant_type: Literal["client_credentials"] | None = None
    client_id: str = Field(min_length=1, max_length=64)
    client_secret: SecretStr = Field(min_length=1, max_length=256)


class ServiceTokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    """Seconds the token is valid for."""


_SCHEMA = ServiceTokenRequest.model_json_schema()
_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": _SCHEMA}, FORM: {"schema": _SCHEMA}}}
}

router = APIRouter(tags=["identity"])


@router.post(TOKEN_PATH, openapi_extra={**PUBLIC, **_BODY}, summary="A platform service's token")
async def service_token(request: Request, issuer: Issuer) -> ServiceTokenResponse:
    """Client credentials (`client_id`, `client_secret`, optionally `grant_type=client_credentials`) for a token with
    the role `service`, valid for `expires_in` seconds. An unknown client or a wrong secret: 401."""
    credentials = await _read(request)
    settings: GatewaySettings = request.app.state.settings
    known = settings.service_clients.get(credentials.client_id)
    given = hashlib.sha256(credentials.client_secret.get_secret_value().encode()).hexdigest()
    matches = hmac.compare_digest(given, known or _NO_CLIENT)
    if known is None or not matches:
        log.info("identity.service_token_refused", client_id=credentials.client_id, known_client=known is not None)
        raise ClientRefused(CLIENT_REFUSED)
    ttl = settings.service_token_ttl_seconds
    subject = SUBJECT_PREFIX + credentials.client_id
    token = issuer.issue(subject, [roles.SERVICE], ttl_seconds=ttl, client_id=credentials.client_id)
    log.info("identity.service_token_issued", client_id=credentials.client_id, expires_in=ttl)
    return ServiceTokenResponse(access_token=token, expires_in=ttl)


async def _read(request: Request) -> ServiceTokenRequest:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    raw = await request.body()
    fields: Any
    if media_type == FORM:
        try:
            fields = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=10))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidInput.of("body", "form_invalid", "the request body is not a valid form") from exc
    elif media_type in ("", "application/json"):
        try:
            fields = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput.of("body", "json_invalid", "the request body is not valid JSON") from exc
    else:
        raise InvalidInput.of("body", "media_type", f"send the credentials as application/json or as {FORM}")
    try:
        return ServiceTokenRequest.model_validate(fields)
    except ValidationError as exc:
        # Only where and why: a rejected value (it may be the secret) is not passed on.
        errors = [{"loc": ("body", *e["loc"]), "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        raise RequestValidationError(errors) from None
