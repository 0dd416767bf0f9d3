"""Who may see each page, and what a page does before it asks the API: every route names its rule; the learner's
pages send a visitor to sign in; every form refuses a missing or wrong CSRF token; redirects stay on this site."""

from __future__ import annotations

import re

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from web.pages.common import ACCESS_RULES, local_path

SOME_ID = "7d0c7a3e-8a51-4c1b-b7e0-5e2d2c0a2025"
LEARNER_PAGES = [
    *("/account", "/applications", "/grant", "/studies", "/projects", "/surveys", "/notices"),
    *("/account/profile", "/account/digcomp", f"/apply?programme={SOME_ID}"),
    *(f"/surveys/{SOME_ID}", f"/notices/{SOME_ID}"),
]
FORMS = [
    *("/account", "/apply/check", "/apply/submit", "/signout", "/account/profile", "/account/digcomp"),
    *("/credentials/verify", f"/applications/{SOME_ID}/enrolment", f"/surveys/{SOME_ID}", f"/notices/{SOME_ID}/read"),
]


def test_every_page_names_who_may_see_it(web_app: FastAPI) -> None:
    routes = [
        context
        for context in fastapi.routing.iter_route_contexts(web_app.routes)
        if isinstance(getattr(context, "original_route", context), APIRoute)
        and context.path_format not in ("/healthz", "/readyz", "/metrics")
    ]
    assert len(routes) >= 15
    for route in routes:
        rules = {d.call for d in route.dependant.dependencies} & set(ACCESS_RULES)
        assert len(rules) == 1, f"{route.path_format} names {len(rules)} access rules"


@pytest.mark.parametrize("page", LEARNER_PAGES)
async def test_a_learners_page_sends_a_visitor_to_sign_in_and_back(web: httpx.AsyncClient, page: str) -> None:
    answer = await web.get(page)
    assert answer.status_code == 303
    location = httpx.URL(answer.headers["location"])
    assert location.path == "/signin" and location.params["next"] == page


@pytest.mark.parametrize("form", FORMS)
async def test_every_form_refuses_a_missing_or_wrong_csrf_token(web: httpx.AsyncClient, form: str) -> None:
    page = await web.get("/accessibility")  # the visitor's session, with its CSRF token
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token is None  # a signed-out page has no form with a token (sign-in is a link)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
        answer = await web.post(form, data=data)
        assert answer.status_code in (303, 403), (form, data, answer.status_code)
        if answer.status_code == 303:  # a learner's form: the visitor is sent to sign in before anything is read
            assert httpx.URL(answer.headers["location"]).path == "/signin"
    for public_form in ("/signout", "/credentials/verify"):
        answer = await web.post(public_form, data={"csrf_token": "forged", "credential": "a.b.c"})
        assert answer.status_code == 403
    assert 'lang="lv"' in answer.text and "Jūs nevarat skatīt šo lapu" in answer.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/catalogue?q=datu", "/catalogue?q=datu"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("catalogue", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_a_redirect_target_is_a_path_on_this_site(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


async def test_the_language_switch_keeps_the_page_and_never_leaves_the_site(web: httpx.AsyncClient) -> None:
    answer = await web.get("/language", params={"to": "en", "back": "/catalogue?q=dati"})
    assert answer.status_code == 303 and answer.headers["location"] == "/catalogue?q=dati"
    assert "lang=en" in answer.headers["set-cookie"] and "httponly" in answer.headers["set-cookie"].lower()
    web.cookies.set("lang", "en")
    page = await web.get("/accessibility")
    assert '<html lang="en"' in page.text and "Accessibility statement" in page.text
    away = await web.get("/language", params={"to": "en", "back": "https://evil.example/"})
    assert away.headers["location"] == "/"


async def test_pages_forbid_framing_and_foreign_scripts(web: httpx.AsyncClient) -> None:
    page = await web.get("/accessibility")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_an_unknown_page_and_a_malformed_address_are_pages_not_errors(web: httpx.AsyncClient) -> None:
    missing = await web.get("/no/such/page")
    assert missing.status_code == 404 and "Lapa nav atrasta" in missing.text
    malformed = await web.get("/programmes/not-a-uuid")
    assert malformed.status_code == 400 and "<html" in malformed.text
    down = await web.get("/catalogue")  # the gateway does not answer: the page says so, in the visitor's language
    assert down.status_code == 503 and "Atvainojiet" in down.text


async def test_an_unexpected_failure_is_the_error_page_in_the_visitors_language(
    web_app: FastAPI, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(web_app.state.parts.gateway, "get", broken)
    web.cookies.set("lang", "en")
    answer = await web.get("/catalogue")
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/html")
    assert "Sorry, there is a problem with the service" in answer.text and "a bug" not in answer.text
    assert answer.headers["x-request-id"]


async def test_a_pages_own_scripts_and_styles_stay_under_200_kb(web: httpx.AsyncClient) -> None:
    """Every stylesheet and script the layout loads, as served (the bar of issue #14: under 200 KB together)."""
    page = await web.get("/accessibility")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page.text)
    assert "/static/build/app.css" in assets and "/static/app.js" in assets
    imported = re.findall(r'from "(/static/[^"]+\.js)"', (await web.get("/static/app.js")).text)
    sizes = {asset: len((await web.get(asset)).content) for asset in {*assets, *imported}}
    assert all(size > 0 for size in sizes.values()), sizes
    assert sum(sizes.values()) < 200 * 1024, sizes
