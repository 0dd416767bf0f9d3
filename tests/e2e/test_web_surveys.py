"""The learner's surveys and notices in a real browser, against the whole platform of `web_stack`: Jānis completes
studies of the demo programme (arranged through the API: an application to 4242, which no other browser test uses,
approved; a group of one place starting today, so that the start and the completion can be recorded today), and
surveys invites him. He answers part of the survey, saves it and finds it saved; sending it without a required
answer shows the error beside that question; then it is sent and read-only. His notices: the decision on his
application among them, marked unread; marked read, the unread count drops; opening one marks it read too. axe-core
on every page in both languages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import Stack
from prasmes_runtime.clock import RIGA
from prasmes_testing.browser import NARROW_VIEWPORT, ContextFactory

from tests.e2e.web_support import JANIS_CODE, api_headers, checked, ensure_account, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
PROJECT = "4242"
IMPROVEMENT = "More exercises with real data"
T = TypeVar("T")


@pytest.fixture(scope="module")
def survey_id(web_stack: Stack, demo_programme: dict[str, Any]) -> str:
    """Jānis's completion survey of the demo programme, once surveys has invited him."""
    ensure_account(web_stack, "janis", JANIS_CODE)
    with httpx.Client(base_url=web_stack.gateway_url, timeout=15) as client:
        janis = api_headers(web_stack, "janis")
        application = _approved_application(client, web_stack, janis, demo_programme["id"])
        group = _group_of_one_from_today(client, web_stack, demo_programme)
        enrolment = _until(lambda: _enrolled(client, janis, application, group), "accounts to learn the group")
        _complete(client, web_stack, enrolment, demo_programme)
        return _until(lambda: _invited(client, janis, demo_programme["id"]), "surveys to invite Jānis")


def _approved_application(client: httpx.Client, stack: Stack, janis: dict[str, str], programme_id: str) -> str:
    body = {"project_code": PROJECT, "learning_need": "Spreadsheets for my work", "programme_id": programme_id}
    applied = client.post("/api/accounts/applications", json=body, headers=janis)
    assert applied.status_code == 201, applied.text
    application_id = str(applied.json()["id"])
    approval = f"/api/accounts/agency/applications/{application_id}/approval"
    approved = client.post(approval, headers=api_headers(stack, "ilze"))
    assert approved.status_code == 200, approved.text
    return application_id


def _group_of_one_from_today(client: httpx.Client, stack: Stack, programme: dict[str, Any]) -> str:
    """A group under way (its start and completion can be recorded today only if it starts by today), of one
    place: once Jānis takes it, no other test's learner is offered it."""
    liga = api_headers(stack, "liga")
    base = f"/api/catalog/providers/{programme['institution']['id']}"
    location = client.get(f"{base}/locations", headers=liga).json()[0]["id"]
    today = datetime.now(UTC).astimezone(RIGA).date()
    body = {"location_id": location, "start_date": today.isoformat(),
            "end_date": (today + timedelta(days=30)).isoformat(), "schedule": "Katru darbdienu 9:00–12:00",
            "capacity": 1, "language": "lv", "entry_level": 3}  # fmt: skip
    scheduled = client.post(f"{base}/programmes/{programme['id']}/groups", json=body, headers=liga)
    assert scheduled.status_code == 201, scheduled.text
    return str(scheduled.json()["id"])


def _enrolled(client: httpx.Client, janis: dict[str, str], application: str, group: str) -> str | None:
    answer = client.post(f"/api/accounts/applications/{application}/enrolment", json={"group_id": group}, headers=janis)
    return str(answer.json()["id"]) if answer.status_code == 201 else None


def _complete(client: httpx.Client, stack: Stack, enrolment: str, programme: dict[str, Any]) -> None:
    """Līga (the institution's administrator) records the start and the completion, both today."""
    liga, today = api_headers(stack, "liga"), datetime.now(UTC).astimezone(RIGA).date().isoformat()
    base = f"/api/accounts/provider/enrolments/{enrolment}"
    started = client.post(f"{base}/start", json={"started_on": today}, headers=liga)
    assert started.status_code == 200, started.text
    body = {"completed_on": today, "hours_attended": programme["total_hours"], "result": "passed"}
    completed = client.post(f"{base}/completion", json=body, headers=liga)
    assert completed.status_code == 200, completed.text


