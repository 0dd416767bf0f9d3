"""What a relying party asks of the OpenID Connect provider, validated: the authorization request (RFC 6749 4.1 with
PKCE, RFC 7636, mandatory and S256 only) and the client's authentication at the token endpoint (RFC 6749 2.3.1).

Errors come in two kinds. Until the client and its redirect URI are known to be registered, nothing may be sent
to that URI (an open redirector otherwise): `NotRedirectable`, shown to the user as a page. After that, the error
goes back to the client as `error=...&state=...` (`Redirectable`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import unquote_plus, urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from gateway.settings import OidcClient

SCOPES = ("openid", "profile", "email")
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_PARAM = 2048
MAX_STATE = 512
"""For `state` and `nonce`: the pending request must fit in a cookie during a federated sign-in."""
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
"""BASE64URL(SHA-256(verifier)) without padding: exactly 43 characters."""
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_NO_CLIENT = hashlib.sha256(b"no such client").hexdigest()
_UNSUPPORTED = {
    "request": "request_not_supported",
    "request_uri": "request_uri_not_supported",
    "registration": "registration_not_supported",
}
AUTHORIZATION_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "ui_locales",
)
"""The authorization request's parameters that are read (and carried through the sign-in page)."""


class NotRedirectable(Exception):
    """An unknown client or redirect URI: the user is told (`reason` names the page's message), the browser stays."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Redirectable(Exception):
    """An error for the client, sent to its (validated) redirect URI."""

    def __init__(self, error: str, description: str, request: AuthorizationRequest) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.request = request


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    code_challenge: str
    state: str | None
    nonce: str | None
    prompt: frozenset[str]
    max_age: int | None
    ui_locales: str | None
    fields: dict[str, str]
    """The parameters as they came (those in `AUTHORIZATION_FIELDS`), for the sign-in page's form to post back."""

    def redirect(self, issuer: str, **params: str) -> str:
        """The redirect URI with `params`, the state and the issuer (RFC 9207) added to its query."""
        values = {**params, **({"state": self.state} if self.state is not None else {}), "iss": issuer}
        separator = "&" if "?" in self.redirect_uri else "?"
        return f"{self.redirect_uri}{separator}{urlencode(values)}"


