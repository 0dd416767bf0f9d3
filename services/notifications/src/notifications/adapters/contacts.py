"""Where a notice's mail goes: the identity provider knows each user's e-mail address and language, and is asked
at send time with the service's own credential. Nothing of it is stored here or travels on a topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from prasmes_runtime.client import SharedClient


@dataclass(frozen=True)
class Contact:
    email: str
    language: str
    """lv or en: the language the mail is written in."""


class ContactsUnavailable(Exception):
    """The identity provider did not answer: the mail waits and is tried again."""


class Contacts(Protocol):
    async def contact(self, user_id: str) -> Contact | None:
        """The user's address and language; None when the user is unknown or has no address."""


@dataclass
class StaticContacts:
    """Known contacts (the tests' and the benchmark's)."""

    known: Mapping[str, Contact]

    async def contact(self, user_id: str) -> Contact | None:
        return self.known.get(user_id)


class DirectoryContacts:
    """The identity provider's directory: `GET {identity_url}/auth/directory/users?subject=...`, with a service
    token from `token()`."""

    def __init__(self, identity_url: str, token: Callable[[], Awaitable[str]]) -> None:
        self._url = f"{identity_url.rstrip('/')}/auth/directory/users"
        self._token = token
        self._client = SharedClient(timeout=5.0)

    async def contact(self, user_id: str) -> Contact | None:
        try:
            headers = {"Authorization": f"Bearer {await self._token()}"}
            response = await self._client.client().get(self._url, params={"subject": user_id}, headers=headers)
            if response.status_code != 200:
                raise ContactsUnavailable(f"the directory answered {response.status_code}")
            users = response.json().get("users", [])
        except ContactsUnavailable:
            raise
        except Exception as exc:  # the directory down or not making sense, or the token endpoint: try again later
            raise ContactsUnavailable(type(exc).__name__) from exc
        found = next((u for u in users if u.get("subject") == user_id), None)
        if found is None or not found.get("email"):
            return None
        language = found.get("language") if found.get("language") in ("lv", "en") else "lv"
        return Contact(found["email"], language)
