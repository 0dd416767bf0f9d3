"""The signed-in user's notices (what notifications made of the platform's events): newest first, paged, the unread ones
marked; each opened (which marks it read) or marked read from the list; and the unread count, for the layout."""

from __future__ import annotations

import math
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.pages.common import NOTICES_API as API
from web.pages.common import App, Form, PageNumber, SignedIn, signed_in, unread_count
from web.session import User

router = APIRouter(dependencies=[Depends(signed_in)])
PAGE_SIZE = 10
LINKS = {
    "learner": {"survey": "/surveys/{id}", "application": "/applications"},
    "provider": {
        "offer": "/institution/offers/{id}",
        "institution": "/institution",
        "programme": "/institution/programmes/{id}",
    },
    "agency": {"offer": "/agency/offers/{id}", "institution": "/agency/registrations/{id}"},
}
"""Where the page of what a notice is about is, by the reader's audience and the notice's reference type; other
notices link nowhere."""


@router.get("/notices", response_class=HTMLResponse)
async def notices(request: Request, app: App, user: SignedIn, page: PageNumber = 1) -> HTMLResponse:
    params = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    found = await app.gateway.get(API, user.access_token, params=params)
    return app.pages.render(
        request,
        "notices.html",
        found=found,
        unread=await unread_count(app, user),
        page=page,
        pages=max(1, math.ceil(found["total"] / PAGE_SIZE)),
        page_link=lambda n: f"/notices?page={n}",
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
async def notice(request: Request, app: App, user: SignedIn, notice_id: uuid.UUID) -> HTMLResponse:
    """One notice; opening it marks it read (the first reading's time stays)."""
    opened = await app.gateway.post(f"{API}/{notice_id}/read", user.access_token, None)
    return app.pages.render(request, "notices_one.html", notice=opened, link=_link(opened, user))


@router.post("/notices/{notice_id}/read")
async def mark_read(request: Request, app: App, user: SignedIn, notice_id: uuid.UUID, form: Form) -> Response:
    await app.gateway.post(f"{API}/{notice_id}/read", user.access_token, None)
    page = form.get("page", "1")
    back = f"/notices?page={page}" if page.isdigit() and len(page) < 6 and int(page) > 1 else "/notices"
    return RedirectResponse(f"{back}#notice-{notice_id}", status_code=303)


def _link(notice: dict[str, Any], user: User) -> str:
    reference = notice.get("reference") or {}
    audiences = [
        a for a, member in (("learner", user.learner), ("provider", user.provider), ("agency", user.agency)) if member
    ]
    template = next((LINKS[a][t] for a in audiences if (t := str(reference.get("type"))) in LINKS[a]), None)
    try:
        return template.format(id=uuid.UUID(str(reference.get("id")))) if template else ""
    except ValueError:  # not an id: the notice is shown without its link
        return ""