def _invited(client: httpx.Client, janis: dict[str, str], programme_id: str) -> str | None:
    mine = client.get("/api/surveys/surveys/mine", headers=janis).json()["items"]
    found = [s for s in mine if s["programme_id"] == programme_id and s["status"] == "open"]
    return str(found[0]["id"]) if found else None


def _until(found: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while (value := found()) is None:
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.3)
    return value


async def _in(page: Page, stack: Stack, language: str, path: str) -> None:
    """The same page in the other language, by the switch every page has."""
    await page.goto(f"{stack.web_url}/language?to={language}&back={path}")
    await expect(page.locator("html")).to_have_attribute("lang", language)


async def test_a_survey_saved_partly_resumed_refused_without_an_answer_then_sent(
    web_stack: Stack, demo_programme: dict[str, Any], new_context: ContextFactory, survey_id: str
) -> None:
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "janis", then="/surveys")
    await page.locator("#to-answer").get_by_role("link", name=demo_programme["title"]["en"]).click()
    await expect(page).to_have_url(re.compile(f"/surveys/{survey_id}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Study evaluation survey")
    await checked(page, "survey-en")

    await page.get_by_label("4 stars").first.check()  # knowledge and skills, the first question
    await page.locator("#description-matched").check()  # yes
    await page.get_by_label(re.compile("What should be improved")).fill(IMPROVEMENT)
    await page.locator('button[value="save"]').click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Your answers are saved")
    await checked(page, "survey-saved-en")
    await page.goto(f"{web_stack.web_url}/surveys/{survey_id}")
    await expect(page.locator("#knowledge-skills-4")).to_be_checked()
    await expect(page.locator("#description-matched")).to_be_checked()
    await expect(page.locator("#improvement")).to_have_value(IMPROVEMENT)
    await page.goto(f"{web_stack.web_url}/surveys")
    await expect(page.locator("#to-answer")).to_contain_text("In progress")
    await checked(page, "surveys-en")

    await _in(page, web_stack, "lv", f"/surveys/{survey_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mācību novērtējuma aptauja")
    await expect(page.locator("#knowledge-skills-4")).to_be_checked()  # the saved answer, in either language
    await checked(page, "survey-lv")
    await page.locator('button[value="send"]').click()
    await expect(page.locator("#digcomp-after-error")).to_contain_text("Šis lauks ir obligāts")
    await checked(page, "survey-error-lv")
    await page.goto(f"{web_stack.web_url}/surveys")
    await checked(page, "surveys-lv")

    await _in(page, web_stack, "en", f"/surveys/{survey_id}")
    for question in ("content-quality", "teacher", "learning-process"):
        await page.locator(f"#{question}-5").check()
    await page.locator("#prior-knowledge-right").check()
    await page.locator("#equipment-right-2").check()  # no
    await page.locator('button[value="send"]').click()
    error = page.locator("#digcomp-after-error")
    await expect(error).to_contain_text("This field is required")
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Your digital skills after the studies")
    await expect(page.locator(".govuk-error-summary a")).to_have_attribute("href", "#digcomp-after")
    await expect(page.locator("#teacher-5")).to_be_checked()  # what was entered is kept
    await expect(page.locator("#improvement")).to_have_value(IMPROVEMENT)
    await checked(page, "survey-error-en")

    await page.locator("#digcomp-after-5").check()
    await page.locator('button[value="send"]').click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Thank you: your answers are sent")
    await expect(page.locator("main form")).to_have_count(0)
    await expect(page.locator("main dl")).to_contain_text(IMPROVEMENT)
    await expect(page.locator("#survey-state")).to_contain_text("cannot be changed")
    await checked(page, "survey-sent-en")
    await _in(page, web_stack, "lv", f"/surveys/{survey_id}")
    await expect(page.locator("main form")).to_have_count(0)
    await checked(page, "survey-sent-lv")
    await page.goto(f"{web_stack.web_url}/surveys")
    await expect(page.locator("#answered")).to_contain_text(demo_programme["title"]["lv"])

    sent = _janis_get(web_stack, f"/api/surveys/surveys/{survey_id}")
    assert sent["status"] == "submitted"
    assert sent["answers"] == {**dict.fromkeys(("content_quality", "teacher", "learning_process"), 5),
                               "knowledge_skills": 4, "description_matched": True, "prior_knowledge_right": True,
                               "equipment_right": False, "digcomp_after": 5, "improvement": IMPROVEMENT}  # fmt: skip


def _janis_get(stack: Stack, path: str) -> Any:
    return httpx.get(f"{stack.gateway_url}{path}", headers=api_headers(stack, "janis")).json()


def _notices(stack: Stack) -> list[dict[str, Any]]:
    return list(_janis_get(stack, "/api/notifications/notifications?limit=200")["items"])


def _unread(stack: Stack) -> int:
    return int(_janis_get(stack, "/api/notifications/notifications/unread-count")["unread"])


def _arrived(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """The decision on the application to 4242 and the survey's invitation, once notifications has made both (and
    the other notices of these studies: no later one moves the unread count while the test counts)."""

    def both() -> tuple[dict[str, Any], dict[str, Any]] | None:
        notices = _notices(stack)
        mine = [n for n in notices if PROJECT in n["body"]["en"] or n["kind"] == "survey_invited"]
        kinds = {n["kind"] for n in mine}
        if not {"application_approved", "grant_spent", "grant_released", "survey_invited"} <= kinds:
            return None
        decision = next(n for n in mine if n["kind"] == "application_approved")
        return decision, next(n for n in mine if n["kind"] == "survey_invited")

    return _until(both, "notifications to tell Jānis of his application and survey")


async def test_the_notices_unread_marked_read_and_opened(
    web_stack: Stack, new_context: ContextFactory, survey_id: str
) -> None:
    decision, invitation = _arrived(web_stack)
    assert decision["read_at"] is None and invitation["read_at"] is None
    unread = _unread(web_stack)
    number = [n["id"] for n in _notices(web_stack)].index(decision["id"]) // 10 + 1
    listing = f"/notices?page={number}"

    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "janis", then=listing)
    card = page.locator(f"#notice-{decision['id']}")
    await expect(card).to_contain_text("Application approved")
    await expect(card).to_contain_text(f"Your application in {PROJECT} is approved")
    await expect(card.locator(".govuk-tag")).to_have_text("Unread")
    await checked(page, "notices-en")
    await card.get_by_role("button", name=re.compile("^Mark as read")).click()
    back = listing if number > 1 else "/notices"  # the first page is the list's own address
    await expect(page).to_have_url(re.compile(re.escape(back) + f"#notice-{decision['id']}$"))
    await expect(card.locator(".govuk-tag")).to_have_count(0)
    await expect(card.get_by_role("button")).to_have_count(0)
    assert _unread(web_stack) == unread - 1
    await expect(page.locator("#unread-count")).to_contain_text(str(unread - 1))

    await _in(page, web_stack, "lv", listing)
    await expect(card).to_contain_text("Pieteikums apstiprināts")
    await checked(page, "notices-lv")
    await page.goto(f"{web_stack.web_url}/notices/{invitation['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Novērtējiet savas mācības")
    await expect(page.locator(f'main a[href="/surveys/{survey_id}"]')).to_be_visible()
    await checked(page, "notice-lv")
    assert _unread(web_stack) == unread - 2  # opening it marked it read
    await _in(page, web_stack, "en", f"/notices/{invitation['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Evaluate your studies")
    await checked(page, "notice-en")
    await page.locator(f'main a[href="/surveys/{survey_id}"]').click()
    await expect(page).to_have_url(re.compile(f"/surveys/{survey_id}$"))


@pytest.mark.parametrize("language", ["lv", "en"])
async def test_the_surveys_and_notices_fit_a_360_pixel_screen(
    web_stack: Stack, new_context: ContextFactory, survey_id: str, language: str
) -> None:
    page = await new_page(new_context, web_stack, language, viewport=NARROW_VIEWPORT)
    await sign_in(page, web_stack, "janis", then="/surveys")
    for path in ("/surveys", f"/surveys/{survey_id}", "/notices"):
        await page.goto(web_stack.web_url + path)
        assert (await page.evaluate("document.documentElement.scrollWidth")) <= NARROW_VIEWPORT["width"], path
        await checked(page, f"narrow{path.replace('/', '-').replace(survey_id, 'one')}-{language}")
