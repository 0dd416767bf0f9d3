"""The accounts service's settings and adapters, as its `ServiceDefinition` declares them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prasmes_runtime.settings import Settings

from accounts.adapters.credential_key import CredentialKey, credential_key


class AccountsSettings(Settings):
    service_name: str = "accounts"
    public_url: str = "http://127.0.0.1:8000"
    """The platform's address as its users open it (PUBLIC_URL): the credentials' issuer and key ids are under it."""
    credential_key_path: Path | None = None
    """The Ed25519 key of the learners' credentials (CREDENTIAL_KEY_PATH, PEM); default
    var_dir/credentials/signing-key.pem. Not SIGNING_KEY_PATH: that is the identity provider's key."""

    def resolved_credential_key_path(self) -> Path:
        return self.credential_key_path or self.var_dir / "credentials" / "signing-key.pem"


@dataclass(frozen=True)
class AccountsAdapters:
    credential_key: CredentialKey


def build_adapters(settings: AccountsSettings) -> AccountsAdapters:
    key = credential_key(settings.resolved_credential_key_path(), settings.public_url, settings.service_name)
    return AccountsAdapters(credential_key=key)
