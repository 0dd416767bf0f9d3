"""The institution's own pages in a real browser, against the whole platform of `web_stack`.

Kārlis (provider_admin of no institution yet) registers Vidzemes Digitālo prasmju centrs through the pages: an
unsigned statement is refused beside its field, a signed one passes and the page shows its signature check and the
register's; Ilze approves it through the API (the agency's pages are another test's). He invites Sandra by her user
name (she sees the users but is offered no invite or removal), removes her through the confirmation page, is
refused an address VIIS does not have for his institution, adds one it has, and registers a programme watching its
cost change as he fills in the hours (with the script; the cost button without it). A draft is not published, so
groups are Līga's: she schedules a group of the demo institution's published programme, changes it and cancels it
through its confirmation page. Līga's programme and group are "not found" pages for Kārlis. axe-core and a
screenshot of every page in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import Stack
from prasmes_runtime.clock import RIGA
from prasmes_testing import samples
from prasmes_testing.browser import ContextFactory

from tests.e2e.web_support import api_headers, checked, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
CATALOG = "/api/catalog"
REGISTER_NUMBER = "3360800005"
NAME = "Vidzemes Digitālo prasmju centrs"
ADDRESS = "Raiņa iela 12, Cēsis, LV-4101"
GROUP = "Datorsistēmas, datubāzes un datortīkli"


def _api(stack: Stack, username: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{stack.gateway_url}{path}", headers=api_headers(stack, username), **kwargs)


def _cost(stack: Stack, hours: int) -> Decimal:
    """What the coefficient table in force makes of `hours` of the group: the rate times the coefficient rounded
    half up to cents, times the hours."""
    table = httpx.get(f"{stack.gateway_url}{CATALOG}/coefficients").json()
    rate = Decimal(table["hourly_rate"]) * Decimal(table["coefficients"][GROUP])
    return rate.quantize(Decimal("0.01"), ROUND_HALF_UP) * hours


def _money(amount: Decimal, language: str) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") if language == "lv" else f"€{amount:,.2f}"


async def _both(page: Page, stack: Stack, path: str, name: str) -> None:
    """The page in Latvian and in English (by the switch every page has), each checked and photographed; the page
    is left in English."""
    for language in ("lv", "en"):
        await page.goto(f"{stack.web_url}/language?to={language}&back={path}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await checked(page, f"institution-{name}-{language}")


async def test_karlis_registers_invites_locates_and_costs_a_programme(
    web_stack: Stack, new_context: ContextFactory
) -> None:
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "karlis", then="/institution")
    if _api(web_stack, "karlis", "GET", f"{CATALOG}/providers/me").status_code == 404:
        await _register(page, web_stack)
    mine = _api(web_stack, "karlis", "GET", f"{CATALOG}/providers/me").json()
    institution_id = mine["institution"]["id"]
    if mine["institution"]["status"] == "pending":
        approved = _api(web_stack, "ilze", "POST", f"{CATALOG}/providers/{institution_id}/approve")
        assert approved.status_code == 200, approved.text
    await page.goto(f"{web_stack.web_url}/institution")
    await expect(page.locator("main")).to_contain_text("Approved")
    await expect(page.locator("#register-check")).to_contain_text("Accredited")
    await _both(page, web_stack, "/institution", "approved")

    await _users(page, web_stack, new_context)
    await _locations(page, web_stack)
    await _programme(page, web_stack)


async def _register(page: Page, stack: Stack) -> None:
    await expect(page.locator('main a[href="/institution/registration"]')).to_be_visible()
    await _both(page, stack, "/institution", "none")
    await page.goto(f"{stack.web_url}/institution/registration")
    await _both(page, stack, "/institution/registration", "registration")
    await page.get_by_label("Name of the institution").fill(NAME)
    await page.get_by_label("Register number").fill(REGISTER_NUMBER)
    await page.get_by_label("Legal address").fill(ADDRESS)
    await page.get_by_label("Your name").fill("Kārlis Zariņš")
    await page.get_by_label("Your e-mail address").fill("karlis@example.lv")
    unsigned = {"name": "apliecinajums.pdf", "mimeType": "application/pdf", "buffer": samples.plain_pdf()}
    await page.locator("#statement").set_input_files(unsigned)
    await page.get_by_role("button", name="Register", exact=True).click()
    await expect(page.locator("#statement-error")).to_contain_text("carries no electronic signature")
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Signed statement")
    await expect(page.get_by_label("Register number")).to_have_value(REGISTER_NUMBER)  # what was entered is kept
    await checked(page, "institution-registration-refused-en")
    signed = {"name": "apliecinajums.edoc", "mimeType": "application/vnd.etsi.asic-e+zip",
              "buffer": samples.asice_container()}  # fmt: skip
    await page.locator("#statement").set_input_files(signed)
    await page.get_by_role("button", name="Register", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/institution\?registered=1$"))
    await expect(page.locator("main")).to_contain_text("Waiting for the agency's decision")
    await expect(page.locator("#statement-check")).to_contain_text("Passed: 1 signature(s) with 1 time stamp(s)")
    await expect(page.locator("#register-check")).to_contain_text("In the register for at least three years")
    await _both(page, stack, "/institution", "pending")
    await page.goto(f"{stack.web_url}/institution/users")
    await expect(page.locator("main")).to_contain_text("waits for the agency's decision")


async def _users(page: Page, stack: Stack, new_context: ContextFactory) -> None:
    await page.goto(f"{stack.web_url}/institution/users")
    await page.get_by_label("User name or e-mail address").fill("nobody-here")
    await page.get_by_role("button", name="Invite").click()
    await expect(page.locator("#who-error")).to_contain_text("No user of the platform has this user name")
    await page.get_by_label("User name or e-mail address").fill("sandra")
    await page.get_by_role("button", name="Invite").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The user is invited")
    await expect(page.locator("#users")).to_contain_text("Sandra Kļaviņa")
    await _both(page, stack, "/institution/users", "users")

    sandra = await new_page(new_context, stack, "en")
    await sign_in(sandra, stack, "sandra", then="/institution/users")
    await expect(sandra.locator("#users")).to_contain_text("Staff")
    await expect(sandra.locator('form[action="/institution/users"]')).to_have_count(0)
    await expect(sandra.locator('a[href$="/remove"]')).to_have_count(0)
    await checked(sandra, "institution-users-staff-en")

    await page.locator("#users").get_by_role("link", name=re.compile("Remove")).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Remove Sandra Kļaviņa")
    await expect(page.locator(".govuk-warning-text")).to_contain_text("They will no longer act for the institution")
    await _both(page, stack, page.url.removeprefix(stack.web_url), "user-remove")
    await page.get_by_role("button", name="Yes, remove the user").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The user is removed")
    await expect(page.locator("#users")).not_to_contain_text("Sandra")
    await sandra.goto(f"{stack.web_url}/institution/users")
    await expect(sandra.locator("main")).to_contain_text("You do not act for an education institution yet")


async def _locations(page: Page, stack: Stack) -> None:
    await page.goto(f"{stack.web_url}/institution/locations")
    await page.get_by_label("Address", exact=True).fill("Nekurienes iela 1, Rīga")
    await page.get_by_role("button", name="Add the location").click()
    await expect(page.locator("#address-error")).to_contain_text("not registered in VIIS for your institution")
    await checked(page, "institution-locations-refused-en")
    await page.get_by_label("Address", exact=True).fill(
        "raina iela 12, cesis, lv-4101"
    )  # as VIIS has it, spelt loosely
    await page.get_by_role("button", name="Add the location").click()
    await expect(page.locator("#locations")).to_contain_text(ADDRESS)
    await expect(page.locator("#locations")).to_contain_text("Registered in VIIS")
    await _both(page, stack, "/institution/locations", "locations")


async def _programme(page: Page, stack: Stack) -> None:
    await page.goto(f"{stack.web_url}/institution/programmes/new")
    await _both(page, stack, "/institution/programmes/new", "programme-new")
    cost = page.locator("#cost")
    await expect(cost).to_contain_text("Choose the programme group and enter the total hours")
    await page.get_by_label("Programme group").select_option(GROUP)
    await page.get_by_label("Total hours").fill("100")
    await expect(cost).to_contain_text(f"{_money(_cost(stack, 100), 'en')} per participant")
    await page.get_by_label("Total hours").fill("160")
    await expect(cost).to_contain_text(f"{_money(_cost(stack, 160), 'en')} per participant")
    await page.get_by_label("Title in Latvian").fill("Digitālās prasmes darbam")
    await page.get_by_label("Title in English").fill("Digital skills for work")
    await page.get_by_label("Licence", exact=True).select_option("P-5005")
    await page.get_by_label("Date of the licence").fill("2022-01-17")
    await page.get_by_label("Kind of programme").select_option("professional_development")
    await page.get_by_label("Thematic area").fill("Informācijas un komunikācijas tehnoloģijas")
    await page.get_by_label("Description", exact=True).fill(
        "Praktiska programma biroja darbam ar mākoņrīkiem un datu drošību."
    )
    await page.get_by_label("Learning outcomes").fill("Spēj droši strādāt mākonī\nSpēj sagatavot pārskatus")
    await page.get_by_label("Professional competences").fill("Lieto biroja programmatūru")
    await page.get_by_label("Data analyst").check()
    await page.get_by_label("Theory hours").fill("60")  # the licence splits 70 / 90
    await page.get_by_label("Practice hours").fill("100")
    await page.get_by_label("DigComp level").select_option("4")
    await page.get_by_label("Entry level").select_option("2")
    await page.get_by_label("Prior knowledge needed").fill("Datora lietošanas pamati")
    await page.get_by_label("Equipment the learner needs").fill("Dators ar tīmekļa pārlūku")
    await page.get_by_label("Windows", exact=True).check()
    await page.get_by_label("Form of studies").select_option("hybrid")
    await page.get_by_label("Language of studies").select_option("lv")
    await page.get_by_label("Share of digital skills").fill("90")
    await page.get_by_label(ADDRESS).check()
    curriculum = {"name": "macibu-plans.pdf", "mimeType": "application/pdf", "buffer": samples.plain_pdf()}
    await page.locator("#curriculum").set_input_files(curriculum)
    await page.get_by_role("button", name="Register the programme").click()
    await expect(page.locator("#hours-split-error")).to_contain_text("as the licensed curriculum does")
    await expect(page.locator("#curriculum-uploaded")).to_be_visible()  # not asked for again
    await expect(cost).to_contain_text(_money(_cost(stack, 160), "en"))
    await checked(page, "institution-programme-refused-en")
    await page.get_by_label("Theory hours").fill("70")
    await page.get_by_label("Practice hours").fill("90")
    await page.get_by_role("button", name="Register the programme").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("registered as a draft")
    await expect(page.locator("main")).to_contain_text("Draft")
    await expect(page.locator("main")).to_contain_text(_money(_cost(stack, 160), "en"))
    await expect(page.locator('a[href$="/groups/new"]')).to_have_count(0)  # a draft is not published
    await _both(page, stack, page.url.removeprefix(stack.web_url).split("?")[0], "programme")
    await page.goto(f"{stack.web_url}/institution/programmes?status=draft&q=digitalas")
    await expect(page.locator("#programmes")).to_contain_text("Digital skills for work")
    await _both(page, stack, "/institution/programmes?status=draft&q=digitalas", "programmes")
    await page.goto(f"{stack.web_url}/language?to=lv&back=/institution/programmes/new")
    await page.locator("#programme-group").select_option(GROUP)
    await page.locator("#total-hours").fill("160")
    await expect(cost).to_contain_text(_money(_cost(stack, 160), "lv"))


async def test_liga_schedules_changes_and_cancels_a_group_of_her_published_programme(
    web_stack: Stack, new_context: ContextFactory, demo_programme: dict[str, Any]
) -> None:
    programme_id = demo_programme["id"]
    institution_id = demo_programme["institution"]["id"]
    own = _api(web_stack, "liga", "GET", f"{CATALOG}/providers/{institution_id}/programmes/{programme_id}").json()
    today = datetime.now(UTC).astimezone(RIGA).date()
    start = today + timedelta(days=7)
    until = datetime.fromisoformat(own["publication_valid_until"]).date() if own["publication_valid_until"] else None
    end = min(start + timedelta(days=30), until) if until else start + timedelta(days=30)

    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "liga", then=f"/institution/programmes/{programme_id}")
    await expect(page.locator("main")).to_contain_text("Published")
    await _both(page, web_stack, f"/institution/programmes/{programme_id}", "programme-published")
    await page.get_by_role("button", name="Schedule a group").click()
    await _both(page, web_stack, f"/institution/programmes/{programme_id}/groups/new", "group-new")
    await page.get_by_label("Place", exact=True).select_option(index=1)
    await page.get_by_label("Start date").fill(start.isoformat())
    await page.get_by_label("End date").fill((start - timedelta(days=1)).isoformat())
    await page.get_by_label("Schedule", exact=True).fill("Pirmdienās un trešdienās 17:00–20:00")
    await page.get_by_label("Places", exact=True).fill("8")
    await page.get_by_role("button", name="Schedule the group").click()
    await expect(page.locator("#end-date-error")).to_contain_text("cannot be before the start date")
    await checked(page, "institution-group-refused-en")
    await page.get_by_label("End date").fill(end.isoformat())
    await page.get_by_role("button", name="Schedule the group").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The group is scheduled")
    group_path = page.url.removeprefix(web_stack.web_url).split("?")[0]
    group_id = group_path.rsplit("/", 1)[1]
    await expect(page.locator(f'a[href="/institution/enrolments?group={group_id}"]')).to_be_visible()
    await _both(page, web_stack, group_path, "group")

    await page.get_by_role("button", name="Change the group").click()
    await page.get_by_label("Places", exact=True).fill("10")
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The group is changed")
    await expect(page.locator("#group")).to_contain_text("10")

    await page.goto(f"{web_stack.web_url}/institution/groups?status=scheduled&sort=-start")
    await expect(page.locator("#groups")).to_contain_text("10")
    await _both(page, web_stack, "/institution/groups?status=scheduled&sort=-start", "groups")
    await page.goto(f"{web_stack.web_url}{group_path}/cancel")
    await expect(page.locator(".govuk-warning-text")).to_contain_text("its 10 places")
    await _both(page, web_stack, f"{group_path}/cancel", "group-cancel")
    await page.get_by_role("button", name="Yes, cancel the group").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The group is cancelled")
    await expect(page.locator("#group")).to_contain_text("Cancelled")
    listed = _api(web_stack, "liga", "GET", f"{CATALOG}/providers/{institution_id}/groups/{group_id}").json()
    assert (listed["status"], listed["capacity"]) == ("cancelled", 10)


async def test_another_institutions_programmes_and_groups_are_not_found(
    web_stack: Stack, new_context: ContextFactory, demo_programme: dict[str, Any]
) -> None:
    institution_id = demo_programme["institution"]["id"]
    groups = _api(web_stack, "liga", "GET", f"{CATALOG}/providers/{institution_id}/groups").json()
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "karlis", then="/institution")
    programme = f"/institution/programmes/{demo_programme['id']}"
    paths = [programme, f"{programme}/groups/new"]
    paths += [f"/institution/groups/{groups[0]['id']}", f"/institution/groups/{groups[0]['id']}/cancel"]
    for path in paths:
        answer = await page.goto(f"{web_stack.web_url}{path}")
        assert answer is not None and answer.status in (403, 404, 409), (path, answer and answer.status)
        await expect(page.locator("main")).not_to_contain_text(demo_programme["title"]["en"])
    answer = await page.goto(f"{web_stack.web_url}{paths[0]}")
    assert answer is not None and answer.status == 404
    await _both(page, web_stack, paths[0], "not-found")
