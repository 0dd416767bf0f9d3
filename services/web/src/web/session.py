"""Who is signed in: the session cookie (signed, HttpOnly, SameSite=Lax, Secure behind HTTPS), the signed-in user
in it, and the CSRF token every form carries.

The session holds the user's access token, so that pages call the API as the user; the cookie is signed, not
encrypted, and holds nothing the user may not see (their own token, name and roles; never a personal code)."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request

CSRF_FIELD = "csrf_token"
_USER = "user"
_CSRF = "csrf"


@dataclass(frozen=True)
class User:
    subject: str
    name: str
    roles: tuple[str, ...]
    locale: str
    access_token: str
    id_token: str
    expires_at: float

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at - 30  # half a minute's margin for the call under way

    @property
    def learner(self) -> bool:
        return "learner" in self.roles

    @property
    def provider(self) -> bool:
        """A user of an education institution (its administrator or staff; which institution, catalog says)."""
        return bool({"provider_admin", "provider_staff"} & set(self.roles))

    @property
    def provider_admin(self) -> bool:
        return "provider_admin" in self.roles

    @property
    def agency(self) -> bool:
        """Agency staff: an officer or an administrator."""
        return bool({"agency_officer", "agency_admin"} & set(self.roles))

    @property
    def agency_admin(self) -> bool:
        return "agency_admin" in self.roles


def user_of(request: Request) -> User | None:
    stored = request.session.get(_USER)
    if not isinstance(stored, dict):
        return None
    try:
        user = User(**{**stored, "roles": tuple(stored["roles"])})
    except (TypeError, KeyError):
        return None
    return None if user.expired else user


def sign_in(request: Request, token: dict[str, Any]) -> User:
    """A new session for the user the identity provider vouched for (`token`: its token answer, the ID token's
    claims under `userinfo`). A fresh CSRF token too: the one the visitor had before signing in is not kept."""
    claims = token.get("userinfo") or {}
    user = User(
        subject=str(claims["sub"]),
        name=str(claims.get("name") or ""),
        roles=tuple(sorted(str(r) for r in claims.get("roles", ()))),
        locale=str(claims.get("locale") or ""),
        access_token=str(token["access_token"]),
        id_token=str(token.get("id_token") or ""),
        expires_at=float(token.get("expires_at") or time.time() + float(token.get("expires_in", 300))),
    )
    request.session.clear()
    request.session[_USER] = user.__dict__ | {"roles": list(user.roles)}
    request.session[_CSRF] = secrets.token_urlsafe(32)
    return user


def sign_out(request: Request) -> str:
    """Ends the session here; answers the ID token, for the identity provider's sign-out."""
    stored = request.session.get(_USER)
    id_token = str(stored.get("id_token", "")) if isinstance(stored, dict) else ""
    request.session.clear()
    return id_token


def csrf_token(request: Request) -> str:
    token = request.session.get(_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_CSRF] = token
    return token


def csrf_valid(request: Request, given: object) -> bool:
    expected = request.session.get(_CSRF)
    return isinstance(expected, str) and isinstance(given, str) and hmac.compare_digest(expected, given)
