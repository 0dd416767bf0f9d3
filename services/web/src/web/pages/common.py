"""What every page handler uses: the app's parts, who may see a page, the CSRF check of a form, safe redirects."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.datastructures import FormData
from starlette.datastructures import UploadFile

from web.gateway import ApiError, Gateway, Unreachable
from web.rendering import Pages
from web.session import CSRF_FIELD, User, csrf_valid, user_of
from web.settings import WebSettings


class SignInNeeded(Exception):
    """The page is for a signed-in user: the visitor is sent to sign in, and back here afterwards."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class Refused(Exception):
    """A page the user may not see (a role they lack), or a form without its CSRF token: 403."""


@dataclass(frozen=True)
class Parts:
    pages: Pages
    gateway: Gateway
    settings: WebSettings


def _parts(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


App = Annotated[Parts, Depends(_parts)]
NOTICES_API = "/api/notifications/notifications"


# Who may see a page: every route names one of these (tests/test_access.py checks that none is missing).
async def anyone() -> None:
    """A public page: no sign-in needed."""


async def learner(request: Request) -> User:
    """A page of the signed-in learner's own: anyone else is sent to sign in (or refused, signed in otherwise).
    The layout of these pages shows the learner's unread notices (`request.state.unread`)."""
    user = user_of(request)
    if user is None:
        raise SignInNeeded(local_path(request.url.path + (f"?{request.url.query}" if request.url.query else "")))
    if not user.learner:
        raise Refused("this page is for learners")
    with contextlib.suppress(ApiError, Unreachable, KeyError, TypeError, ValueError):
        request.state.unread = await unread_count(_parts(request), user)  # without it the page still answers
    return user


async def unread_count(app: Parts, user: User) -> int:
    """How many of the user's notices are unread (notifications' count)."""
    answer = await app.gateway.get(f"{NOTICES_API}/unread-count", user.access_token)
    return int(answer["unread"])


Learner = Annotated[User, Depends(learner)]
PUBLIC = [Depends(anyone)]
ACCESS_RULES = (anyone, learner)


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form's text fields, once its CSRF token matched the session's; 403 otherwise."""
    form: FormData = await request.form()
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise Refused("the form's security token is missing or wrong: reload the page and send it again")
    return {k: v for k, v in form.items() if not isinstance(v, UploadFile) and k != CSRF_FIELD}


Form = Annotated[dict[str, str], Depends(checked_form)]


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site: a redirect target from a query is never another site's (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def sign_in_path(back_to: str) -> str:
    return f"/signin?next={quote(back_to, safe='')}"


def field_errors(violations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The API's violations by the form field they are about (the last part of the API's field name)."""
    errors: dict[str, str] = {}
    for violation in violations:
        field = str(violation.get("field", "")).rsplit(".", 1)[-1] or "form"
        errors.setdefault(field, str(violation.get("rule", "")))
    return errors
