"""Sign-in and sign-out, and the learner's own pages: the learning account, applications, the grant."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Annotated

from authlib.integrations.base_client.errors import OAuthError
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from web import session
from web.gateway import ApiError
from web.messages import rule_message
from web.pages.common import PUBLIC, App, Form, Learner, field_errors, learner, local_path
from web.rendering import language_of_request

signin_router = APIRouter(dependencies=PUBLIC)
learner_router = APIRouter(dependencies=[Depends(learner)])
_BACK_TO = "back_to"
NOTICES = ("submitted", "already", "enrolled", "enrolment_failed")
"""What the applications page confirms after a redirect (`?submitted=1`): the outcome of the form just sent."""


@signin_router.get("/signin")
async def sign_in(request: Request, app: App, next: Annotated[str, Query(max_length=2000)] = "/account") -> Response:
    request.session[_BACK_TO] = local_path(next, "/account")
    client = request.app.state.identity
    redirect: Response = await client.authorize_redirect(
        request, app.settings.redirect_uri, ui_locales=language_of_request(request)
    )
    return redirect


@signin_router.get("/signin/callback")
async def signed_in(request: Request, app: App) -> Response:
    back_to = local_path(request.session.get(_BACK_TO), "/account")
    client = request.app.state.identity
    try:
        token = await client.authorize_access_token(request)
        claims = {**token.get("userinfo", {}), **(await client.userinfo(token=token))}
    except OAuthError as error:
        return app.pages.render(request, "signin_failed.html", status_code=400, reason=error.error)
    session.sign_in(request, {**token, "userinfo": claims})
    return RedirectResponse(back_to, status_code=303)


@signin_router.post("/signout")
async def sign_out(request: Request, app: App, _: Form) -> Response:
    """Ends the session here and at the identity provider, which then sends the browser back to /signed-out."""
    id_token = session.sign_out(request)
    client = request.app.state.identity
    redirect: Response = await client.logout_redirect(
        request, post_logout_redirect_uri=app.settings.post_logout_redirect_uri, id_token_hint=id_token or None
    )
    redirect.status_code = 303
    return redirect


@signin_router.get("/signed-out", response_class=HTMLResponse)
async def signed_out(request: Request, app: App) -> HTMLResponse:
    return app.pages.render(request, "signed_out.html")


@learner_router.get("/account", response_class=HTMLResponse)
async def account(request: Request, app: App, user: Learner) -> HTMLResponse:
    try:
        mine = await app.gateway.get("/api/accounts/accounts/me", user.access_token)
    except ApiError as error:
        if error.status != 404:
            raise
        return app.pages.render(request, "account_open.html", values={}, errors={}, ask_birth_date=False)
    assessments = await app.gateway.get("/api/accounts/accounts/me/digcomp", user.access_token)
    saved = request.query_params.get("saved", "")
    return app.pages.render(request, "account.html", account=mine, assessments=assessments, saved=saved)


@learner_router.post("/account", response_class=HTMLResponse)
async def open_account(request: Request, app: App, user: Learner, form: Form) -> Response:
    code = form.get("personal_code", "").strip()
    body: dict[str, str] = {"personal_code": code}
    errors: dict[str, str] = {}
    if not code:
        errors["personal_code"] = "missing"
    birth_date = form.get("birth_date", "").strip()
    if birth_date:
        try:
            body["birth_date"] = date.fromisoformat(birth_date).isoformat()
        except ValueError:
            errors["birth_date"] = "date"
    if not errors:
        try:
            await app.gateway.post("/api/accounts/accounts", user.access_token, body)
            return RedirectResponse("/account", status_code=303)
        except ApiError as error:
            if error.status == 409:
                return RedirectResponse("/account", status_code=303)
            if error.status != 422:
                raise
            errors = field_errors(error.violations)
    ask_birth_date = code.startswith("32") or "birth_date" in errors
    values = {"birth_date": birth_date}  # the personal code is never sent back into the page
    return app.pages.render(
        request,
        "account_open.html",
        status_code=422,
        values=values,
        errors={field: rule_message(rule) for field, rule in errors.items()},
        ask_birth_date=ask_birth_date,
    )


@learner_router.get("/applications", response_class=HTMLResponse)
async def applications(request: Request, app: App, user: Learner) -> HTMLResponse:
    """Each application with its state, the decision and its reason; an approved one with the day to enrol by
    (after it the grant lapses) and the programme's groups to enrol in."""
    mine = await app.gateway.get("/api/accounts/applications", user.access_token)
    projects = {p["code"]: p for p in await app.gateway.public("/api/accounts/funding-projects")}
    programmes = {}
    for programme_id in {a["programme_id"] for a in mine if a["state"] == "approved" and a["programme_id"]}:
        with contextlib.suppress(ApiError):
            programmes[programme_id] = await app.gateway.get(f"/api/catalog/public/programmes/{programme_id}")
    notice = next(
        (k for k in ("submitted", "already", "enrolled", "enrolment_failed") if k in request.query_params), ""
    )
    return app.pages.render(
        request, "applications.html", applications=mine, projects=projects, programmes=programmes, notice=notice
    )


@learner_router.get("/grant", response_class=HTMLResponse)
async def grant(request: Request, app: App, user: Learner) -> HTMLResponse:
    ledger = await app.gateway.get("/api/accounts/accounts/me/grant", user.access_token)
    return app.pages.render(request, "grant.html", grant=ledger)
