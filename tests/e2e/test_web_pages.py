"""The web pages in a real browser (Debian's Chromium, driven by Playwright) against the whole platform started as
`make run` starts it, with its demo data: the public search with and without diacritics; sign-in through the
identity provider's code flow; a learner's path from opening an account (an error beside its field first) to an
approved application, enrolment and the grant's ledger, in English and in Latvian; an application by keyboard
alone; two learners who never see each other's data; sign-out at the identity provider too; axe-core on every
page in both languages, at full width and at 360 px. Screenshots go to var/screenshots/ for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect
from prasmes_devtools.devstack import DEMO_PERSONAL_CODE, Stack, free_base_port, seed_demo
from prasmes_testing.browser import NARROW_VIEWPORT, ContextFactory, assert_accessible, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
JANIS_CODE = "010180-10000"
"""Jānis's personal code here: synthetic, valid by the check-digit rule (born 1 January 1980)."""
WRONG_CODE = "010180-10001"  # the same with a wrong check digit


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(var_dir=tmp_path_factory.mktemp("web"), base_port=free_base_port())
    stack.start(timeout=120)
    try:
        seed_demo(stack)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def demo_programme(stack: Stack) -> dict[str, Any]:
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        (programme,) = client.get("/api/catalog/public/programmes").json()["items"]
    return dict(programme)


