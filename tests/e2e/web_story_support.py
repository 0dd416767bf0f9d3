"""What the institution's story in the browser (test_web_institution_story) does through the API, and its browser
helpers: the set-up that is not the story's point (the learner's application and enrolment, the seed's survey
answers), waiting for an event to reach the next service, and a page checked and photographed in both languages."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TypeVar
from urllib.parse import quote

import httpx
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import Stack
from prasmes_runtime.clock import RIGA

from tests.e2e.story_support import ok
from tests.e2e.web_support import checked

T = TypeVar("T")
ACCOUNTS, SURVEYS = "/api/accounts", "/api/surveys"
FIRST_COME = ("VARAM", "4242", "IMK")
"""Funding projects where the officer decides an application at once (no window to allocate); the learner applies
to the first she may."""


def today() -> date:
    """Today in Riga: accounts and catalog run on real time."""
    return datetime.now(UTC).astimezone(RIGA).date()


async def until(found: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    """`found()`'s first value other than None, asked every half second."""
    deadline = time.monotonic() + timeout
    while (value := await found()) is None:
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        await asyncio.sleep(0.5)
    return value


async def in_both_languages(page: Page, stack: Stack, name: str) -> None:
    """The page as it is now in Latvian, then in English (by the language switch), each checked by axe-core and
    photographed as `story-<name>-<lang>`; the page is left in English, the language the story's steps read."""
    back = quote(page.url.removeprefix(stack.web_url), safe="")
    for language in ("lv", "en"):
        await page.goto(f"{stack.web_url}/language?to={language}&back={back}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await checked(page, f"story-{name}-{language}")


async def go(page: Page, stack: Stack, path: str) -> None:
    """To a page of the site; it answers without an error."""
    answer = await page.goto(f"{stack.web_url}{path}")
    assert answer is not None and answer.status == 200, f"{path}: {answer.status if answer else None}"


async def at(page: Page, stack: Stack, path: str) -> None:
    """The page is now at `path` (a redirect after a form's POST)."""
    await expect(page).to_have_url(re.compile(re.escape(stack.web_url + path) + r"(\?.*)?$"))


async def applied(client: httpx.AsyncClient, learner: dict[str, str]) -> str:
    """The learner's application to the first first-come project she may apply to now (waiting for a decision)."""
    eligibility = ok(await client.get(f"{ACCOUNTS}/accounts/me/eligibility", headers=learner))
    eligible = {item["project_code"] for item in eligibility if item["eligible"]}
    project = next((code for code in FIRST_COME if code in eligible), None)
    assert project is not None, f"the learner may apply to none of {FIRST_COME}: {eligibility}"
    needs = ok(await client.get(f"{ACCOUNTS}/funding-projects/{project}")).get("learning_needs") or []
    body = {"project_code": project, "learning_need": "Datu analīze darbam"}
    body |= {"learning_need_code": needs[0]["code"]} if needs else {}
    application = ok(await client.post(f"{ACCOUNTS}/applications", json=body, headers=learner), 201)
    return str(application["id"])


async def enrolled(client: httpx.AsyncClient, learner: dict[str, str], application_id: str, group_id: str) -> str:
    """The learner's enrolment in the group, once accounts knows the group (catalog's GroupScheduled)."""

    async def enrol() -> str | None:
        path = f"{ACCOUNTS}/applications/{application_id}/enrolment"
        answer = await client.post(path, json={"group_id": group_id}, headers=learner)
        return str(answer.json()["id"]) if answer.status_code == 201 else None

    return await until(enrol, "accounts to learn the new group")


async def seed_answers(
    client: httpx.AsyncClient, admin: dict[str, str], institution_id: str, programme_id: str, group_id: str
) -> None:
    """The seed's survey answers for the programme (surveys' development-only replay): one learner's answer alone
    is fewer than an institution is shown results of."""
    body = {"programme_id": programme_id, "institution_id": institution_id, "group_id": group_id}
    replayed = ok(await client.post(f"{SURVEYS}/dev/demonstration", json=body, headers=admin, timeout=180))
    assert replayed["answered"] > 0, replayed


async def image_loaded(page: Page, selector: str) -> None:
    image = page.locator(selector)
    await expect(image).to_be_visible()
    assert await image.evaluate("i => i.complete && i.naturalWidth > 0"), f"{selector} did not load"