def parse_authorization(items: Iterable[tuple[str, str]], clients: dict[str, OidcClient]) -> AuthorizationRequest:
    """The request of `items` (query or form pairs), validated against the registered `clients`."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in items:
        if name in values:
            repeated.add(name)
        values.setdefault(name, value)
    client_id, redirect_uri = values.get("client_id", ""), values.get("redirect_uri", "")
    client = clients.get(client_id)
    if client is None or {"client_id", "redirect_uri"} & repeated:
        raise NotRedirectable("unknown_client")
    if redirect_uri not in client.redirect_uris:
        raise NotRedirectable("unknown_redirect_uri")
    fields = {name: values[name] for name in AUTHORIZATION_FIELDS if name in values}
    request = AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=tuple(s for s in SCOPES if s in values.get("scope", "").split(" ")),
        code_challenge=values.get("code_challenge", ""),
        state=values.get("state"),
        nonce=values.get("nonce"),
        prompt=frozenset(values.get("prompt", "").split()),
        max_age=None,
        ui_locales=values.get("ui_locales"),
        fields=fields,
    )
    _check(request, values, repeated)
    return _with_max_age(request, values.get("max_age"))


def _check(request: AuthorizationRequest, values: dict[str, str], repeated: set[str]) -> None:
    def refuse(error: str, description: str) -> Redirectable:
        return Redirectable(error, description, request)

    if repeated:
        raise refuse("invalid_request", f"a parameter is repeated: {', '.join(sorted(repeated))}")
    if any(len(value) > MAX_PARAM for value in values.values()):
        raise refuse("invalid_request", f"a parameter is longer than {MAX_PARAM} characters")
    if any(len(values.get(name, "")) > MAX_STATE for name in ("state", "nonce")):
        raise refuse("invalid_request", f"state and nonce are at most {MAX_STATE} characters")
    for name, error in _UNSUPPORTED.items():
        if name in values:
            raise refuse(error, f"the {name} parameter is not supported")
    if values.get("response_type") != "code":
        raise refuse("unsupported_response_type", "only response_type=code is supported")
    if values.get("response_mode", "query") != "query":
        raise refuse("invalid_request", "only response_mode=query is supported")
    if "openid" not in request.scope:
        raise refuse("invalid_scope", "the scope must contain openid")
    if not _CHALLENGE.fullmatch(request.code_challenge):
        raise refuse("invalid_request", "PKCE is required: a code_challenge (S256, 43 characters)")
    if values.get("code_challenge_method") != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256 (plain is not supported)")
    if not request.prompt <= PROMPTS or ("none" in request.prompt and len(request.prompt) > 1):
        raise refuse("invalid_request", "prompt is none alone, or any of login, consent, select_account")


def _with_max_age(request: AuthorizationRequest, max_age: str | None) -> AuthorizationRequest:
    if max_age is None:
        return request
    if not max_age.isascii() or not max_age.isdigit() or len(max_age) > 9:
        raise Redirectable("invalid_request", "max_age is a number of seconds", request)
    return replace(request, max_age=int(max_age))


# ------------------------------------------------------------------- the token endpoint's client authentication


class TokenError(Exception):
    """An error of the token endpoint, answered as RFC 6749 5.2 says: `{"error", "error_description"}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers: dict[str, str] = {}


class ClientRefused(TokenError):
    """`invalid_client` (401): an unknown client, a wrong secret and a missing one alike."""

    def __init__(self, description: str = "the client could not be authenticated") -> None:
        super().__init__("invalid_client", description, 401)
        self.headers = {"WWW-Authenticate": 'Basic realm="prasmes"'}


def authenticate_client(authorization: str, form: dict[str, str], clients: dict[str, OidcClient]) -> str:
    """The client id of a request to the token endpoint: client_secret_basic (the Authorization header),
    client_secret_post (client_id and client_secret in the form) or none (client_id alone: public clients)."""
    basic = _basic(authorization)
    if basic is not None and "client_secret" in form:
        raise TokenError("invalid_request", "use one client authentication method, not two")
    client_id, secrets = basic if basic is not None else (form.get("client_id", ""), _posted_secret(form))
    if not client_id:  # no client named at all: a malformed request, not a failed authentication
        raise TokenError("invalid_request", "the client is not named: Basic credentials or client_id")
    if basic is not None and form.get("client_id", client_id) != client_id:
        raise TokenError("invalid_request", "the client_id differs from the authenticated client")
    client = clients.get(client_id)
    if client is None or client.secret_sha256 is None:
        if client is None or secrets:  # a public client has no secret: one given is not accepted either
            _compare(secrets or [""], None)
            raise ClientRefused()
        return client_id
    if not _compare(secrets, client.secret_sha256):
        raise ClientRefused()
    return client_id


def _posted_secret(form: dict[str, str]) -> list[str]:
    return [form["client_secret"]] if "client_secret" in form else []


def _basic(authorization: str) -> tuple[str, list[str]] | None:
    """(client id, the secret's possible readings) from `Authorization: Basic`, or None without one."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ClientRefused("the Basic credentials are not base64 of id:secret") from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise ClientRefused("the Basic credentials are not id:secret")
    # RFC 6749 says the id and secret are form-encoded first; many clients (authlib among them) do not.
    return unquote_plus(user), list(dict.fromkeys([password, unquote_plus(password)]))


def _compare(secrets: list[str], digest: str | None) -> bool:
    """Whether one of `secrets` hashes to `digest`, in constant time (and with the same work for no client)."""
    expected = digest or _NO_CLIENT
    matched = False
    for secret in secrets:
        given = hashlib.sha256(secret.encode()).hexdigest()
        matched = hmac.compare_digest(given, expected) or matched
    return matched and digest is not None


def check_pkce(verifier: str | None, challenge: str) -> None:
    """RFC 7636 4.6: the verifier's S256 transform must be the code's challenge."""
    if not verifier:
        raise TokenError("invalid_request", "code_verifier is required (PKCE)")
    transformed = str(create_s256_code_challenge(verifier)) if _VERIFIER.fullmatch(verifier) else ""
    if not hmac.compare_digest(transformed, challenge):
        raise TokenError("invalid_grant", "the code_verifier does not match the code_challenge")
