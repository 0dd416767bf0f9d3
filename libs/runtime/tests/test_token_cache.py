"""The verifier keeps the principals of the tokens it verified: bounded, never past a token's `exp`, dropped with a
key set that changes, and never for a token that did not verify."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prasmes_runtime.auth import TOKEN_EXPIRED, InvalidToken, TokenIssuer, TokenVerifier


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(Ed25519PrivateKey.generate(), issuer="prasmes-identity", audience="prasmes")


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full verification (signature and claims) the verifier makes."""
    calls: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        calls.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    return calls


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def _flip_first_bit(segment: str) -> str:
    """The same base64url segment with one bit of its first byte flipped, encoded canonically: a signature that is
    well formed but wrong. (Editing its last characters instead sometimes left non-zero padding bits, which PyJWT
    refuses as malformed before it verifies anything.)"""
    raw = bytearray(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    raw[0] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def verifier_of(issuer: TokenIssuer, **options: object) -> TokenVerifier:
    return TokenVerifier(issuer=issuer.issuer, audience=issuer.audience, jwks=issuer.jwks(), **options)  # type: ignore[arg-type]


async def test_a_verified_token_is_served_from_the_cache(issuer: TokenIssuer, decodes: list[str]) -> None:
    verifier = verifier_of(issuer)
    token = issuer.issue("anna", ["learner"])

    first = await verifier.verify(token)
    again = await verifier.verify(token)

    assert again is first
    assert (first.subject, first.roles) == ("anna", frozenset({"learner"}))
    assert decodes == [token]


async def test_an_expired_token_is_never_served_from_the_cache(issuer: TokenIssuer, decodes: list[str]) -> None:
    clock = Clock()
    verifier = verifier_of(issuer, clock=clock)
    token = issuer.issue("anna", ["learner"], ttl_seconds=60)
    expires = _claims(token)["exp"]
    await verifier.verify(token)

    clock.now = expires - 0.5
    assert (await verifier.verify(token)).subject == "anna"
    clock.now = expires  # PyJWT's rule: expired once exp <= now
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)

    assert refused.value.public == TOKEN_EXPIRED
    assert decodes == [token]


async def test_a_token_past_its_exp_is_refused_by_a_fresh_verification_too(issuer: TokenIssuer) -> None:
    verifier = verifier_of(issuer)
    expired = issuer.issue("anna", ["learner"], ttl_seconds=-1)

    for _ in range(2):
        with pytest.raises(InvalidToken) as refused:
            await verifier.verify(expired)
        assert refused.value.public == TOKEN_EXPIRED


async def test_the_cache_is_bounded_least_recently_used_out_first(issuer: TokenIssuer, decodes: list[str]) -> None:
    verifier = verifier_of(issuer, cache_size=2)
    a, b, c = (issuer.issue(name, ["learner"]) for name in ("a", "b", "c"))

    await verifier.verify(a)
    await verifier.verify(b)
    await verifier.verify(a)  # a is now the most recently used
    await verifier.verify(c)  # b goes
    await verifier.verify(a)
    await verifier.verify(b)

    assert decodes == [a, b, c, b]


async def test_a_token_that_does_not_verify_is_not_kept(issuer: TokenIssuer, decodes: list[str]) -> None:
    verifier = verifier_of(issuer)
    token = issuer.issue("anna", ["learner"])
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{_flip_first_bit(signature)}"

    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.verify(forged)

    assert decodes == [forged, forged]


async def test_a_new_key_set_drops_the_kept_tokens(issuer: TokenIssuer, decodes: list[str]) -> None:
    verifier = verifier_of(issuer)
    token = issuer.issue("anna", ["learner"])
    await verifier.verify(token)

    rotated = TokenIssuer(Ed25519PrivateKey.generate(), issuer=issuer.issuer, audience=issuer.audience)
    verifier._load(rotated.jwks())  # what a refetch after a rotation does

    with pytest.raises(InvalidToken):
        await verifier.verify(token)
    assert decodes == [token]  # refused for its unknown key, before any decoding
