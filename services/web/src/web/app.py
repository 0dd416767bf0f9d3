"""The web pages' composition root: settings, the gateway client, sign-in, sessions, pages, assets, error pages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prasmes_runtime.http import install_common
from prasmes_runtime.logging import configure_logging
from prasmes_runtime.service import settle_heap, settled
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Scope

from web import session
from web.gateway import ApiError, Gateway, Unreachable
from web.pages import (
    account,
    agency_applications,
    agency_insight,
    apply,
    evaluation,
    institution,
    notices,
    offers,
    profile,
    public,
    studies,
    surveys,
    teaching,
)
from web.pages.common import Parts, Refused, SignInNeeded, sign_in_path
from web.rendering import Pages
from web.settings import WebSettings
from web.signin import identity_client

STATIC = Path(__file__).with_name("static")
BUILT = STATIC / "build" / "app.css"
SESSION_COOKIE = "prasmes_session"


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    if not BUILT.exists():
        raise RuntimeError(f"the pages' assets are not built ({BUILT}): run `make install`")
    client = httpx.AsyncClient(base_url=settings.gateway_url, timeout=settings.upstream_timeout)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settle_heap(app)
        yield
        await client.aclose()

    app = FastAPI(title="Prasmes", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.parts = Parts(Pages(_origin(settings.issuer)), Gateway(client), settings)
    app.state.identity = identity_client(settings)
    install_common(app, _readiness(client), settings, internal_error=_error_page(app))
    _install_error_pages(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_session_secret(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",  # sent on the identity provider's redirect back (a top-level GET), on no cross-site POST
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    learners = (account.learner_router, apply.router, profile.router, studies.learner_router, surveys.router)
    everyone = (public.router, account.signin_router, studies.public_router, notices.router)
    institutions = (institution.router, offers.router, teaching.router)
    agency = (agency_applications.router, evaluation.router, agency_insight.router)
    for router in (*everyone, *learners, *institutions, *agency):
        app.include_router(router)
    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory web.app:app_factory`: settings are read when the server starts."""
    return settled(create_app())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _readiness(client: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    async def readiness() -> dict[str, str]:
        try:
            answer = await client.get("/healthz", timeout=2.0)
        except httpx.HTTPError:
            return {"gateway": "degraded"}  # the pages still answer (with their error page): not a reason to stop
        return {"gateway": "ok" if answer.is_success else "degraded"}

    return readiness


def _error_page(app: FastAPI) -> Callable[[Scope], Response]:
    """An exception no handler answered (logged by the runtime): the service's error page, not the API's JSON."""

    def answer(scope: Scope) -> Response:
        parts: Parts = app.state.parts
        try:
            return parts.pages.render(Request(scope), "error.html", status_code=500, status=500)
        except Exception:  # the page itself failed: the plainest answer that says nothing of why
            return PlainTextResponse("500", status_code=500)

    return answer


def _install_error_pages(app: FastAPI) -> None:
    """Errors as pages in the visitor's language (the runtime's JSON errors are for API clients)."""

    def page(request: Request, status: int, template: str = "error.html") -> Response:
        parts: Parts = request.app.state.parts
        return parts.pages.render(request, template, status_code=status, status=status)

    async def on_sign_in_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return RedirectResponse(sign_in_path(exc.back_to), status_code=303)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.status == 401:  # the token ended or was refused: sign in again, and come back
            session.sign_out(request)
            return RedirectResponse(sign_in_path(request.url.path), status_code=303)
        if exc.status == 404:
            return page(request, 404, "not_found.html")
        return page(request, 403 if exc.status == 403 else 502)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return page(request, 404, "not_found.html")
        return page(request, exc.status_code if exc.status_code >= 400 else 400)

    app.add_exception_handler(SignInNeeded, on_sign_in_needed)
    app.add_exception_handler(Refused, lambda request, exc: page(request, 403))
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(Unreachable, lambda request, exc: page(request, 503))
    app.add_exception_handler(RequestValidationError, lambda request, exc: page(request, 400))
    app.add_exception_handler(HTTPException, on_http)
