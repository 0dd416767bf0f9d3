"""The institution's enrolments, study record and survey results in a real browser, against the whole platform of
`web_stack`. Arranged through the API: Līga (the demo institution's administrator) schedules a group of the demo
programme from today (one place), a learner's application to a first-come project is approved and the learner
enrols in it. Līga then finds the learner among the group's enrolments, a start dated tomorrow is refused beside its
field (in each language), the start and then the completion go through their confirmation pages, and the grant's
part is invoiced. She reads the institution's survey results (the demonstration's answers) with both charts and
their tables, and a programme's. Pēteris, staff of no part of the demo institution, gets the not-found page for the
enrolment and the refusal for the results. axe-core and a screenshot on every page in both languages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from playwright.async_api import expect
from prasmes_devtools.devstack import Stack
from prasmes_runtime.clock import RIGA
from prasmes_testing.browser import ContextFactory

from tests.e2e.web_support import JANIS_CODE, api_headers, checked, ensure_account, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
PROJECTS = ("VARAM", "4242", "IMK")
"""First-come projects (the officer approves at once); the first the learner may apply to now is used."""
T = TypeVar("T")


def _today() -> datetime:
    return datetime.now(UTC).astimezone(RIGA)


@pytest.fixture(scope="module")
def enrolled(web_stack: Stack, demo_programme: dict[str, Any]) -> dict[str, str]:
    """A learner enrolled in a new group of the demo programme that starts today: its ids."""
    ensure_account(web_stack, "janis", JANIS_CODE)
    with httpx.Client(base_url=web_stack.gateway_url, timeout=15) as client:
        group = _group_from_today(client, web_stack, demo_programme)
        for learner in ("anna", "janis"):
            headers = api_headers(web_stack, learner)
            application = _approved_application(client, web_stack, headers)
            if application:
                break
        else:
            raise AssertionError("neither learner may apply to a first-come project now")
        enrolment = _until(lambda: _enrol(client, headers, application, group), "accounts to learn the group")
    return {"enrolment": enrolment, "group": group, "learner": learner}


def _group_from_today(client: httpx.Client, stack: Stack, programme: dict[str, Any]) -> str:
    liga = api_headers(stack, "liga")
    base = f"/api/catalog/providers/{programme['institution']['id']}"
    location = client.get(f"{base}/locations", headers=liga).json()[0]["id"]
    today = _today().date()
    body = {"location_id": location, "start_date": today.isoformat(),
            "end_date": (today + timedelta(days=40)).isoformat(), "schedule": "Otrdienās 10:00–13:00",
            "capacity": 1, "language": "lv", "entry_level": 2}  # fmt: skip
    scheduled = client.post(f"{base}/programmes/{programme['id']}/groups", json=body, headers=liga)
    assert scheduled.status_code == 201, scheduled.text
    return str(scheduled.json()["id"])


def _approved_application(client: httpx.Client, stack: Stack, learner: dict[str, str]) -> str | None:
    eligibility = client.get("/api/accounts/accounts/me/eligibility", headers=learner).json()
    eligible = {item["project_code"] for item in eligibility if item["eligible"]}
    project = next((code for code in PROJECTS if code in eligible), None)
    if project is None:
        return None
    needs = client.get(f"/api/accounts/funding-projects/{project}").json().get("learning_needs") or []
    body = {"project_code": project, "learning_need": "Datu analīze darbam"}
    body |= {"learning_need_code": needs[0]["code"]} if needs else {}
    applied = client.post("/api/accounts/applications", json=body, headers=learner)
    assert applied.status_code == 201, applied.text
    approval = f"/api/accounts/agency/applications/{applied.json()['id']}/approval"
    approved = client.post(approval, headers=api_headers(stack, "ilze"))
    assert approved.status_code == 200, approved.text
    return str(applied.json()["id"])


def _enrol(client: httpx.Client, learner: dict[str, str], application: str, group: str) -> str | None:
    path = f"/api/accounts/applications/{application}/enrolment"
    answer = client.post(path, json={"group_id": group}, headers=learner)
    return str(answer.json()["id"]) if answer.status_code == 201 else None


def _until(found: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while (value := found()) is None:
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.3)
    return value


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_the_groups_enrolments_and_a_start_refused_beside_its_date(
    web_stack: Stack, new_context: ContextFactory, enrolled: dict[str, str], language: str
) -> None:
    page = await new_page(new_context, web_stack, language)
    await sign_in(page, web_stack, "liga", then=f"/institution/enrolments?group={enrolled['group']}")
    record = f"/institution/enrolments/{enrolled['enrolment']}"
    await expect(page.locator(f'a[href="{record}"]')).to_be_visible()
    await checked(page, f"teaching-enrolments-{language}")
    await page.locator(f'a[href="{record}"]').click()
    await expect(page).to_have_url(re.compile(re.escape(record) + "$"))
    await checked(page, f"teaching-record-{language}")

    tomorrow = (_today().date() + timedelta(days=1)).isoformat()
    await page.locator("#started-on").fill(tomorrow)
    await page.locator('form[action$="/start"] button').click()
    await expect(page.locator('input[name="confirmed"]')).to_have_count(1)  # the confirmation page
    await expect(page.locator("main dl")).to_contain_text(str((_today().date() + timedelta(days=1)).day))
    await checked(page, f"teaching-confirm-start-{language}")
    await page.locator('form[action$="/start"] button').click()
    error = page.locator("#started-on-error")
    await expect(error).to_be_visible()
    await expect(page.locator(".govuk-error-summary")).to_be_visible()
    await checked(page, f"teaching-record-refused-{language}")
    await page.locator("#started-on").fill(_today().date().isoformat())
    await page.locator('form[action$="/start"] button').click()
    await page.locator(f'main a[href="{record}"]').click()  # cancel: nothing recorded
    await expect(page).to_have_url(re.compile(re.escape(record) + "$"))
    await expect(page.locator("#started-on")).to_be_visible()


async def test_staff_record_the_start_then_the_completion_and_invoice_it(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory, enrolled: dict[str, str]
) -> None:
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "liga", then=f"/institution/enrolments/{enrolled['enrolment']}")
    today = _today().date().isoformat()
    await page.locator("#started-on").fill(today)
    await page.get_by_role("button", name="Continue to record the start").click()
    await page.get_by_role("button", name="Record the start").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The start of the studies is recorded.")
    await expect(page.locator("main dl")).to_contain_text("Studying")

    await page.locator("#completed-on").fill(today)
    await page.locator("#hours-attended").fill(str(demo_programme["total_hours"]))
    await page.locator("#result").fill("passed")
    await page.get_by_role("button", name="Continue to record the completion").click()
    await expect(page.locator(".govuk-warning-text")).to_contain_text("This cannot be undone")
    await checked(page, "teaching-confirm-completion-en")
    await page.get_by_role("button", name="Record the completion").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The completion is recorded.")
    await expect(page.locator("main dl")).to_contain_text("Completed")
    await expect(page.locator("#completed-on")).to_have_count(0)  # the record is final
    await checked(page, "teaching-record-completed-en")

    await page.get_by_role("button", name="Continue to the invoice").click()
    await checked(page, "teaching-confirm-invoice-en")
    await page.get_by_role("button", name="Invoice", exact=True).click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The invoice is recorded.")
    await expect(page.locator("main dl")).to_contain_text("Invoiced")


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_the_institution_sees_its_survey_results_with_both_charts(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory, language: str
) -> None:
    page = await new_page(new_context, web_stack, language)
    await sign_in(page, web_stack, "liga", then="/institution/survey-results")
    for table in ("#results-counts", "#stars-table", "#reasons-table"):
        await expect(page.locator(table)).to_be_visible()
    for chart in ("stars", "reasons"):
        image = page.locator(f'img[src$="/charts/{chart}.svg"]')
        await expect(image).to_be_visible()
        assert await image.evaluate("i => i.complete && i.naturalWidth > 0"), f"the {chart} chart did not load"
    await checked(page, f"teaching-results-{language}")
    await page.locator("#per-programme").get_by_role("link", name=demo_programme["title"][language]).click()
    await expect(page).to_have_url(re.compile(f"/institution/survey-results/programmes/{demo_programme['id']}$"))
    await expect(page.locator("#stars-table")).to_be_visible()
    await checked(page, f"teaching-results-programme-{language}")
    await page.locator("#per-group a").first.click()  # the demonstration's group, with its answers
    await expect(page).to_have_url(re.compile("/institution/survey-results/groups/"))
    await expect(page.locator("#stars-table")).to_be_visible()
    await checked(page, f"teaching-results-group-{language}")


async def test_another_institutions_user_cannot_see_these_enrolments_or_results(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory, enrolled: dict[str, str]
) -> None:
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "peteris", then="/institution/enrolments")
    assert enrolled["enrolment"] not in await page.content()
    answer = await page.goto(f"{web_stack.web_url}/institution/enrolments/{enrolled['enrolment']}")
    assert answer is not None and answer.status == 404
    await checked(page, "teaching-other-enrolment-en")
    answer = await page.goto(f"{web_stack.web_url}/institution/survey-results/programmes/{demo_programme['id']}")
    assert answer is not None and answer.status == 403
    await expect(page.locator("#stars-table")).to_have_count(0)
    institution = demo_programme["institution"]["id"]
    answer = await page.goto(f"{web_stack.web_url}/institution/survey-results/institutions/{institution}")
    assert answer is not None and answer.status == 403
    await checked(page, "teaching-other-results-en")
    chart = await page.request.get(
        f"{web_stack.web_url}/institution/survey-results/institutions/{institution}/charts/stars.svg"
    )
    assert chart.status == 403
