"""Identity: EdDSA-signed JWTs with `kid`, `exp`, `aud`, roles and an opaque subject.

The identity provider (the gateway) signs with `TokenIssuer` and publishes its public key set.
Every service verifies tokens itself with `TokenVerifier` against that key set; nothing trusts a
plain header.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request

from prasmes_runtime.errors import Forbidden, Unauthorized, Unavailable
from prasmes_runtime.logging import get_logger
from prasmes_runtime.roles import PARTNER, ROLES, SERVICE

ALGORITHM = "EdDSA"
TOKEN_NOT_VALID = "the token is not valid"
TOKEN_EXPIRED = "the token has expired"
SERVICE_REFUSED = "a service credential is accepted only by the routes meant for services"
log = get_logger(__name__)


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has_any(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)


class InvalidToken(Exception):
    """A token that does not verify. Its message says why, for the log; `public` is what the caller is told
    (never the decoder's internals)."""

    def __init__(self, message: str, *, public: str = TOKEN_NOT_VALID) -> None:
        super().__init__(message)
        self.public = public


def load_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key (PEM) that must exist: a retired signing key is never created."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds no Ed25519 private key")
    return key


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key, created on first use (dev and tests); production mounts it as a secret."""
    if path.exists():
        return load_key(path)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """A key's `kid`: derived from the public key alone, so the same key has the same kid in every process."""
    public = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return uuid.uuid5(uuid.NAMESPACE_OID, public.hex()).hex[:16]


def public_jwk(key: Ed25519PublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key))
    jwk.update(kid=key_id(key), alg=ALGORITHM, use="sig")
    return jwk


