"""Where a notice's mail goes: the identity provider knows each user's e-mail address and language, and is asked
at send time with the service's own credential. Nothing of it is stored here or travels on a topic.

It also knows who the agency's officers are (the subjects holding the role, no more): notifications asks when an
event is work waiting for them, and keeps the answer in memory for a few minutes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
    async def contacts(self, user_ids: Sequence[str]) -> dict[str, Contact]:
        """The addresses and languages of those of `user_ids` the directory knows with an address."""

    async def holders(self, role: str) -> list[str]:
        """The opaque subjects of the agency's users holding `role` (`agency_officer`, `agency_admin`)."""


@dataclass
class StaticContacts:
    """Known contacts (the tests' and the benchmark's)."""

    known: Mapping[str, Contact]
    staff: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Role -> its holders."""

    async def contacts(self, user_ids: Sequence[str]) -> dict[str, Contact]:
        return {u: self.known[u] for u in user_ids if u in self.known}

    async def holders(self, role: str) -> list[str]:
        return list(self.staff.get(role, ()))


class DirectoryContacts:
    """The identity provider's directory: `GET {identity_url}/auth/directory/users?subject=...`, with a service
    token from `token()`."""

    def __init__(self, identity_url: str, token: Callable[[], Awaitable[str]], roster_seconds: float = 300) -> None:
        self._url = f"{identity_url.rstrip('/')}/auth/directory"
        self._token = token
        self._client = SharedClient(timeout=5.0)
        self._roster_seconds = roster_seconds
        self._rosters: dict[str, tuple[float, list[str]]] = {}

    async def _get(self, path: str, params: Mapping[str, str | list[str]]) -> dict[str, object]:
        try:
            headers = {"Authorization": f"Bearer {await self._token()}"}
            response = await self._client.client().get(f"{self._url}{path}", params=params, headers=headers)
            if response.status_code != 200:
                raise ContactsUnavailable(f"the directory answered {response.status_code}")
            body = response.json()
            if not isinstance(body, dict):
                raise ContactsUnavailable("the directory answered no object")
            return body
        except ContactsUnavailable:
            raise
        except Exception as exc:  # the directory down or not making sense, or the token endpoint: try again later
            raise ContactsUnavailable(type(exc).__name__) from exc

    async def holders(self, role: str) -> list[str]:
        """Asked again after `roster_seconds`: an officer who joins is told from then on."""
        kept = self._rosters.get(role)
        if kept is not None and time.monotonic() - kept[0] < self._roster_seconds:
            return kept[1]
        subjects = (await self._get("/staff", {"role": role})).get("subjects")
        if not isinstance(subjects, list):
            raise ContactsUnavailable("the directory named no subjects")
        holders = [str(s) for s in subjects]
        self._rosters[role] = (time.monotonic(), holders)
        return holders

    async def contacts(self, user_ids: Sequence[str]) -> dict[str, Contact]:
        """One request for them all (the directory takes up to 200 subjects)."""
        wanted = set(user_ids)
        if not wanted:
            return {}
        users = (await self._get("/users", {"subject": sorted(wanted)})).get("users", [])
        if not isinstance(users, list):
            raise ContactsUnavailable("the directory named no users")
        found = {}
        for user in users:
            if isinstance(user, dict) and user.get("subject") in wanted and user.get("email"):
                language = user.get("language")
                found[str(user["subject"])] = Contact(
                    str(user["email"]), language if language in ("lv", "en") else "lv"
                )
        return found
