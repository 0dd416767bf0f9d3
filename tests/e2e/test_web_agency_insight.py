"""The agency's oversight pages in a real browser, against a platform of their own (as `make run` starts it, with the
demo data, one process per service): a rebuild of the statistics and a decided registration would change what other
modules' tests read on the shared one. Kārlis registers an education institution through the API; Ilze (an officer)
finds it waiting with its deadline and what the register and the signature checks found, and approves it after the
confirmation page; she reads the quality flags and the dashboard with its charts, and is not offered the rebuild;
Mārtiņš (an administrator) starts a rebuild and watches it come to done without reloading. axe-core and a screenshot of
every page in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import Stack, free_base_port, seed_demo
from prasmes_testing import samples
from prasmes_testing.browser import ContextFactory

from tests.e2e.web_support import api_headers, checked, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
CATALOG = "/api/catalog"
REGISTER_NUMBER = "3360800004"
NAME = "Latgales tehnoloģiju skola"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(var_dir=tmp_path_factory.mktemp("agency-insight"), base_port=free_base_port(), split_roles=False)
    stack.start(timeout=240)  # a second platform beside the shared one: give it time on a busy machine
    try:
        seed_demo(stack)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def registration(stack: Stack) -> dict[str, Any]:
    """Kārlis's registration, through the API: his signed statement uploaded, then the registration."""
    karlis = api_headers(stack, "karlis")
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        statement = client.post(
            f"{CATALOG}/documents",
            params={"purpose": "statement", "filename": "apliecinajums.edoc"},
            content=samples.asice_container(),
            headers={**karlis, "Content-Type": "application/vnd.etsi.asic-e+zip"},
        )
        assert statement.status_code == 201, statement.text
        registered = client.post(
            f"{CATALOG}/providers",
            json=samples.registration_payload(statement.json()["id"], REGISTER_NUMBER),
            headers=karlis,
        )
        assert registered.status_code == 201, registered.text
        return dict(registered.json())


async def _in(page: Page, stack: Stack, language: str, path: str) -> None:
    await page.goto(f"{stack.web_url}/language?to={language}&back={path}")
    await expect(page.locator("html")).to_have_attribute("lang", language)


async def _both(page: Page, stack: Stack, path: str, name: str) -> None:
    for language in ("lv", "en"):
        await _in(page, stack, language, path)
        await checked(page, f"agency-{name}-{language}")


