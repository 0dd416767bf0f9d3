"""Pages rendered on the server: one Jinja2 environment per language, the layout's context, the security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from web import i18n
from web.i18n import Language
from web.session import csrf_token, user_of

TEMPLATES = Path(__file__).with_name("templates")


def security_headers(form_targets: str) -> dict[str, str]:
    """No script, style or frame from anywhere but here; forms post here, or to the identity provider (sign-out)."""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        f"connect-src 'self'; form-action 'self' {form_targets}; frame-ancestors 'none'; base-uri 'self'; "
        "object-src 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


class Pages:
    """Renders a template in the request's language, with what every page's layout needs."""

    def __init__(self, identity_origin: str) -> None:
        self.environments = {language: _environment(language) for language in i18n.LANGUAGES}
        self.headers = security_headers(identity_origin)

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        language = language_of_request(request)
        environment = self.environments[language]
        layout = {
            "request": request,
            "lang": language,
            "other_lang": "en" if language == "lv" else "lv",
            "user": user_of(request),
            "csrf_token": csrf_token(request),
            "path": request.url.path,
            "here": _here(request),
            "unread": getattr(request.state, "unread", None),
        }
        page = environment.get_template(template).render({**layout, **context})
        return HTMLResponse(page, status_code=status_code, headers=self.headers)


def _environment(language: Language) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(i18n.load_translations(language), newstyle=True)  # type: ignore[attr-defined]
    environment.filters.update(i18n.Formats(language).filters())
    return environment


def language_of_request(request: Request) -> Language:
    """The language the visitor chose (a cookie), else the one of their account, else Latvian."""
    chosen = i18n.language_of(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    user = user_of(request)
    return (user and i18n.language_of(user.locale)) or i18n.DEFAULT


def _here(request: Request) -> str:
    """This page's path and query: where the language switch comes back to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


LANGUAGE_COOKIE = "lang"
