"""The learner's learning history (DigComp before and after each programme) with the credential of completed
studies to download, and the public page where anyone checks a credential."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from web.gateway import ApiError
from web.messages import rule_message
from web.pages.common import PUBLIC, App, Form, Learner, learner

learner_router = APIRouter(dependencies=[Depends(learner)])
public_router = APIRouter(dependencies=PUBLIC)
CREDENTIAL_MEDIA_TYPE = "application/vc+jwt"
MAX_CREDENTIAL = 16_384
"""A credential is a few kilobytes; a longer text is no credential of ours (the API refuses it too)."""


@learner_router.get("/studies", response_class=HTMLResponse)
async def studies(request: Request, app: App, user: Learner) -> HTMLResponse:
    history = await app.gateway.get("/api/accounts/accounts/me/studies", user.access_token)
    return app.pages.render(request, "studies.html", studies=history)


@learner_router.get("/studies/{enrolment_id}/credential")
async def credential(app: App, user: Learner, enrolment_id: uuid.UUID) -> Response:
    """The Open Badges 3.0 credential as accounts signs it (a VC-JWT), as a file to keep."""
    answer = await app.gateway.raw(f"/api/accounts/accounts/me/studies/{enrolment_id}/credential", user.access_token)
    disposition = f'attachment; filename="prasmes-credential-{enrolment_id}.jwt"'
    return Response(answer.content, media_type=CREDENTIAL_MEDIA_TYPE, headers={"Content-Disposition": disposition})


@public_router.get("/credentials/verify", response_class=HTMLResponse)
async def verification_form(request: Request, app: App) -> HTMLResponse:
    return app.pages.render(request, "verify.html", result=None, errors={})


@public_router.post("/credentials/verify", response_class=HTMLResponse)
async def verify(request: Request, app: App, form: Form) -> HTMLResponse:
    """Checks a pasted credential with accounts' verification (signature, type, claims, validity)."""
    given = "".join(form.get("credential", "").split())
    if not given or len(given) > MAX_CREDENTIAL:
        return _refused(request, app, "missing" if not given else "not_a_credential")
    try:
        result = await app.gateway.post("/api/accounts/public/credentials/verify", None, {"credential": given})
    except ApiError as refused:
        if refused.status != 422:
            raise
        return _refused(request, app, "not_a_credential")
    return app.pages.render(request, "verify.html", result=result, errors={})


def _refused(request: Request, app: App, rule: str) -> HTMLResponse:
    errors = {"credential": rule_message(rule)}
    return app.pages.render(request, "verify.html", status_code=422, result=None, errors=errors)