def _api_headers(stack: Stack, username: str) -> dict[str, str]:
    token = httpx.post(f"{stack.gateway_url}/auth/dev-login", json={"username": username}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _ensure_account(stack: Stack, username: str, code: str) -> None:
    """The learner's account, opened through the API unless an earlier test opened it through the pages."""
    headers = _api_headers(stack, username)
    body = {"personal_code": code}
    opened = httpx.post(f"{stack.gateway_url}/api/accounts/accounts", json=body, headers=headers)
    assert opened.status_code in (201, 409), opened.text


async def _context(new_context: ContextFactory, language: str, **options: Any) -> BrowserContext:
    context = await new_context(locale="lv-LV" if language == "lv" else "en-GB", **options)
    return context


async def _choose_language(page: Page, stack: Stack, language: str) -> None:
    await page.goto(f"{stack.web_url}/language?to={language}&back=/")


async def _sign_in(page: Page, stack: Stack, username: str, then: str = "/account") -> None:
    """Through the identity provider's sign-in page (the code flow with PKCE), as a person would."""
    await page.goto(f"{stack.web_url}/signin?next={then}")
    await expect(page).to_have_url(re.compile(re.escape(stack.gateway_url) + "/oidc/authorize"))
    await page.locator(f'input[name="username"][value="{username}"]').check()
    await page.locator('section[aria-labelledby="dev-heading"] button[type="submit"]').click()
    await expect(page).to_have_url(re.compile(re.escape(stack.web_url + then)))


async def _checked(page: Page, name: str) -> None:
    await assert_accessible(page)
    await screenshot(page, name)


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_the_public_pages_search_with_and_without_diacritics(
    stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory, language: str
) -> None:
    page = await (await _context(new_context, language)).new_page()
    await _choose_language(page, stack, language)
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await _checked(page, f"home-{language}")
    title = demo_programme["title"].get(language) or demo_programme["title"]["lv"]
    for words in ("datu analize", "Datu analīze", "DATU ANALĪZE"):
        await page.goto(f"{stack.web_url}/catalogue")
        await page.get_by_role("searchbox").fill(words)
        await page.get_by_role("button", name="Meklēt" if language == "lv" else "Search").click()
        await expect(page.get_by_role("link", name=title)).to_be_visible()
    await _checked(page, f"catalogue-{language}")
    await page.get_by_role("searchbox").fill("kvantu fizika")
    await page.get_by_role("searchbox").press("Enter")
    await expect(page.locator("#result-count")).to_contain_text("0")
    await page.goto(f"{stack.web_url}/programmes/{demo_programme['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator("main")).to_contain_text("320,00 €" if language == "lv" else "€")
    await _checked(page, f"programme-{language}")
    for path in ("/statistics", "/accessibility", "/no-such-page"):
        await page.goto(stack.web_url + path)
        await _checked(page, f"{path.strip('/')}-{language}")


async def test_a_learner_opens_an_account_applies_enrols_and_sees_the_grant_in_english(
    stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory
) -> None:
    page = await (await _context(new_context, "en")).new_page()
    await _choose_language(page, stack, "en")
    await _sign_in(page, stack, "janis")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Open your learning account")
    await _checked(page, "account-open-en")

    await page.get_by_label("Personal code").fill(WRONG_CODE)
    await page.get_by_role("button", name="Open my account").click()
    error = page.locator("#personal-code-error")
    await expect(error).to_contain_text("check digit does not match")
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Personal code")
    await expect(page.get_by_label("Personal code")).to_have_attribute(
        "aria-describedby", re.compile("personal-code-error")
    )
    assert WRONG_CODE not in await page.content(), "a personal code is never sent back into a page"
    await _checked(page, "account-open-error-en")

    await page.get_by_label("Personal code").fill(JANIS_CODE)
    await page.get_by_role("button", name="Open my account").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("My learning account")
    assert JANIS_CODE not in await page.content() and "01****-*****" in await page.content()
    await _checked(page, "account-en")

    await _apply(page, stack, demo_programme, "IMK", "I want to analyse my shop's sales data")
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Your application has been sent.")
    await _checked(page, "applications-submitted-en")
    _approve_the_submitted(stack)
    await page.goto(f"{stack.web_url}/applications")
    await expect(page.locator(".govuk-summary-card").first).to_contain_text("Approved: enrol in a group")
    await expect(page.locator(".govuk-summary-card").first).to_contain_text("Enrol by")
    await page.get_by_role("button", name="Enrol").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("You are enrolled in the group.")
    await page.goto(f"{stack.web_url}/grant")
    await expect(page.locator("main")).to_contain_text("€500.00")
    await expect(page.locator("table")).to_contain_text("Reserved")
    await _checked(page, "grant-en")


async def _apply(page: Page, stack: Stack, programme: dict[str, Any], project: str, words: str) -> None:
    await page.goto(f"{stack.web_url}/programmes/{programme['id']}")
    await page.get_by_role("button", name=re.compile("Apply for a grant|Pieteikties atbalstam")).click()
    await page.locator(f'input[name="project"][value="{project}"]').check()
    await _checked(page, f"apply-project-{project}")
    await page.locator("form button[type=submit]").last.click()
    await page.locator("textarea[name=learning_need]").fill(words)
    await _checked(page, f"apply-details-{project}")
    await page.locator("main form button[type=submit]").click()
    await expect(page.locator("main dl")).to_contain_text(words)
    await _checked(page, f"apply-check-{project}")
    await page.locator("main form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/applications\?submitted=1$"))


def _approve_the_submitted(stack: Stack) -> None:
    ilze = _api_headers(stack, "ilze")
    listed = httpx.get(
        f"{stack.gateway_url}/api/accounts/agency/applications", params={"state": "submitted"}, headers=ilze
    ).json()
    for application in listed["items"]:
        approved = httpx.post(
            f"{stack.gateway_url}/api/accounts/agency/applications/{application['id']}/approval", headers=ilze
        )
        assert approved.status_code == 200, approved.text


async def test_a_learner_enrols_with_the_seeded_grant_and_reads_the_ledger_in_latvian(
    stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory
) -> None:
    page = await (await _context(new_context, "lv")).new_page()
    await _choose_language(page, stack, "lv")
    await _sign_in(page, stack, "anna", then="/applications")
    card = page.locator(".govuk-summary-card").first
    await expect(card).to_contain_text("Apstiprināts: piesakieties grupā")
    await expect(card).to_contain_text("Grupā jāpiesakās līdz")
    await _checked(page, "applications-lv")
    await page.get_by_role("link", name="Programmas ar brīvām vietām").click()  # the seed's application names none
    await page.get_by_role("link", name=demo_programme["title"]["lv"]).click()
    await _checked(page, "programme-enrol-lv")
    await page.get_by_role("button", name="Pieteikties grupā").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Jūs esat pieteikts grupā.")
    await page.goto(f"{stack.web_url}/grant")
    await expect(page.locator("main")).to_contain_text("500,00 €")
    await _checked(page, "grant-lv")
    await page.goto(f"{stack.web_url}/account")
    assert DEMO_PERSONAL_CODE not in await page.content()
    await _checked(page, "account-lv")


async def test_two_learners_never_see_each_others_data(stack: Stack, new_context: ContextFactory) -> None:
    _ensure_account(stack, "janis", JANIS_CODE)
    anna = await (await _context(new_context, "lv")).new_page()
    janis = await (await _context(new_context, "en")).new_page()
    await _sign_in(anna, stack, "anna", then="/applications")
    await _sign_in(janis, stack, "janis", then="/applications")
    annas_words, janis_words = "datu analīze", "sales data"
    assert annas_words in await anna.content() or "IMK" in await anna.content()
    assert annas_words not in await janis.content()
    await anna.goto(f"{stack.web_url}/account")
    await janis.goto(f"{stack.web_url}/account")
    assert "Anna" in await anna.content() and "Anna" not in await janis.content()
    assert janis_words not in await anna.content()
    for page in (anna, janis):
        assert DEMO_PERSONAL_CODE not in page.url and JANIS_CODE not in page.url


async def test_an_application_by_keyboard_alone(
    stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory
) -> None:
    _ensure_account(stack, "janis", JANIS_CODE)
    page = await (await _context(new_context, "en")).new_page()
    await _choose_language(page, stack, "en")
    await _sign_in(page, stack, "janis", then=f"/programmes/{demo_programme['id']}")
    apply = page.get_by_role("button", name="Apply for a grant for this programme")
    await _tab_to(page, apply)
    await page.keyboard.press("Enter")
    varam = page.locator('input[name="project"][value="VARAM"]')
    await _tab_to(page, page.locator('input[name="project"]:checked'))
    while not await varam.is_checked():
        await page.keyboard.press("ArrowDown")
    await _tab_to(page, page.get_by_role("button", name="Continue"))
    await page.keyboard.press("Enter")
    await _tab_to(page, page.locator("textarea[name=learning_need]"))
    await page.keyboard.type("Spreadsheets for my work")
    await _tab_to(page, page.get_by_role("button", name="Continue"))
    await page.keyboard.press("Enter")
    await _tab_to(page, page.get_by_role("button", name="Send my application"))
    await page.keyboard.press("Enter")
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Your application has been sent.")


async def _tab_to(page: Page, target: Any, limit: int = 60) -> None:
    """Presses Tab until the target has the focus (fails after `limit` presses: it cannot be reached by keyboard)."""
    for _ in range(limit):
        if await target.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{target} was not reached by Tab in {limit} presses")


async def test_signing_out_ends_the_session_at_the_identity_provider_too(
    stack: Stack, new_context: ContextFactory
) -> None:
    page = await (await _context(new_context, "en")).new_page()
    await _choose_language(page, stack, "en")
    await _sign_in(page, stack, "anna")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    await _checked(page, "signed-out-en")
    await page.goto(f"{stack.web_url}/account")  # signed out: the identity provider asks who it is again
    await expect(page).to_have_url(re.compile(re.escape(stack.gateway_url) + "/oidc/authorize"))
    await expect(page.locator('input[name="username"]').first).to_be_visible()


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_pages_fit_a_360_pixel_screen(stack: Stack, new_context: ContextFactory, language: str) -> None:
    page = await (await _context(new_context, language, viewport=NARROW_VIEWPORT)).new_page()
    await _choose_language(page, stack, language)
    for path in ("/", "/catalogue", "/statistics", "/accessibility"):
        await page.goto(stack.web_url + path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW_VIEWPORT["width"], f"{path} is {width} px wide at 360"
        await _checked(page, f"narrow{path.replace('/', '-') or '-home'}-{language}")
