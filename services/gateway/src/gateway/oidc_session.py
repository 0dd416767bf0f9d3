"""The identity provider's browser state, in signed cookies (every worker process reads them alike, none stores them).

- The session (`prasmes_idp_session`): who signed in and when (the subject and `auth_time`, nothing else), for
  `oidc_session_seconds`. Within it an authorization request is answered at once, without the sign-in page.
- The sign-in page's binding (`prasmes_idp_signin`): a random value for this browser; the page's form carries a
  token (CSRF) bound to it and to the authorization request the page was shown for, so that a form posted from
  elsewhere, or for another request, is refused.
- A federated sign-in in progress (`prasmes_idp_upstream`): the upstream request's state, nonce and PKCE verifier and
  the relying party's request it answers, until the upstream issuer sends the browser back.

Every cookie is HttpOnly, SameSite=Lax, on Path=/oidc, and Secure when the issuer is https. They are signed with
itsdangerous under a key derived from the platform's signing key (HKDF), each kind with its own salt, so no cookie
or token can pass for another kind.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request, Response
from itsdangerous import BadData, URLSafeTimedSerializer

SESSION_COOKIE = "prasmes_idp_session"
SIGN_IN_COOKIE = "prasmes_idp_signin"
UPSTREAM_COOKIE = "prasmes_idp_upstream"
COOKIE_PATH = "/oidc"
PENDING_SECONDS = 600
"""How long a sign-in page (and a federated sign-in in progress) stays good."""
_KDF_INFO = b"prasmes gateway: the identity provider's cookies, v1"
_MAX_COOKIE = 4096
_BINDING = re.compile(r"[A-Za-z0-9_-]{43}")
"""What `secrets.token_urlsafe(32)` makes."""


@dataclass(frozen=True)
class Session:
    subject: str
    auth_time: int


def derive_secret(key: Ed25519PrivateKey) -> bytes:
    """A symmetric key for the cookies, the same in every process that holds the signing key."""
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(raw)


def request_digest(fields: dict[str, str]) -> str:
    """A digest of an authorization request's parameters, to bind a sign-in form to it."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


class BrowserState:
    """The cookies, signed with `secret`; those signed with a `retired` one (a former signing key's) still read."""

    def __init__(self, secret: bytes, *, secure: bool, session_seconds: int, retired: Sequence[bytes] = ()) -> None:
        keys = [*retired, secret]  # itsdangerous signs with the last and reads with any
        self._session = URLSafeTimedSerializer(keys, salt="prasmes.oidc.session")
        self._sign_in = URLSafeTimedSerializer(keys, salt="prasmes.oidc.sign-in")
        self._upstream = URLSafeTimedSerializer(keys, salt="prasmes.oidc.upstream")
        self._secure = secure
        self.session_seconds = session_seconds

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path=COOKIE_PATH, secure=self._secure, httponly=True, samesite="lax"
        )

    def _clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path=COOKIE_PATH, secure=self._secure, httponly=True, samesite="lax")

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, value: str | None, max_age: int) -> Any:
        if not value or len(value) > _MAX_COOKIE:
            return None
        try:
            return serializer.loads(value, max_age=max_age)
        except BadData:
            return None

    # --------------------------------------------------------------- the session

    @staticmethod
    def new_session(subject: str) -> Session:
        return Session(subject, int(time.time()))

    def keep_session(self, response: Response, session: Session) -> None:
        value = self._session.dumps({"sub": session.subject, "auth_time": session.auth_time})
        self._set(response, SESSION_COOKIE, value, self.session_seconds)

    def session(self, request: Request) -> Session | None:
        data = self._load(self._session, request.cookies.get(SESSION_COOKIE), self.session_seconds)
        if not isinstance(data, dict):
            return None
        if not isinstance(data.get("sub"), str) or not isinstance(data.get("auth_time"), int):
            return None
        return Session(data["sub"], data["auth_time"])

    def end_session(self, response: Response) -> None:
        self._clear(response, SESSION_COOKIE)

    # --------------------------------------------------------------- the sign-in form's CSRF token

    @staticmethod
    def sign_in_binding(request: Request) -> str:
        """This browser's sign-in binding: the one it holds (several pages may be open at once), or a new one."""
        browser = request.cookies.get(SIGN_IN_COOKIE, "")
        return browser if _BINDING.fullmatch(browser) else secrets.token_urlsafe(32)

    def sign_in_token(self, browser: str, digest: str) -> str:
        """The CSRF token of a sign-in form shown to `browser` for the request of `digest`."""
        return self._sign_in.dumps({"req": digest, "browser": _hash(browser)})

    def keep_sign_in_binding(self, response: Response, browser: str) -> None:
        self._set(response, SIGN_IN_COOKIE, browser, PENDING_SECONDS)

    def check_sign_in_token(self, request: Request, token: str | None, digest: str) -> bool:
        data = self._load(self._sign_in, token, PENDING_SECONDS)
        browser = request.cookies.get(SIGN_IN_COOKIE)
        if not isinstance(data, dict) or not browser:
            return False
        same_request = hmac.compare_digest(str(data.get("req", "")).encode(), digest.encode())
        same_browser = hmac.compare_digest(str(data.get("browser", "")).encode(), _hash(browser).encode())
        return same_request and same_browser

    # --------------------------------------------------------------- a federated sign-in in progress

    def start_upstream(self, response: Response, pending: dict[str, Any]) -> None:
        self._set(response, UPSTREAM_COOKIE, self._upstream.dumps(pending), PENDING_SECONDS)

    def upstream(self, request: Request) -> dict[str, Any] | None:
        data = self._load(self._upstream, request.cookies.get(UPSTREAM_COOKIE), PENDING_SECONDS)
        return data if isinstance(data, dict) else None

    def end_upstream(self, response: Response) -> None:
        self._clear(response, UPSTREAM_COOKIE)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
