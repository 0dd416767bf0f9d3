"""The agency's applications, funding projects and the allocation of a window in a real browser, against a platform of
their own (as `make run` starts it, with the demo data, one process per service): an allocation and the approvals would
change what other modules' tests read on the shared one. Through the API: a first come project and a ranked one whose
window closes half a minute after Anna and Jānis applied. Ilze (an officer) filters the applications, opens Anna's and
approves it after the confirmation page; she is not offered the allocation and gets a 403 page when she posts it.
Mārtiņš (an administrator) confirms the allocation of the closed window, seeing the ranking rules, and follows it to its
result: ranked, approved, rejected and the lottery seed. axe-core and a screenshot of every page in both languages."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import Stack, free_base_port, seed_demo
from prasmes_testing.browser import ContextFactory

from tests.e2e.web_support import JANIS_CODE, api_headers, checked, ensure_account, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
ACCOUNTS = "/api/accounts"
WINDOW_SECONDS = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(var_dir=tmp_path_factory.mktemp("agency-applications"), base_port=free_base_port(), split_roles=False)
    stack.start(timeout=120)
    try:
        seed_demo(stack)
        yield stack
    finally:
        stack.stop()


def _project(client: httpx.Client, stack: Stack, code: str, mode: str, budget: str, closes: datetime) -> None:
    now = datetime.now(UTC)
    body = {
        "code": code,
        "name": f"E2E {mode}",
        "budget": budget,
        "grant_per_person": "500.00",
        "window_opens_at": (now - timedelta(hours=1)).isoformat(),
        "window_closes_at": closes.isoformat(),
        "enrolment_deadline": (closes + timedelta(days=60)).date().isoformat(),
        "allocation_mode": mode,
    }
    created = client.post(f"{ACCOUNTS}/funding-projects", json=body, headers=api_headers(stack, "martins"))
    assert created.status_code == 201, created.text


@pytest.fixture(scope="module")
def projects(stack: Stack) -> dict[str, str]:
    """A first come project both learners applied to, and a ranked one (one grant) whose window has closed."""
    suffix = secrets.token_hex(3).upper()
    first, ranked = f"EF{suffix}", f"ER{suffix}"
    ensure_account(stack, "janis", JANIS_CODE)
    closes = datetime.now(UTC) + timedelta(seconds=WINDOW_SECONDS)
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        _project(client, stack, first, "first_come", "5000.00", datetime.now(UTC) + timedelta(days=30))
        _project(client, stack, ranked, "window_then_rank", "500.00", closes)
        for who, name in (("anna", ("Anna", "Ozola")), ("janis", ("Jānis", "Bērziņš"))):
            headers = api_headers(stack, who)
            profile = {"first_name": name[0], "last_name": name[1]}
            assert client.patch(f"{ACCOUNTS}/accounts/me/profile", json=profile, headers=headers).status_code == 200
            for code in (first, ranked):
                applied = client.post(f"{ACCOUNTS}/applications", json={"project_code": code}, headers=headers)
                assert applied.status_code == 201, applied.text
    return {"first": first, "ranked": ranked, "closes": closes.isoformat()}


async def _in(page: Page, stack: Stack, language: str, path: str) -> None:
    await page.goto(f"{stack.web_url}/language?{urlencode({'to': language, 'back': path})}")
    await expect(page.locator("html")).to_have_attribute("lang", language)


async def _both(page: Page, stack: Stack, path: str, name: str) -> None:
    for language in ("lv", "en"):
        await _in(page, stack, language, path)
        await checked(page, f"agency-{name}-{language}")


async def test_ilze_filters_the_applications_and_approves_one_after_the_confirmation(
    stack: Stack, new_context: ContextFactory, projects: dict[str, str]
) -> None:
    page = await new_page(new_context, stack, "en")
    await sign_in(page, stack, "ilze", then="/agency/applications")
    await _both(page, stack, "/agency/applications", "applications")
    await page.get_by_label("Funding project").select_option(projects["first"])
    await page.get_by_label("Learner's name").fill("ozola")
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("#found")).to_contain_text("1 application")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.get_by_role("link", name="Download as XLSX")).to_be_visible()
    csv = await page.request.get(f"{stack.web_url}/agency/applications.csv?project={projects['first']}")
    assert csv.ok and "Ozola" in await csv.text() and "Bērziņš" in await csv.text()
    filtered = page.url.removeprefix(stack.web_url)
    await _both(page, stack, filtered, "applications-filtered")

    await page.get_by_role("link", name="Anna Ozola").click()
    path = re.sub(r"\?.*$", "", page.url.removeprefix(stack.web_url))
    assert re.fullmatch(r"/agency/applications/[0-9a-f-]{36}", path), path
    await _both(page, stack, path, "application")
    await page.get_by_role("link", name="Approve", exact=True).click()
    await expect(page.locator("h1")).to_have_text("Approve the application?")
    await expect(page.locator("main")).to_contain_text("is reserved from the budget of " + projects["first"])
    await _both(page, stack, f"{path}/approve", "application-approve")
    await page.get_by_role("button", name="Yes, approve it").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + r"\?done=approved$"))
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("the grant is reserved")
    await checked(page, "agency-application-approved-en")

    await page.goto(f"{stack.web_url}{path}/reject")
    await _both(page, stack, f"{path}/reject", "application-reject")
    await page.goto(f"{stack.web_url}/agency/projects/{projects['first']}")
    await expect(page.locator(".app-ledger")).to_contain_text("500")
    await expect(page.locator(".app-ledger-entries tbody tr")).to_have_count(1)
    await _both(page, stack, f"/agency/projects/{projects['first']}", "project")
    await _both(page, stack, "/agency/projects", "projects")


async def _closed(projects: dict[str, str]) -> None:
    left = (datetime.fromisoformat(projects["closes"]) - datetime.now(UTC)).total_seconds()
    if left > 0:
        await asyncio.sleep(left + 1)


async def test_an_officer_is_not_offered_the_allocation_and_is_refused_it(
    stack: Stack, new_context: ContextFactory, projects: dict[str, str]
) -> None:
    await _closed(projects)
    page = await new_page(new_context, stack, "en")
    path = f"/agency/projects/{projects['ranked']}"
    await sign_in(page, stack, "ilze", then=path)
    await expect(page.locator("main")).to_contain_text("an agency administrator allocates it")
    await expect(page.get_by_role("link", name="Allocate the window")).to_have_count(0)
    await page.goto(f"{stack.web_url}/agency/applications?project={projects['ranked']}")
    await page.locator("tbody a").first.click()
    await expect(page.locator("main")).to_contain_text("decided together by the allocation")
    await page.goto(f"{stack.web_url}/agency/applications/{page.url.rsplit('/', 1)[-1]}/reject")
    token = await page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = await page.request.post(f"{stack.web_url}{path}/allocation", form={"csrf_token": token or ""})
    assert refused.status == 403
    answer = await page.goto(f"{stack.web_url}{path}/allocation")
    assert answer is not None and answer.status == 403
    await checked(page, "agency-allocation-refused-en")


async def test_martins_allocates_the_closed_window_and_sees_its_progress_and_result(
    stack: Stack, new_context: ContextFactory, projects: dict[str, str]
) -> None:
    await _closed(projects)
    page = await new_page(new_context, stack, "lv")
    path = f"/agency/projects/{projects['ranked']}"
    await sign_in(page, stack, "martins", then=path)
    await _both(page, stack, path, "project-ranked")
    await page.get_by_role("link", name="Allocate the window").click()
    await expect(page.locator(".app-ranking-rules li")).to_have_count(5)
    await expect(page.locator("main")).to_contain_text("A lottery seed is drawn now")
    await expect(page.locator("main")).to_contain_text("Applications waiting")
    await _both(page, stack, f"{path}/allocation", "allocation-confirm")
    await page.get_by_role("button", name="Yes, allocate the window").click()
    await expect(page).to_have_url(re.compile(re.escape(path) + r"/allocation/[0-9a-f-]{36}$"))
    region = page.locator(".app-allocation[aria-live='polite']")
    await expect(region.locator("#allocation-progress[data-done='true']")).to_have_count(1, timeout=30_000)
    await expect(region).to_contain_text("Ranked")
    result = region.locator(".app-allocation-result")
    await expect(result).to_contain_text("2")
    await expect(result.locator(".app-seed")).to_have_text(re.compile(r"^[0-9a-f]{32}$"))
    await expect(page.locator(".app-ranking-rules li")).to_have_count(5)
    await _both(page, stack, page.url.removeprefix(stack.web_url), "allocation-result")
    seed = await result.locator(".app-seed").inner_text()
    await page.goto(f"{stack.web_url}{path}")
    await expect(page.locator("#allocation ~ p").first).to_contain_text(seed)
    again = await page.goto(f"{stack.web_url}{path}/allocation")
    assert again is not None and again.status == 200
    token = await page.locator('input[name="csrf_token"]').first.get_attribute("value")
    second = await page.request.post(f"{stack.web_url}{path}/allocation", form={"csrf_token": token or ""})
    assert second.ok and "/allocation/" in second.url  # the run there is, not a second one
    states = await page.request.get(
        f"{stack.gateway_url}{ACCOUNTS}/agency/applications",
        params={"project_code": projects["ranked"]},
        headers=api_headers(stack, "martins"),
    )
    assert sorted(a["state"] for a in (await states.json())["items"]) == ["approved", "rejected"]