async def test_ilze_approves_karlis_registration_after_the_confirmation(
    stack: Stack, new_context: ContextFactory, registration: dict[str, Any]
) -> None:
    page = await new_page(new_context, stack, "en")
    await sign_in(page, stack, "ilze", then="/agency/registrations")
    row = page.locator("tbody tr", has_text=NAME)
    await expect(row).to_contain_text("(Riga time)")
    await expect(row).to_contain_text("In the register, name matches")
    await expect(row).to_contain_text("Signed with a time stamp")
    await _both(page, stack, "/agency/registrations", "registrations")
    await page.goto(f"{stack.web_url}/agency/registrations?overdue=true")
    await expect(page.locator("main")).not_to_contain_text(NAME)  # registered just now: not overdue
    await checked(page, "agency-registrations-overdue-en")

    await page.goto(f"{stack.web_url}/agency/registrations")
    await page.get_by_role("link", name=NAME).click()
    path = f"/agency/registrations/{registration['id']}"
    await expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    await expect(page.locator("main")).to_contain_text("What the register says")
    download = await page.request.get(f"{stack.web_url}{path}/statement")
    assert download.ok and "attachment" in download.headers["content-disposition"]
    await _both(page, stack, path, "registration")

    await page.get_by_role("link", name="Approve the registration").click()
    await expect(page.locator("h1")).to_have_text("Approve the registration?")
    await expect(page.locator("main")).to_contain_text("may register programmes and groups and offer them")
    await _both(page, stack, f"{path}/approve", "registration-approve")
    await page.get_by_role("button", name="Yes, approve it").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + r"\?done=approved$"))
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The registration is approved")
    await checked(page, "agency-registration-approved-en")
    mine = await page.request.get(f"{stack.gateway_url}{CATALOG}/providers/me", headers=api_headers(stack, "karlis"))
    assert (await mine.json())["institution"]["status"] == "approved"


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_ilze_reads_the_quality_flags_and_the_dashboard_with_its_charts(
    stack: Stack, new_context: ContextFactory, language: str
) -> None:
    page = await new_page(new_context, stack, language)
    await sign_in(page, stack, "ilze", then="/agency/quality")
    await expect(page.locator('a[href="/agency/quality/exports/answers.csv"]')).to_be_visible()
    export = await page.request.get(f"{stack.web_url}/agency/quality/exports/aggregates.xlsx")
    assert export.ok and "spreadsheetml" in export.headers["content-type"]
    await checked(page, f"agency-quality-{language}")
    flagged = page.locator('main a[href^="/agency/quality/programmes/"]')
    if await flagged.count():
        await flagged.first.click()
        await expect(page.locator("h1")).to_be_visible()
        await checked(page, f"agency-quality-programme-{language}")

    await page.goto(f"{stack.web_url}/agency/statistics")
    charts = page.locator("img.app-chart")
    await expect(charts.first).to_be_visible()
    for src in [await c.get_attribute("src") for c in await charts.all()]:
        answer = await page.request.get(f"{stack.web_url}{src}")
        assert answer.ok and answer.headers["content-type"] == "image/svg+xml", src
    await expect(page.locator("main table:not(.app-daily)").first).to_be_visible()
    await expect(page.locator('a[href="/agency/statistics/rebuild"]')).to_have_count(0)  # an officer's page
    export = await page.request.get(f"{stack.web_url}/agency/statistics/exports/dashboard.csv")
    assert export.ok and export.headers["content-type"].startswith("text/csv")
    await checked(page, f"agency-statistics-{language}")
    refused = await page.goto(f"{stack.web_url}/agency/statistics/rebuild")
    assert refused is not None and refused.status == 403


AS_RENDERED = """document.addEventListener("DOMContentLoaded", () => {
  window.rebuildDoneAsRendered = document.querySelector("#rebuild-progress")?.dataset.done ?? null;
});"""
"""Keeps `data-done` of the page's progress as the server rendered it, for the test to tell which way it went."""


async def test_martins_rebuilds_the_statistics_and_sees_it_come_to_done(
    stack: Stack, new_context: ContextFactory
) -> None:
    page = await new_page(new_context, stack, "en")
    await sign_in(page, stack, "martins", then="/agency/statistics")
    await page.get_by_role("link", name="Rebuild the statistics").click()
    await expect(page.locator("h1")).to_have_text("Rebuild the statistics?")
    await expect(page.locator("main")).to_contain_text("recomputed from the first records")
    await _both(page, stack, "/agency/statistics/rebuild", "statistics-rebuild")
    # The progress as the server rendered it, before the script could replace it (it asks after a second).
    await page.add_init_script(AS_RENDERED)
    await page.get_by_role("button", name="Yes, rebuild the statistics").click()
    await expect(page).to_have_url(re.compile(r"/agency/statistics\?rebuild=started#rebuild$"))
    progress = page.locator(".app-rebuild #rebuild-progress")
    await expect(progress).to_be_visible()
    await checked(page, "agency-statistics-rebuilding-en")
    # the script asks again every second: no reload, the live region comes to done
    await expect(page.locator('.app-rebuild #rebuild-progress[data-done="true"]')).to_have_count(1, timeout=90_000)
    await expect(progress).to_contain_text("Every record is read")
    if await page.evaluate("window.rebuildDoneAsRendered") == "true":
        # A small projection can be rebuilt before the page is served: its figures are then already the new ones,
        # the script has nothing to follow, and the page says so instead of offering them.
        await expect(progress).to_contain_text("The figures on this page are this generation's")
        await expect(page.get_by_role("link", name="Show the figures of the new generation")).to_have_count(0)
    else:
        await expect(page.locator(".app-rebuild")).to_contain_text("Show the figures of the new generation")
    await checked(page, "agency-statistics-rebuilt-en")
    await _in(page, stack, "lv", "/agency/statistics")
    await checked(page, "agency-statistics-rebuilt-lv")