class TokenIssuer:
    """Signs with `key`; publishes it and the `retired` keys, which sign nothing any more but still verify the
    tokens they signed before a rollover, until those expire and the operator drops the keys."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int = 3600,
        retired: Iterable[Ed25519PublicKey] = (),
    ) -> None:
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self.kid = key_id(key.public_key())
        self._jwk = public_jwk(key.public_key())
        self._retired = [jwk for jwk in map(public_jwk, retired) if jwk["kid"] != self.kid]

    def issue(self, subject: str, roles: Iterable[str], *, ttl_seconds: int | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "roles": sorted(roles),
            "iat": now,
            "nbf": now,
            "exp": now + (ttl_seconds if ttl_seconds is not None else self.ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        payload = {**claims, **payload}  # the registered claims cannot be overridden
        return jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        """The signing key first, then the retired ones."""
        return {"keys": [self._jwk, *self._retired]}


class TokenVerifier:
    """Verifies tokens against a JWKS, fetched over HTTP and cached: refetched for an unknown kid (a rollover to a
    new signing key; at most once every `refetch_after` seconds) and once it is `max_key_age` old, so that a key the
    identity provider stopped publishing (a retired key dropped) stops verifying within that time. An old key set
    that cannot be read again is kept, and read again `refetch_after` later.

    A client sends the same token with every request for as long as it lives, so a verified token's principal is
    kept, keyed by the token itself, for the next request of this process: at most `cache_size` of them, the least
    recently used dropped first. A kept one is served only until its `exp` (an expired token is refused as expired,
    never served), and all are dropped when the key set changes (a key withdrawn takes its tokens with it). A token
    that does not verify is never kept."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        jwks: dict[str, Any] | None = None,
        refetch_after: float = 30.0,
        max_key_age: float = 300.0,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._jwks_url = jwks_url
        self._keys: dict[str, Any] = {}
        self._published: list[dict[str, Any]] = []
        self._fetched_at = 0.0
        self._refetch_after = refetch_after
        self._max_key_age = max_key_age
        self._refresh_due = 0.0
        """When (time.monotonic) the key set is old enough to be read again."""
        self._lock = asyncio.Lock()
        self._cache_size = cache_size
        self._clock = clock
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        """token -> (its exp, its principal), the most recently used last."""
        if jwks is not None:
            self._load(jwks)

    def _load(self, jwks: dict[str, Any]) -> None:
        published = [k for k in jwks.get("keys", []) if "kid" in k]
        keys = {k["kid"]: jwt.PyJWK(k, algorithm=ALGORITHM).key for k in published}
        self._fetched_at = time.monotonic()
        self._refresh_due = self._fetched_at + self._max_key_age
        if published != self._published:  # a key withdrawn takes its kept tokens with it
            self._keys, self._published = keys, published
            self._verified.clear()

    async def _refresh_if_old(self) -> None:
        if not self._jwks_url or not self._keys or time.monotonic() < self._refresh_due:
            return
        async with self._lock:
            if time.monotonic() < self._refresh_due:
                return  # another request read it meanwhile
            try:
                await self._fetch(self._jwks_url)
            except Unavailable:
                self._refresh_due = time.monotonic() + self._refetch_after  # logged; the keys held still verify

    async def _key_for(self, kid: str) -> Any:
        if kid not in self._keys and self._jwks_url:
            async with self._lock:
                stale = time.monotonic() - self._fetched_at > self._refetch_after or not self._keys
                if kid not in self._keys and stale:
                    await self._fetch(self._jwks_url)
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken("unknown signing key") from None

    async def _fetch(self, url: str) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(url)
                response.raise_for_status()
                self._load(response.json())
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("auth.jwks_unavailable", error=type(exc).__name__, detail=str(exc))
            raise Unavailable("the identity provider's key set could not be read") from exc

    async def verify(self, token: str) -> Principal:
        await self._refresh_if_old()
        kept = self._verified.get(token)
        if kept is not None:
            expires, principal = kept
            if self._clock() < expires:  # as PyJWT decides: expired once `exp <= now`
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
            raise InvalidToken("the token has expired (it was verified before)", public=TOKEN_EXPIRED)
        principal = await self._verify(token)
        if self._cache_size > 0:
            self._verified[token] = (float(principal.claims["exp"]), principal)
            if len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        key = await self._key_for(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken(str(exc), public=TOKEN_EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        roles = frozenset(r for r in claims.get("roles", []) if r in ROLES)
        return Principal(subject=str(claims["sub"]), roles=roles, claims=claims)


async def _verified(request: Request) -> Principal:
    """The caller of a valid bearer token, whatever its roles (no access rule of its own: the dependencies built
    on it, `authenticated` and `require_role`, decide)."""
    verifier: TokenVerifier = request.app.state.token_verifier
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    try:
        principal = await verifier.verify(token.strip())
    except InvalidToken as exc:
        log.info("auth.token_refused", reason=str(exc))
        raise Unauthorized(exc.public) from exc
    request.state.principal = principal
    return principal


_Verified = Annotated[Principal, Depends(_verified)]


def _refuse_services(principal: Principal) -> None:
    if principal.has_any((SERVICE,)):
        raise Forbidden(SERVICE_REFUSED)


async def authenticated(principal: _Verified) -> Principal:
    """Any signed-in caller but a platform service (whose credential only the routes naming `service` accept)."""
    _refuse_services(principal)
    return principal


authenticated.allowed_roles = ROLES - {SERVICE}  # type: ignore[attr-defined]
"""Any signed-in caller whatever their role, a service aside (the route's access rule, read by `access_rule`)."""

CurrentUser = Annotated[Principal, Depends(authenticated)]

PUBLIC: dict[str, Any] = {"security": []}
"""`openapi_extra=PUBLIC`: the route is open to anyone, no token needed (its OpenAPI operation says so too).
Every route declares its rule: this, or a dependency on `authenticated` / `require_role`."""


def is_public(openapi_extra: dict[str, Any] | None) -> bool:
    """Whether a route's `openapi_extra` carries the `PUBLIC` marker."""
    return openapi_extra is not None and openapi_extra.get("security") == []


def access_rule(dependency: Callable[..., Any]) -> frozenset[str] | None:
    """The roles an access dependency lets through (`authenticated`: every role but `service`; `require_role(...)`:
    those); None for any other dependency."""
    allowed = getattr(dependency, "allowed_roles", None)
    return allowed if isinstance(allowed, frozenset) else None


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only callers holding one of `roles`. A token holding `service` passes only
    where `roles` names it, whatever else it holds."""
    unknown = set(roles) - ROLES
    assert not unknown, f"unknown roles {unknown}"
    admits_services = SERVICE in roles

    async def check(principal: _Verified) -> Principal:
        if not principal.has_any(roles):
            raise Forbidden(f"requires role {' or '.join(roles)}")
        if not admits_services:
            _refuse_services(principal)
        return principal

    check.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
    return check


def require_person(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """`require_role(*roles)` for a person's action (no roles named: any signed-in person): a token that also holds
    `partner` is refused whatever else it holds, because partner systems are machine clients and follow the public
    events (no learner, provider or agency action); so is one holding `service` (a platform service is no person)."""
    assert PARTNER not in roles, "a person's action cannot admit partner systems"
    assert SERVICE not in roles, "a person's action cannot admit platform services"
    allowed = require_role(*roles) if roles else None

    async def check(principal: _Verified) -> Principal:
        if allowed is not None:
            await allowed(principal)
        if principal.has_any((PARTNER,)):
            raise Forbidden(
                "partner systems have no learner, provider or agency actions: they follow the public events"
            )
        _refuse_services(principal)
        return principal

    check.allowed_roles = frozenset(roles or ROLES - {PARTNER, SERVICE})  # type: ignore[attr-defined]
    return check
