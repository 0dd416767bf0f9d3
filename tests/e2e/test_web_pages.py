"""The web pages in a real browser (Debian's Chromium, driven by Playwright) against the whole platform started as
`make run` starts it, with its demo data: the public search with and without diacritics; sign-in through the
identity provider's code flow; a learner's path from opening an account (an error beside its field first) to an
approved application, enrolment and the grant's ledger, in English and in Latvian; an application by keyboard
alone; two learners who never see each other's data; sign-out at the identity provider too; axe-core on every
page in both languages, at full width and at 360 px. Screenshots go to var/screenshots/ for people to look at."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import DEMO_PERSONAL_CODE, Stack
from prasmes_testing.browser import NARROW_VIEWPORT, ContextFactory

from tests.e2e.web_support import (
    JANIS_CODE,
    WRONG_CODE,
    api_headers,
    checked,
    ensure_account,
    new_page,
    sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_the_public_pages_search_with_and_without_diacritics(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory, language: str
) -> None:
    page = await new_page(new_context, web_stack, language)
    await expect(page.locator("html")).to_have_attribute("lang", language)
    await checked(page, f"home-{language}")
    title = demo_programme["title"].get(language) or demo_programme["title"]["lv"]
    for words in ("datu analize", "Datu analīze", "DATU ANALĪZE"):
        await page.goto(f"{web_stack.web_url}/catalogue")
        await page.get_by_role("searchbox").fill(words)
        await page.get_by_role("button", name="Meklēt" if language == "lv" else "Search").click()
        await expect(page.get_by_role("link", name=title)).to_be_visible()
    await checked(page, f"catalogue-{language}")
    await page.get_by_role("searchbox").fill("kvantu fizika")
    await page.get_by_role("searchbox").press("Enter")
    await expect(page.locator("#result-count")).to_contain_text("0")
    await page.goto(f"{web_stack.web_url}/programmes/{demo_programme['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator("main")).to_contain_text("320,00 €" if language == "lv" else "€")
    await checked(page, f"programme-{language}")
    for path in ("/statistics", "/accessibility", "/no-such-page"):
        await page.goto(web_stack.web_url + path)
        await checked(page, f"{path.strip('/')}-{language}")


async def test_a_learner_opens_an_account_applies_enrols_and_sees_the_grant_in_english(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory
) -> None:
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "janis")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Open your learning account")
    await checked(page, "account-open-en")

    await page.get_by_label("Personal code").fill(WRONG_CODE)
    await page.get_by_role("button", name="Open my account").click()
    error = page.locator("#personal-code-error")
    await expect(error).to_contain_text("check digit does not match")
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Personal code")
    await expect(page.get_by_label("Personal code")).to_have_attribute(
        "aria-describedby", re.compile("personal-code-error")
    )
    assert WRONG_CODE not in await page.content(), "a personal code is never sent back into a page"
    await checked(page, "account-open-error-en")

    await page.get_by_label("Personal code").fill(JANIS_CODE)
    await page.get_by_role("button", name="Open my account").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("My learning account")
    assert JANIS_CODE not in await page.content() and "01****-*****" in await page.content()
    await checked(page, "account-en")

    await _apply(page, web_stack, demo_programme, "IMK", "I want to analyse my shop's sales data")
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Your application has been sent.")
    await checked(page, "applications-submitted-en")
    await page.goto(f"{web_stack.web_url}/projects")
    imk = page.locator(".govuk-summary-card", has_text="IMK:")
    await expect(imk).to_contain_text("You cannot apply now")
    await expect(imk).to_contain_text("You already have an open application to this funding project")
    await expect(page.locator(".govuk-summary-card", has_text="VARAM:")).to_contain_text("You can apply")
    await checked(page, "projects-en")
    _approve_the_submitted(web_stack)
    await page.goto(f"{web_stack.web_url}/applications")
    await expect(page.locator(".govuk-summary-card").first).to_contain_text("Approved: enrol in a group")
    await expect(page.locator(".govuk-summary-card").first).to_contain_text("Enrol by")
    chosen = _open_groups(demo_programme)[-1]["id"]
    assert _chosen_group(web_stack, "janis", "IMK") == chosen
    await expect(page.locator('input[name="group_id"]:checked')).to_have_value(chosen)  # offered first at enrolment
    await page.get_by_role("button", name="Enrol").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("You are enrolled in the group.")
    await page.goto(f"{web_stack.web_url}/grant")
    await expect(page.locator("main")).to_contain_text("€500.00")
    await expect(page.locator("table")).to_contain_text("Reserved")
    await checked(page, "grant-en")


async def _apply(page: Page, web_stack: Stack, programme: dict[str, Any], project: str, words: str) -> None:
    await page.goto(f"{web_stack.web_url}/programmes/{programme['id']}")
    await page.get_by_role("button", name=re.compile("Apply for a grant|Pieteikties atbalstam")).click()
    await page.locator(f'input[name="project"][value="{project}"]').check()
    await checked(page, f"apply-project-{project}")
    await page.locator("form button[type=submit]").last.click()
    await page.locator(f'input[name="group_id"][value="{_open_groups(programme)[-1]["id"]}"]').check()
    await page.locator("textarea[name=learning_need]").fill(words)
    await checked(page, f"apply-details-{project}")
    await page.locator("main form button[type=submit]").click()
    await expect(page.locator("main dl")).to_contain_text(words)
    group = _open_groups(programme)[-1]
    await expect(page.locator("main dl")).to_contain_text(group["city"])  # the group chosen is in the summary
    await checked(page, f"apply-check-{project}")
    await page.locator("main form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/applications\?submitted=1$"))


def _open_groups(programme: dict[str, Any]) -> list[dict[str, Any]]:
    groups = [g for g in programme["groups"] if g["free_places"] > 0]
    assert groups, "the demo programme has a group with free places"
    return groups


def _chosen_group(web_stack: Stack, user: str, project: str) -> str:
    mine = httpx.get(f"{web_stack.gateway_url}/api/accounts/applications", headers=api_headers(web_stack, user))
    (application,) = [a for a in mine.json() if a["project_code"] == project]
    return str(application["group_id"])


def _approve_the_submitted(web_stack: Stack) -> None:
    ilze = api_headers(web_stack, "ilze")
    listed = httpx.get(
        f"{web_stack.gateway_url}/api/accounts/agency/applications", params={"state": "submitted"}, headers=ilze
    ).json()
    for application in listed["items"]:
        approved = httpx.post(
            f"{web_stack.gateway_url}/api/accounts/agency/applications/{application['id']}/approval", headers=ilze
        )
        assert approved.status_code == 200, approved.text


async def test_a_learner_enrols_with_the_seeded_grant_and_reads_the_ledger_in_latvian(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory
) -> None:
    page = await new_page(new_context, web_stack, "lv")
    await sign_in(page, web_stack, "anna", then="/applications")
    card = page.locator(".govuk-summary-card").first
    await expect(card).to_contain_text("Apstiprināts: piesakieties grupā")
    await expect(card).to_contain_text("Grupā jāpiesakās līdz")
    await checked(page, "applications-lv")
    await page.get_by_role("link", name="Programmas ar brīvām vietām").click()  # the seed's application names none
    await page.get_by_role("link", name=demo_programme["title"]["lv"]).click()
    await checked(page, "programme-enrol-lv")
    await page.get_by_role("button", name="Pieteikties grupā").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Jūs esat pieteikts grupā.")
    await page.goto(f"{web_stack.web_url}/grant")
    await expect(page.locator("main")).to_contain_text("500,00 €")
    await checked(page, "grant-lv")
    await page.goto(f"{web_stack.web_url}/account")
    assert DEMO_PERSONAL_CODE not in await page.content()
    await checked(page, "account-lv")


async def test_two_learners_never_see_each_others_data(web_stack: Stack, new_context: ContextFactory) -> None:
    ensure_account(web_stack, "janis", JANIS_CODE)
    anna = await new_page(new_context, web_stack, "lv")
    janis = await new_page(new_context, web_stack, "en")
    await sign_in(anna, web_stack, "anna", then="/applications")
    await sign_in(janis, web_stack, "janis", then="/applications")
    annas_words, janis_words = "datu analīze", "sales data"
    assert annas_words in await anna.content() or "IMK" in await anna.content()
    assert annas_words not in await janis.content()
    await anna.goto(f"{web_stack.web_url}/account")
    await janis.goto(f"{web_stack.web_url}/account")
    assert "Anna" in await anna.content() and "Anna" not in await janis.content()
    assert janis_words not in await anna.content()
    for page in (anna, janis):
        assert DEMO_PERSONAL_CODE not in page.url and JANIS_CODE not in page.url


async def test_an_application_by_keyboard_alone(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory
) -> None:
    ensure_account(web_stack, "janis", JANIS_CODE)
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "janis", then=f"/programmes/{demo_programme['id']}")
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
    web_stack: Stack, new_context: ContextFactory
) -> None:
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "anna")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    await checked(page, "signed-out-en")
    await page.goto(f"{web_stack.web_url}/account")  # signed out: the identity provider asks who it is again
    await expect(page).to_have_url(re.compile(re.escape(web_stack.gateway_url) + "/oidc/authorize"))
    await expect(page.locator('input[name="username"]').first).to_be_visible()


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_pages_fit_a_360_pixel_screen(web_stack: Stack, new_context: ContextFactory, language: str) -> None:
    page = await new_page(new_context, web_stack, language, viewport=NARROW_VIEWPORT)
    for path in ("/", "/catalogue", "/statistics", "/accessibility"):
        await page.goto(web_stack.web_url + path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW_VIEWPORT["width"], f"{path} is {width} px wide at 360"
        await checked(page, f"narrow{path.replace('/', '-') or '-home'}-{language}")


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_every_learners_page_passes_axe_and_fits_360_pixels(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory, language: str
) -> None:
    page = await new_page(new_context, web_stack, language, viewport=NARROW_VIEWPORT)
    await sign_in(page, web_stack, "anna")
    programme = demo_programme["id"]
    paths = ["/account", "/projects", "/account/profile", "/account/digcomp", "/applications", "/grant", "/studies",
             f"/apply?programme={programme}", f"/apply/details?programme={programme}&project=VARAM",
             "/credentials/verify"]  # fmt: skip
    for path in paths:
        await page.goto(web_stack.web_url + path)
        assert (await page.evaluate("document.documentElement.scrollWidth")) <= NARROW_VIEWPORT["width"], path
        await checked(page, f"narrow-learner{path.split('?')[0].replace('/', '-')}-{language}")
