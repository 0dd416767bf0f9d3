"""The OpenID Connect provider's own JWTs: authorization codes and ID tokens, signed with the platform's key.

An authorization code is self-contained: the gateway may run several worker processes with no shared store, so the
code carries everything the token endpoint needs (client, redirect URI, PKCE challenge, nonce, subject, scope), for
`oidc_code_ttl_seconds` (60 s), signed like every token of ours. It can never pass for another token: its header's
`typ` and its audience (`CODE_AUDIENCE`, which no client id can be: a client id has no colon) are its own, and the
access tokens' verifiers ask for the audience `prasmes` and the issuer `prasmes-identity`.

Single use is enforced per process (`SpentCodes`): a code redeemed in one worker could be redeemed once more in
another within its minute. What protects such a replay is PKCE: the code is worth nothing without the verifier,
which only the client that started the request holds.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from authlib.oidc.core.util import create_half_hash
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from prasmes_runtime.auth import ALGORITHM

CODE_TYPE = "oauth-authz-code+jwt"
CODE_AUDIENCE = "urn:prasmes:oidc:authorization-code"
ID_TOKEN_TYPE = "JWT"
Clock = Callable[[], float]


class TokenRefused(Exception):
    """A code or an ID token that does not verify; the message is for the log and the error's description."""


@dataclass(frozen=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    scope: tuple[str, ...]
    subject: str
    auth_time: int
    nonce: str | None = None
    jti: str = ""
    expires: int = 0


@dataclass(frozen=True)
class IdentityClaims:
    """What an ID token says of the person beyond the subject (each only when its scope was granted)."""

    name: str | None = None
    email: str | None = None
    locale: str | None = None


class OidcSigner:
    """Signs and verifies the provider's codes and ID tokens with the platform's key, under its `kid` (the key set
    at /.well-known/jwks.json verifies them); still verifies what the `retired` keys (kid -> key) signed."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        kid: str,
        issuer: str,
        clock: Clock = time.time,
        retired: Mapping[str, Ed25519PublicKey] | None = None,
    ) -> None:
        self._key = key
        self._verifying: dict[str, Ed25519PublicKey] = {**(retired or {}), kid: key.public_key()}
        self.kid = kid
        self.issuer = issuer
        self.clock = clock

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": typ})

    def _decode(
        self, token: str, *, typ: str, audience: str | Iterable[str], verify_exp: bool = True
    ) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            public = self._verifying.get(str(header.get("kid")))
            if header.get("typ") != typ or public is None or header.get("alg") != ALGORITHM:
                raise TokenRefused("not one of ours")
            claims: dict[str, Any] = jwt.decode(
                token,
                public,
                algorithms=[ALGORITHM],
                audience=list(audience) if not isinstance(audience, str) else audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRefused("it has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"it does not verify ({exc})") from exc
        return claims

    def issue_code(self, code: AuthorizationCode, ttl_seconds: int) -> str:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "aud": CODE_AUDIENCE,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            "sub": code.subject,
            "client_id": code.client_id,
            "redirect_uri": code.redirect_uri,
            "code_challenge": code.code_challenge,
            "scope": " ".join(code.scope),
            "auth_time": code.auth_time,
            "nonce": code.nonce,
        }
        return self._sign(claims, CODE_TYPE)

    def read_code(self, token: str) -> AuthorizationCode:
        claims = self._decode(token, typ=CODE_TYPE, audience=CODE_AUDIENCE)
        try:
            nonce = claims.get("nonce")
            return AuthorizationCode(
                client_id=_text(claims["client_id"]),
                redirect_uri=_text(claims["redirect_uri"]),
                code_challenge=_text(claims["code_challenge"]),
                scope=tuple(_text(claims["scope"]).split()),
                subject=_text(claims["sub"]),
                auth_time=int(claims["auth_time"]),
                nonce=_text(nonce) if nonce is not None else None,
                jti=_text(claims["jti"]),
                expires=int(claims["exp"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TokenRefused(f"a claim is missing or malformed ({exc})") from exc

    def issue_id_token(
        self, code: AuthorizationCode, who: IdentityClaims, *, access_token: str, ttl_seconds: int
    ) -> str:
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": code.client_id,
            "sub": code.subject,
            "iat": now,
            "exp": now + ttl_seconds,
            "auth_time": code.auth_time,
            # For EdDSA the hash is SHA-512's left half (as authlib checks it): binds the access token to this token.
            "at_hash": create_half_hash(access_token, ALGORITHM).decode("ascii"),
        }
        optional = {"nonce": code.nonce, "name": who.name, "email": who.email, "locale": who.locale}
        claims.update({name: value for name, value in optional.items() if value is not None})
        return self._sign(claims, ID_TOKEN_TYPE)

    def read_id_token_hint(self, token: str, clients: Iterable[str]) -> tuple[str, str]:
        """(client id, subject) of an ID token we issued to one of `clients`; an expired one is still good."""
        clients = list(clients)
        if not clients:
            raise TokenRefused("no client is registered")
        claims = self._decode(token, typ=ID_TOKEN_TYPE, audience=clients, verify_exp=False)
        audience = claims["aud"]
        named = [audience] if isinstance(audience, str) else audience
        client_id = next(a for a in named if a in clients)  # the audience check found one
        return client_id, str(claims["sub"])


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


class SpentCodes:
    """The codes redeemed in this process until they expire (kept as long as they are valid, in the order they
    expire, since every code lives as long)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._spent: OrderedDict[str, int] = OrderedDict()
        self._clock = clock

    def spend(self, jti: str, expires: int) -> bool:
        """True the first time `jti` is spent; False if it was spent before."""
        now = self._clock()
        while self._spent and next(iter(self._spent.values())) < now:
            self._spent.popitem(last=False)
        if jti in self._spent:
            return False
        self._spent[jti] = expires
        return True
