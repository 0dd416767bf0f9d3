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
    user = _signed_in(request)
    if not user.learner:
        raise Refused("this page is for learners")
    return await _with_unread(request, user)


def _signed_in(request: Request) -> User:
    user = user_of(request)
    if user is None:
        raise SignInNeeded(local_path(request.url.path + (f"?{request.url.query}" if request.url.query else "")))
    return user


async def _with_unread(request: Request, user: User) -> User:
    with contextlib.suppress(ApiError, Unreachable, KeyError, TypeError, ValueError):
        request.state.unread = await unread_count(_parts(request), user)  # without it the page still answers
    return user


async def signed_in(request: Request) -> User:
    """A page of any signed-in user's own (their notices): a learner, an institution's user or agency staff."""
    return await _with_unread(request, _signed_in(request))


async def institution(request: Request) -> User:
    """A page of an education institution's user (its administrator or staff). Which institution is theirs, and
    what they may do in it, catalog and calls decide from the token: the page never names it from the request."""
    user = _signed_in(request)
    if not user.provider:
        raise Refused("this page is for education institutions")
    return await _with_unread(request, user)


async def agency(request: Request) -> User:
    """A page of the agency's staff (an officer or an administrator); what only an administrator may do, the API
    refuses to others and the page does not offer."""
    user = _signed_in(request)
    if not user.agency:
        raise Refused("this page is for the agency")
    return await _with_unread(request, user)


async def unread_count(app: Parts, user: User) -> int:
    """How many of the user's notices are unread (notifications' count)."""
    answer = await app.gateway.get(f"{NOTICES_API}/unread-count", user.access_token)
    return int(answer["unread"])


Learner = Annotated[User, Depends(learner)]
InstitutionUser = Annotated[User, Depends(institution)]
AgencyUser = Annotated[User, Depends(agency)]
SignedIn = Annotated[User, Depends(signed_in)]
PUBLIC = [Depends(anyone)]
ACCESS_RULES = (anyone, learner, institution, agency, signed_in)


async def checked_upload(request: Request) -> FormData:
    """The posted form whole (its files too: a multipart form), once its CSRF token matched the session's; 403
    otherwise."""
    form: FormData = await request.form()
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise Refused("the form's security token is missing or wrong: reload the page and send it again")
    return form


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form's text fields, once its CSRF token matched the session's; 403 otherwise."""
    form = await checked_upload(request)
    return {k: v for k, v in form.items() if not isinstance(v, UploadFile) and k != CSRF_FIELD}


Form = Annotated[dict[str, str], Depends(checked_form)]
Upload = Annotated[FormData, Depends(checked_upload)]
"""A multipart form with its files (`form.getlist(name)`, `UploadFile`s), CSRF-checked."""


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
