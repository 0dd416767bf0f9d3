"""What the browser tests of the web pages share: signing in through the identity provider's page as a person
does, a learner's account through the API, the accessibility check and screenshot of a page. The platform they run
against is the `web_stack` fixture (tests/e2e/conftest.py): one for the run, with the demo data."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, expect
from prasmes_devtools.devstack import Stack
from prasmes_testing.browser import ContextFactory, assert_accessible, screenshot

JANIS_CODE = "010180-10000"
"""Jānis's personal code here: synthetic, valid by the check-digit rule (born 1 January 1980)."""
WRONG_CODE = "010180-10001"  # the same with a wrong check digit


def api_headers(stack: Stack, username: str) -> dict[str, str]:
    token = httpx.post(f"{stack.gateway_url}/auth/dev-login", json={"username": username}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def ensure_account(stack: Stack, username: str, code: str) -> None:
    """The learner's account, opened through the API unless an earlier test opened it through the pages."""
    body = {"personal_code": code}
    opened = httpx.post(f"{stack.gateway_url}/api/accounts/accounts", json=body, headers=api_headers(stack, username))
    assert opened.status_code in (201, 409), opened.text


async def new_page(new_context: ContextFactory, stack: Stack, language: str, **options: Any) -> Page:
    """A page in a fresh browser (its own cookies) that reads the platform in `language`."""
    context: BrowserContext = await new_context(locale="lv-LV" if language == "lv" else "en-GB", **options)
    page = await context.new_page()
    await page.goto(f"{stack.web_url}/language?to={language}&back=/")
    return page


async def sign_in(page: Page, stack: Stack, username: str, then: str = "/account") -> None:
    """Through the identity provider's sign-in page (the code flow with PKCE), as a person would."""
    await page.goto(f"{stack.web_url}/signin?next={then}")
    await expect(page).to_have_url(re.compile(re.escape(stack.gateway_url) + "/oidc/authorize"))
    await page.locator(f'input[name="username"][value="{username}"]').check()
    await page.locator('section[aria-labelledby="dev-heading"] button[type="submit"]').click()
    await expect(page).to_have_url(re.compile(re.escape(stack.web_url + then)))


async def checked(page: Page, name: str) -> None:
    """No serious or critical accessibility violation on the page as it is now; its screenshot for people."""
    await assert_accessible(page)
    await screenshot(page, name)
