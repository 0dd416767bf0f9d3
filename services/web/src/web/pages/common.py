"""What every page handler uses: the app's parts, who may see a page, the CSRF check of a form, safe redirects."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from fastapi import Depends, Query, Request
from fastapi.datastructures import FormData
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from web.gateway import ApiError, Gateway, Kept, Unreachable
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
    kept: Kept = field(default_factory=Kept)
    """What a signed-in user's pages keep a few seconds (the layout's unread count)."""


def _parts(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


App = Annotated[Parts, Depends(_parts)]
NOTICES_API = "/api/notifications/notifications"
UNREAD_SECONDS = 10.0
PageNumber = Annotated[int, Query(ge=1, le=10_000)]
"""A list page's number in a query (`?page=`), from 1."""


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
    """The layout's unread count, as notifications answered it in the last `UNREAD_SECONDS` (asking on every page was
    a tenth of a staff page's cost); the notices pages ask afresh."""
    app = _parts(request)
    with contextlib.suppress(ApiError, Unreachable, KeyError, TypeError, ValueError):  # the page answers without it
        request.state.unread = await app.kept.read(_unread_key(user), UNREAD_SECONDS, lambda: unread_count(app, user))
    return user


def _unread_key(user: User) -> str:
    return f"unread:{user.subject}"


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
    """How many of the user's notices are unread (notifications' count), asked now; the layout's count too."""
    answer = await app.gateway.get(f"{NOTICES_API}/unread-count", user.access_token)
    unread = int(answer["unread"])
    app.kept.put(_unread_key(user), UNREAD_SECONDS, unread)
    return unread


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


def refusal_errors(
    error: ApiError,
    violations: Callable[[Sequence[Mapping[str, Any]]], dict[str, str]],
    conflict: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What a form the API refused shows: on a 409 the page's `conflict` (field → message), on a 422 the
    violations beside their fields (`violations` names them as the page does); any other answer is raised again."""
    if error.status == 409 and conflict is not None:
        return dict(conflict)
    if error.status == 422:
        return violations(error.violations)
    raise error


def field_errors(violations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The API's violations by the form field they are about (the last part of the API's field name)."""
    errors: dict[str, str] = {}
    for violation in violations:
        field = str(violation.get("field", "")).rsplit(".", 1)[-1] or "form"
        errors.setdefault(field, str(violation.get("rule", "")))
    return errors


# --------------------------------------------------------------------------- lists and files served from the API


def page_count(total: int, size: int) -> int:
    """How many pages a list of `total` items has, `size` a page (one at least: an empty list is one page)."""
    return max(1, math.ceil(total / size))


def page_link(request: Request) -> Callable[[int], str]:
    """The link to page n of this list: the request's own query (its filters and sort) with another page."""

    def link(number: int) -> str:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [("page", str(number))]
        return f"{request.url.path}?{urlencode(query)}"

    return link


def chosen_page_link(path: str, chosen: Mapping[str, str]) -> Callable[[int], str]:
    """The link to page n of the list at `path` with the filters and sort the page chose (the empty ones left out)."""
    kept = {k: v for k, v in chosen.items() if v}
    return lambda number: str(httpx.URL(path, params={**kept, "page": number}))


def file_from_api(answer: httpx.Response, fallback: str = "", disposition: str = "") -> Response:
    """The API's file passed through as it came: its content type, its file name (`disposition` when the page names
    it, else the API's, else an attachment named `fallback`) and its checksum; never cached."""
    headers = {"Cache-Control": "no-store"}
    named = disposition or answer.headers.get("content-disposition", "")
    if named or fallback:
        headers["Content-Disposition"] = named or f'attachment; filename="{fallback}"'
    if "x-content-sha256" in answer.headers:
        headers["X-Content-SHA256"] = answer.headers["x-content-sha256"]
    media_type = answer.headers.get("content-type", "application/octet-stream")
    return Response(answer.content, media_type=media_type, headers=headers)


def chart_from_api(answer: httpx.Response) -> Response:
    """An API's SVG chart served from this site (the page loads nothing from another origin), cached a minute."""
    return Response(answer.content, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})
