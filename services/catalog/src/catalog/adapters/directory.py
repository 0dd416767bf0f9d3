"""The identity provider's user directory: who a user name or an e-mail address is, and the names of subjects.

Catalog keeps no names of people (they are personal data and the identity provider's): an institution's users
are stored by their subject, and their names are asked here at request time, with the caller's own bearer
token (the identity provider decides whom it answers: provider and agency staff).

`Directory` is the port; `HttpDirectory` asks the identity provider (the gateway) over HTTP:

    GET {identity_url}/auth/directory/users?username=X   or  ?email=X
        200 {"subject", "username", "display_name", "email"} | 404
    GET {identity_url}/auth/directory/users?subject=A&subject=B
        200 {"users": [{"subject", "username", "display_name"}, ...]}   (the subjects it knows)

Anything else (no connection, a timeout, another status, an answer of another shape) is `Unavailable` (503):
the caller decides whether it can do without (a list without names) or not (an invitation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
from prasmes_runtime.client import SharedClient
from prasmes_runtime.errors import Unavailable
from prasmes_runtime.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")
PATH = "/auth/directory/users"
MAX_SUBJECTS = 200
"""Subjects named per request (the identity provider's bound)."""
UNAVAILABLE = "the identity provider's user directory does not answer; try again later"


@dataclass(frozen=True)
class DirectoryUser:
    """A person as the identity provider knows them. Never stored in catalog: only `subject` is."""

    subject: str
    username: str
    display_name: str
    email: str | None = None


class Directory(Protocol):
    """What catalog needs of the identity provider's directory."""

    async def find(self, username: str | None, email: str | None, token: str) -> DirectoryUser | None:
        """The user with exactly this user name (or, without one, this e-mail address); None when unknown."""
        ...

    async def names(self, subjects: Sequence[str], token: str) -> dict[str, str]:
        """Subject -> display name, for the subjects the directory knows (the others are left out)."""
        ...


class HttpDirectory:
    """The directory of the identity provider at `identity_url` (the gateway), over HTTP."""

    def __init__(
        self, identity_url: str, *, timeout: float = 5.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._url = identity_url.rstrip("/")
        self._http = SharedClient(timeout=timeout, transport=transport)

    async def find(self, username: str | None, email: str | None, token: str) -> DirectoryUser | None:
        query = {"username": username} if username is not None else {"email": email or ""}
        answer = await self._get(list(query.items()), token, not_found_is_none=True)
        return None if answer is None else _read(_user, answer)

    async def names(self, subjects: Sequence[str], token: str) -> dict[str, str]:
        wanted = list(dict.fromkeys(subjects))
        named: dict[str, str] = {}
        for start in range(0, len(wanted), MAX_SUBJECTS):
            chunk = [("subject", s) for s in wanted[start : start + MAX_SUBJECTS]]
            named |= _read(_names, await self._get(chunk, token))
        return named

    async def _get(self, query: Sequence[tuple[str, str]], token: str, *, not_found_is_none: bool = False) -> Any:
        try:
            response = await self._http.client().get(
                self._url + PATH, params=tuple(query), headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            log.warning("directory.unreachable", error=type(exc).__name__)
            raise Unavailable(UNAVAILABLE) from exc
        if response.status_code == 404 and not_found_is_none:
            return None
        if response.status_code != 200:
            log.warning("directory.refused", status=response.status_code)
            raise Unavailable(UNAVAILABLE)
        return _read(httpx.Response.json, response)


def _user(raw: Any) -> DirectoryUser:
    email = raw.get("email")
    return DirectoryUser(
        subject=_text(raw["subject"]),
        username=_text(raw["username"]),
        display_name=_text(raw["display_name"]),
        email=_text(email) if email is not None else None,
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _names(raw: Any) -> dict[str, str]:
    return {user.subject: user.display_name for user in map(_user, raw["users"])}


def _read(parse: Callable[[Any], T], raw: Any) -> T:
    """What the identity provider answered, read by `parse`; an answer of another shape is `Unavailable`."""
    try:
        return parse(raw)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("directory.unexpected_answer", error=type(exc).__name__)
        raise Unavailable(UNAVAILABLE) from exc
