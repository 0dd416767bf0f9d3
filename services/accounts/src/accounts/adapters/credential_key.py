"""The key accounts signs the learners' credentials with: an Ed25519 key of its own (never the identity provider's,
which signs tokens), created once in var_dir on first start (production mounts it as a secret), its public half
published as a key set (`GET /public/credentials/keys`)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prasmes_documents.credentials import Issuer, opaque_id, public_jwks, sign_credential, thumbprint
from prasmes_runtime.auth import load_or_create_key

PUBLIC_PATH = "/public/credentials"
KEYS = "/keys"
"""The key set's path under `PUBLIC_PATH` (behind the gateway: /api/accounts/public/credentials/keys)."""
ISSUER_NAME = "Prasmes"


@dataclass(frozen=True)
class CredentialKey:
    key: Ed25519PrivateKey
    kid: str
    """A URL that dereferences to the key (Open Badges 3.0 asks a `kid` to): the key set's, with the key's JWK
    thumbprint (RFC 7638) as fragment."""
    issuer: Issuer

    def jwks(self) -> dict[str, Any]:
        return public_jwks(self.key, self.kid)

    def sign(self, credential: Mapping[str, Any]) -> str:
        return sign_credential(credential, self.key, self.kid)

    def opaque_id(self, purpose: str, reference: str) -> str:
        return opaque_id(self.key, purpose, reference)


def _load_or_create_once(path: Path) -> Ed25519PrivateKey:
    """`load_or_create_key`, safe when the api and the worker process start together: a new key is written beside
    its place and linked there (which fails if another process linked one first), so every process loads the same."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as draft_dir:
            draft = Path(draft_dir) / path.name
            load_or_create_key(draft)
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
    return load_or_create_key(path)


def credential_key(path: Path, public_url: str, service_name: str) -> CredentialKey:
    """The key at `path` (created there when missing); ids under `public_url`, the platform's address for its users
    (the gateway, which serves this service under /api/<service_name>)."""
    key = _load_or_create_once(path)
    base = public_url.rstrip("/")
    kid = f"{base}/api/{service_name}{PUBLIC_PATH}{KEYS}#{thumbprint(key)}"
    return CredentialKey(key, kid, Issuer(id=f"{base}/credentials/issuer", name=ISSUER_NAME, url=f"{base}/"))
