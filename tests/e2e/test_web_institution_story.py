"""Issue #15's story in Debian's Chromium, across the institution's and the agency's pages: the fourth call IMK-4
(story_support tells it through the API) done by people in the browser.

Kārlis (provider_admin of no institution) registers the Rīgas Datorikas mācību centrs (3360800001) with his signed
statement; Ilze approves it in the agency's registrations. Kārlis adds its location and invites Sandra as staff.
Its three licensed programmes are registered and the platform's delivered history (criterion I4) is put on the bus
through the API (story_support: not the story's point). Kārlis fills the three steps of an offer to IMK-4, the
checks name the programme whose hours split differs from its licence, he fixes it and submits. Calls moves into the
evaluation period: Mārtiņš assigns Ilze, who records findings and asks a clarification; Kārlis answers it; Ilze
completes the findings. Calls moves into the decision phase: Mārtiņš (not the evaluator) approves after the
confirmation page, records the agreement and uploads its signed document, and the programmes are in the public
catalogue. Kārlis schedules a group of one of them from today; Anna (a learner) applies through the API, Ilze
approves her application in the agency's pages, Anna enrols through the API; Sandra records her start and
completion. With the seed's survey answers for that programme (surveys' development-only replay: one learner's
answer is fewer than an institution is shown results of), Kārlis reads the institution's survey results with both
charts, and the programme's.

IMK-4's timeline lies in 2025: calls runs on a configured clock (`CLOCK_START`) and is restarted into the evaluation
and decision phases (`story.restart_calls`); accounts, catalog and the tokens run on real time, so the group is
scheduled from today and the agreement runs until 2027 (on or after the call's delivery end, and past the group's
end). Every page of the story is checked by axe-core and photographed in Latvian and English (var/screenshots/).
The pages count the offer window's time left from calls' clock (its answer's `as_of`), so in IMK-4's configured
2025 the call is open. The checks are asked once through the API until calls has counted the delivered history
(criterion I4), an event's way from the bus.

The stack is this module's own (every service, the web front end included, on the embedded bus): calls' clock must
not move under the other browser tests' shared `web_stack`.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import DEMO_PERSONAL_CODE, SERVICES, Stack
from prasmes_testing import samples
from prasmes_testing.browser import ContextFactory

from tests.e2e import story_support as story
from tests.e2e import web_story_support as web
from tests.e2e.story_support import CALLS, CATALOG, INSTITUTION_NAME, LICENCES, login, ok
from tests.e2e.web_story_support import at, go, in_both_languages
from tests.e2e.web_support import checked, ensure_account, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
AGREEMENT = {"number": "IMK-4/2025/007", "valid_from": "2025-11-10", "valid_until": "2027-06-30"}
QUESTION = "Lūdzu, precizējiet, kurā datorklasē notiks praktiskās nodarbības."
ANSWER = "Brīvības ielā 100, 2. stāva datorklasē ar 16 darba vietām."
TAUGHT = "P-1234"
"""The programme whose group Anna completes and whose survey results Kārlis reads."""
PAST_GROUP = str(uuid.uuid5(uuid.NAMESPACE_URL, "prasmes:web-story:past-group"))
"""The (past) group the seed's survey answers are of."""


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Every service and the web front end, one process each, calls on IMK-4's offer window."""
    var_dir = tmp_path_factory.mktemp("web-story")
    names = tuple(s.name for s in SERVICES)
    service_env = {"calls": {"CLOCK_START": story.OFFER_WINDOW.isoformat()}}
    with story.running_stack(
        request, var_dir, "embedded", names, "story", service_env, timeout=120, split_roles=False
    ) as stack:
        yield stack


async def test_an_institution_from_its_registration_to_its_survey_results(
    stack: Stack, new_context: ContextFactory, tmp_path: Path
) -> None:
    ensure_account(stack, "anna", DEMO_PERSONAL_CODE)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        karlis_api, martins_api = [(await login(client, u))[0] for u in ("karlis", "martins")]
        (call,) = ok(await client.post(f"{CALLS}/calls/seed", headers=martins_api))
        assert (call["code"], call["phase"]) == ("IMK-4", "offers")

        karlis = await new_page(new_context, stack, "en")
        institution_id = await _registered(karlis, stack, client, karlis_api, tmp_path)
        ilze = await new_page(new_context, stack, "en")
        await _approved_by_the_agency(ilze, stack, institution_id)
        location_id = await _located_and_staffed(karlis, stack, client, karlis_api, institution_id)

        programmes = await story.programmes(client, karlis_api, institution_id, location_id)
        await story.publish_history(stack, institution_id, programmes)
        await go(karlis, stack, "/institution/programmes")
        await expect(karlis.locator("main")).to_contain_text(LICENCES[TAUGHT]["title"]["en"])
        await in_both_languages(karlis, stack, "programmes")

        offer_id = await _offered(karlis, stack, client, karlis_api, programmes, tmp_path)

        story.restart_calls(stack, story.EVALUATION, timeout=90)
        martins = await new_page(new_context, stack, "en")
        await sign_in(martins, stack, "martins", then="/agency/calls")
        await expect(martins.locator(f'a[href="/agency/calls/{call["id"]}"]')).to_have_text("IMK-4")
        await in_both_languages(martins, stack, "agency-calls")
        await go(martins, stack, f"/agency/calls/{call['id']}")
        await expect(martins.locator("main")).to_contain_text(INSTITUTION_NAME)
        await in_both_languages(martins, stack, "agency-call")
        await _evaluated_with_a_clarification(martins, ilze, karlis, stack, offer_id)

        story.restart_calls(stack, story.DECISION, timeout=90)
        await _approved_and_signed(martins, ilze, stack, offer_id, tmp_path)
        await _decision_seen(karlis, stack, offer_id, tmp_path / "ligums.edoc")
        await _in_the_public_catalogue(await new_page(new_context, stack, "lv"), stack, programmes)

        taught = programmes[TAUGHT]
        group_id = await _group_from_today(karlis, stack, taught)
        # the seed's answers (of a past group) take a while: replayed while Anna enrols and Sandra records
        replay = asyncio.create_task(web.seed_answers(client, martins_api, institution_id, taught["id"], PAST_GROUP))
        anna_api, _ = await login(client, "anna")
        application_id = await web.applied(client, anna_api)
        await _application_approved(ilze, stack, application_id)
        enrolment_id = await web.enrolled(client, anna_api, application_id, group_id)

        sandra = await new_page(new_context, stack, "en")
        await _studies_recorded(sandra, stack, group_id, enrolment_id, taught)
        await replay
        await _survey_results(karlis, stack, taught)


# --------------------------------------------------------------------------- registration and approval


async def _registered(
    page: Page, stack: Stack, client: httpx.AsyncClient, karlis_api: dict[str, str], tmp_path: Path
) -> str:
    """Kārlis registers the institution with his signed statement; it waits for the agency. Its id."""
    await sign_in(page, stack, "karlis", then="/institution")
    await in_both_languages(page, stack, "institution-none")
    await go(page, stack, "/institution/registration")
    await in_both_languages(page, stack, "registration")
    name, address = samples.registration_payload("", samples.GOOD_REGISTER_NUMBER)["name"], "Brīvības iela 100, Rīga"
    await page.get_by_label("Name of the institution").fill(str(name))
    await page.get_by_label("Register number").fill(samples.GOOD_REGISTER_NUMBER)
    await page.get_by_label("Legal address").fill(f"{address}, LV-1001")
    await page.get_by_label("Your name").fill("Kārlis Bērziņš")
    await page.get_by_label("Your e-mail address").fill("karlis.berzins@example.lv")
    statement = tmp_path / "apliecinajums.pdf"
    statement.write_bytes(samples.pades_pdf())
    await page.get_by_label("Signed statement").set_input_files(statement)
    await page.get_by_role("button", name="Register").click()
    await at(page, stack, "/institution")
    await expect(page.locator("main")).to_contain_text(INSTITUTION_NAME)
    await in_both_languages(page, stack, "institution-registered")
    mine = ok(await client.get(f"{CATALOG}/providers/me", headers=karlis_api))
    assert mine["institution"]["status"] == "pending", mine
    return str(mine["institution"]["id"])


async def _approved_by_the_agency(page: Page, stack: Stack, institution_id: str) -> None:
    """Ilze finds the registration waiting, with the register's and the signature's checks, and approves it after the
    confirmation page."""
    await sign_in(page, stack, "ilze", then="/agency/registrations")
    one = f"/agency/registrations/{institution_id}"
    await expect(page.locator(f'main a[href="{one}"]')).to_have_text(INSTITUTION_NAME)
    await in_both_languages(page, stack, "agency-registrations")
    await page.locator(f'main a[href="{one}"]').click()
    await at(page, stack, one)
    await expect(page.locator("main")).to_contain_text(samples.GOOD_REGISTER_NUMBER)
    await in_both_languages(page, stack, "agency-registration")
    await page.get_by_role("link", name="Approve the registration").click()
    await at(page, stack, f"{one}/approve")
    await in_both_languages(page, stack, "agency-registration-approve")
    await page.get_by_role("button", name="Yes, approve it").click()
    await at(page, stack, one)
    await expect(page.locator(".govuk-notification-banner")).to_be_visible()
    await in_both_languages(page, stack, "agency-registration-approved")


async def _located_and_staffed(
    page: Page, stack: Stack, client: httpx.AsyncClient, karlis_api: dict[str, str], institution_id: str
) -> str:
    """Kārlis, the administrator now, adds the institution's Rīga location and invites Sandra as staff. The
    location's id."""
    await go(page, stack, "/institution")
    await in_both_languages(page, stack, "institution-approved")
    await go(page, stack, "/institution/locations")
    await page.get_by_label("Address").fill("Brīvības iela 100, Rīga, LV-1001")
    await page.get_by_role("button", name="Add the location").click()
    await at(page, stack, "/institution/locations")
    await expect(page.locator("main")).to_contain_text("Brīvības iela 100")
    await in_both_languages(page, stack, "locations")
    await go(page, stack, "/institution/users")
    await page.get_by_label("User name or e-mail address").fill("sandra")
    await page.get_by_role("button", name="Invite").click()
    await at(page, stack, "/institution/users")
    await expect(page.locator("main")).to_contain_text("Sandra")
    await in_both_languages(page, stack, "users")
    (location,) = ok(await client.get(f"{CATALOG}/providers/{institution_id}/locations", headers=karlis_api))
    return str(location["id"])


# --------------------------------------------------------------------------- the offer


async def _offered(
    page: Page,
    stack: Stack,
    client: httpx.AsyncClient,
    karlis_api: dict[str, str],
    programmes: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> str:
    """Kārlis starts the offer to IMK-4 and fills its three steps with P-2001's hours split other than its licence's,
    uploads its documents; the checks name that programme's hours split and the step to fix it; fixed, he submits.
    The offer's id."""
    await _calls_knows_the_programmes(client, karlis_api, programmes)
    await go(page, stack, "/institution/offers")
    await expect(page.locator("main")).to_contain_text("IMK-4")
    await in_both_languages(page, stack, "offers")
    await page.get_by_role("button", name=re.compile("Start an offer")).click()  # calls' clock says it is open
    await expect(page).to_have_url(re.compile(r"/institution/offers/[0-9a-f-]{36}/locations$"))
    offer_id = page.url.rsplit("/", 2)[-2]
    offer = f"/institution/offers/{offer_id}"
    await go(page, stack, offer)
    await in_both_languages(page, stack, "offer-draft")
    await go(page, stack, f"{offer}/locations")
    await in_both_languages(page, stack, "offer-locations")
    await page.get_by_label(re.compile("Brīvības iela 100")).check()
    await page.get_by_role("button", name="Save and continue").click()

    await at(page, stack, f"{offer}/programmes")
    await in_both_languages(page, stack, "offer-programmes")
    await _step_2(page, programmes, {"P-2001": (50, 70)})  # P-2001 is licensed as 40 h theory / 80 h practice

    await at(page, stack, f"{offer}/terms")
    await in_both_languages(page, stack, "offer-terms")
    await _documents(page, stack, offer, programmes, tmp_path)
    await page.get_by_label("The call's funding project IMK").check()
    for programme in programmes.values():
        await page.get_by_role("checkbox", name=programme["title"]["en"], exact=True).check()
    for statement in (
        "The information given in the offer is true and complete",
        "The programmes are not funded twice for the same learners",
        "The institution accepts the terms of the call",
    ):
        await page.get_by_label(statement).check()
    await page.get_by_role("button", name="Save and continue").click()
    await at(page, stack, f"{offer}/check")

    await story.checked_with_the_history(stack, client, karlis_api, f"{CALLS}/offers/{offer_id}")
    await page.reload()
    problem = page.locator("#problems .app-offer-problem")
    await expect(problem).to_have_count(1)
    await expect(problem).to_have_attribute("data-rule", "hours_split")
    await expect(problem).to_contain_text("40 h theory / 80 h practice")
    await expect(page.get_by_role("button", name="Submit the offer")).to_have_count(0)
    await in_both_languages(page, stack, "offer-check-failing")

    await problem.get_by_role("link").click()
    await at(page, stack, f"{offer}/programmes")
    await _step_2(page, programmes, {"P-2001": (40, 80)}, tick=False)
    await at(page, stack, f"{offer}/terms")
    await page.get_by_role("button", name="Save and continue").click()
    await at(page, stack, f"{offer}/check")
    await expect(page.locator("#no-problems")).to_be_visible()
    await in_both_languages(page, stack, "offer-check-passed")
    await page.get_by_role("button", name="Submit the offer").click()
    await at(page, stack, offer)
    await expect(page.locator("#state")).to_contain_text("Submitted")
    await in_both_languages(page, stack, "offer-submitted")
    return offer_id


async def _calls_knows_the_programmes(
    client: httpx.AsyncClient, karlis_api: dict[str, str], programmes: dict[str, dict[str, Any]]
) -> None:
    """Until calls has applied catalog's events (the approval, the programmes): step 2 lists what calls knows."""
    ids = {p["id"] for p in programmes.values()}

    async def known() -> bool | None:
        answer = await client.get(f"{CALLS}/institutions/me/programmes", headers=karlis_api)
        return True if answer.status_code == 200 and {p["programme_id"] for p in answer.json()} == ids else None

    await web.until(known, "calls to learn the institution's programmes")


async def _step_2(
    page: Page, programmes: dict[str, dict[str, Any]], hours: dict[str, tuple[int, int]], tick: bool = True
) -> None:
    """Step 2: every programme ticked, delivered at the one location, for Windows and Linux (filled in from the
    catalogue), with the hours given here; saved and continued."""
    for licence, programme in programmes.items():
        pid = programme["id"]
        if tick:
            await page.locator(f"#include-{pid}").check()
            await page.locator(f"#viis-{pid}-1").check()
            for system in ("windows", "linux"):
                await page.locator(f"#os-{pid}-{system}").check()
        if licence in hours:
            theory, practice = hours[licence]
            await page.locator(f"#theory-hours-{pid}").fill(str(theory))
            await page.locator(f"#practice-hours-{pid}").fill(str(practice))
    await page.get_by_role("button", name="Save and continue").click()


async def _documents(
    page: Page, stack: Stack, offer: str, programmes: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Step 3's documents, one upload at a time: the application, the experience statement, the signed statement
    and each programme's curriculum."""
    uploads: list[tuple[str, str | None, str, bytes]] = [
        ("Application (annex 2)", None, "pieteikums.pdf", samples.plain_pdf("Pieteikums")),
        ("Experience statement (annex 3)", None, "pieredze.pdf", samples.plain_pdf("Pieredze")),
        (
            "Statement signed with a qualified electronic signature and a time stamp",
            None,
            "apliecinajums.pdf",
            samples.pades_pdf(),
        ),
        *(
            ("Licensed curriculum of a programme", p["id"], f"{p['licence_number']}.pdf", samples.plain_pdf(licence))
            for licence, p in programmes.items()
        ),
    ]
    for kind, programme_id, filename, content in uploads:
        document = tmp_path / filename
        document.write_bytes(content)
        await page.get_by_label(kind, exact=True).check()
        if programme_id:
            await page.get_by_label("For a curriculum: its programme").select_option(programme_id)
        await page.get_by_label("File", exact=True).set_input_files(document)
        await page.get_by_role("button", name="Upload the document").click()
        await at(page, stack, f"{offer}/terms")
        await expect(page.locator("main")).to_contain_text(filename)
    await in_both_languages(page, stack, "offer-documents")


# --------------------------------------------------------------------------- evaluation, decision, agreement


async def _evaluated_with_a_clarification(martins: Page, ilze: Page, karlis: Page, stack: Stack, offer_id: str) -> None:
    """Mārtiņš assigns Ilze; she records a finding and asks a clarification; Kārlis answers it; she records the
    rest."""
    workspace = f"/agency/offers/{offer_id}"
    await go(martins, stack, workspace)
    await martins.locator("#username").fill("ilze")
    await martins.locator('form[action$="/evaluator"] button[type="submit"]').click()
    await expect(martins.locator("#evaluator-name")).to_contain_text("Ilze")
    await in_both_languages(martins, stack, "workspace-assigned")

    await go(ilze, stack, workspace)
    await ilze.locator("#result-I1-meets").check()
    await ilze.locator('form[action$="/findings"] button[type="submit"]').click()
    await expect(ilze.locator("#result-I1-meets")).to_be_checked()
    await ilze.locator("#criteria-P1").check()
    await ilze.locator("#question").fill(QUESTION)
    await ilze.locator('form[action$="/clarifications"] button[type="submit"]').click()
    await expect(ilze.locator(".app-clarification")).to_contain_text(QUESTION)
    await in_both_languages(ilze, stack, "workspace-clarification")

    await _answered(karlis, stack, offer_id)

    await ilze.reload()
    await expect(ilze.locator(".app-clarification")).to_contain_text(ANSWER)
    for code in story.CRITERIA:
        await ilze.locator(f"#result-{code}-meets").check()
    await ilze.locator('form[action$="/findings"] button[type="submit"]').click()
    await expect(ilze.locator(f"#result-{story.CRITERIA[-1]}-meets")).to_be_checked()
    await in_both_languages(ilze, stack, "workspace-evaluated")


async def _answered(page: Page, stack: Stack, offer_id: str) -> None:
    """Kārlis answers the clarification on his offer's page."""
    await go(page, stack, f"/institution/offers/{offer_id}")
    await expect(page.locator("#clarifications ~ .app-offer-clarification").first).to_contain_text(QUESTION)
    await in_both_languages(page, stack, "offer-clarification")
    await page.get_by_label("Your answer").fill(ANSWER)
    await page.get_by_role("button", name="Send the answer").click()
    await at(page, stack, f"/institution/offers/{offer_id}")
    await expect(page.locator("main")).to_contain_text(ANSWER)
    await in_both_languages(page, stack, "offer-answered")


async def _approved_and_signed(martins: Page, ilze: Page, stack: Stack, offer_id: str, tmp_path: Path) -> None:
    """Ilze, the evaluator, is offered no decision (four eyes); Mārtiņš approves after the confirmation page, records
    the agreement and uploads its signed document."""
    workspace = f"/agency/offers/{offer_id}"
    await go(ilze, stack, f"{workspace}/decision")
    await expect(ilze.locator("#four-eyes")).to_be_visible()
    await expect(ilze.locator('input[name="outcome"]')).to_have_count(0)
    await in_both_languages(ilze, stack, "decision-four-eyes")

    await go(martins, stack, f"{workspace}/decision")
    await in_both_languages(martins, stack, "decision")
    for language in ("lv", "en"):  # the confirmation page (a POST's answer) in each language; confirmed in English
        await martins.goto(f"{stack.web_url}/language?to={language}&back={workspace}/decision")
        await martins.locator("#outcome-approved").check()
        await martins.locator('form[action$="/decision"] button[type="submit"]').first.click()
        await expect(martins.locator("#decision-summary")).to_be_visible()
        await checked(martins, f"story-decision-confirm-{language}")
    await martins.locator('button[name="confirmed"][value="yes"]').click()
    await expect(martins.locator("#decision-outcome")).to_contain_text("Approved")
    await in_both_languages(martins, stack, "decision-approved")

    await go(martins, stack, f"{workspace}/agreement")
    await in_both_languages(martins, stack, "agreement-new")
    for name, value in AGREEMENT.items():
        await martins.locator(f"#{name.replace('_', '-')}").fill(value)
    await martins.locator(f'form[action$="{offer_id}/agreement"] button[type="submit"]').click()
    signed = tmp_path / "ligums.edoc"
    signed.write_bytes(samples.asice_container())
    await martins.locator("#file").set_input_files(signed)
    await martins.locator('form[action$="/agreement/signature"] button[type="submit"]').click()
    await expect(martins.locator(f'a[href="{workspace}/agreement/document"]')).to_be_visible()
    await in_both_languages(martins, stack, "agreement-signed")


async def _decision_seen(page: Page, stack: Stack, offer_id: str, signed: Path) -> None:
    """Kārlis reads the decision and downloads the signed agreement on his offer's page."""
    offer = f"/institution/offers/{offer_id}"
    await go(page, stack, offer)
    await expect(page.locator("#state")).to_contain_text("Approved")
    document = page.locator(f'a[href="{offer}/agreement/document"]')
    await expect(document).to_be_visible()
    await in_both_languages(page, stack, "offer-approved")
    downloaded = await page.request.get(f"{stack.web_url}{offer}/agreement/document")
    assert downloaded.status == 200 and await downloaded.body() == await asyncio.to_thread(signed.read_bytes)


async def _in_the_public_catalogue(page: Page, stack: Stack, programmes: dict[str, dict[str, Any]]) -> None:
    """Each programme is found in the public catalogue (once catalog has applied the signed agreement)."""
    for licence in programmes:
        title = LICENCES[licence]["title"]["lv"]

        async def listed(title: str = title) -> bool | None:
            await page.goto(f"{stack.web_url}/catalogue?{urlencode({'q': title})}")
            return True if await page.locator("main").get_by_text(title).count() else None

        await web.until(listed, f"{licence} in the public catalogue")
    await expect(page.locator("main")).to_contain_text(INSTITUTION_NAME)
    await in_both_languages(page, stack, "catalogue")


# --------------------------------------------------------------------------- teaching and survey results


async def _group_from_today(page: Page, stack: Stack, programme: dict[str, Any]) -> str:
    """Kārlis schedules a group of the published programme from today. Its id."""
    await go(page, stack, f"/institution/programmes/{programme['id']}")
    await in_both_languages(page, stack, "programme-published")
    await go(page, stack, f"/institution/programmes/{programme['id']}/groups/new")
    await in_both_languages(page, stack, "group-new")
    start = web.today()
    await page.get_by_label("Place", exact=True).select_option(label="Brīvības iela 100, Rīga, LV-1001")
    await page.get_by_label("Start date", exact=True).fill(start.isoformat())
    await page.get_by_label("End date", exact=True).fill((start + timedelta(days=30)).isoformat())
    await page.get_by_label("Schedule", exact=True).fill("Otrdienās un ceturtdienās 18:00–21:00")
    await page.get_by_label("Places", exact=True).fill("12")
    await page.get_by_label("Language of studies", exact=True).select_option("lv")
    await page.get_by_label("Entry level", exact=True).select_option("3")
    await page.get_by_role("button", name="Schedule the group").click()
    await expect(page).to_have_url(re.compile(r"/institution/groups/[0-9a-f-]{36}"))
    await in_both_languages(page, stack, "group")
    return page.url.split("/institution/groups/")[1].split("?")[0]


async def _application_approved(page: Page, stack: Stack, application_id: str) -> None:
    """Ilze approves Anna's application in the agency's pages, after the confirmation page."""
    await go(page, stack, "/agency/applications")
    await in_both_languages(page, stack, "agency-applications")
    one = f"/agency/applications/{application_id}"
    await go(page, stack, one)
    await in_both_languages(page, stack, "agency-application")
    await page.get_by_role("link", name="Approve", exact=True).click()
    await at(page, stack, f"{one}/approve")
    await in_both_languages(page, stack, "agency-application-approve")
    await page.get_by_role("button", name="Yes, approve it").click()
    await at(page, stack, one)
    await expect(page.locator(".govuk-notification-banner")).to_be_visible()
    await in_both_languages(page, stack, "agency-application-approved")


async def _studies_recorded(
    page: Page, stack: Stack, group_id: str, enrolment_id: str, programme: dict[str, Any]
) -> None:
    """Sandra, staff now, finds Anna in the group's enrolments and records her start and completion today."""
    await sign_in(page, stack, "sandra", then=f"/institution/enrolments?group={group_id}")
    record = f"/institution/enrolments/{enrolment_id}"
    await expect(page.locator(f'a[href="{record}"]')).to_be_visible()
    await in_both_languages(page, stack, "enrolments")
    await page.locator(f'a[href="{record}"]').click()
    await at(page, stack, record)
    await in_both_languages(page, stack, "record")
    today = web.today().isoformat()
    await _confirmed(page, stack, record, "start", {"#started-on": today})
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The start of the studies is recorded.")
    await in_both_languages(page, stack, "record-started")
    hours = str(programme["total_hours"])
    await _confirmed(
        page, stack, record, "completion", {"#completed-on": today, "#hours-attended": hours, "#result": "passed"}
    )
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("The completion is recorded.")
    await expect(page.locator("main dl")).to_contain_text("Completed")
    await in_both_languages(page, stack, "record-completed")


async def _confirmed(page: Page, stack: Stack, record: str, step: str, fields: dict[str, str]) -> None:
    """A step of the study record: its form filled and sent to its confirmation page, photographed in Latvian (then
    cancelled) and in English, where it is confirmed."""
    for language in ("lv", "en"):
        await page.goto(f"{stack.web_url}/language?to={language}&back={record}")
        for selector, value in fields.items():
            await page.locator(selector).fill(value)
        await page.locator(f'form[action$="/{step}"] button[type="submit"]').click()
        await expect(page.locator('input[name="confirmed"]')).to_have_count(1)
        await checked(page, f"story-confirm-{step}-{language}")
    await page.locator(f'form[action$="/{step}"] button[type="submit"]').click()
    await at(page, stack, record)


async def _survey_results(page: Page, stack: Stack, programme: dict[str, Any]) -> None:
    """Kārlis reads the institution's survey results with both charts, then the programme's."""
    await go(page, stack, "/institution/survey-results")
    for table in ("#results-counts", "#stars-table", "#reasons-table"):
        await expect(page.locator(table)).to_be_visible()
    for chart in ("stars", "reasons"):
        await web.image_loaded(page, f'img[src$="/charts/{chart}.svg"]')
    await in_both_languages(page, stack, "survey-results")
    await page.locator("#per-programme").get_by_role("link", name=programme["title"]["en"]).click()
    await at(page, stack, f"/institution/survey-results/programmes/{programme['id']}")
    await web.image_loaded(page, 'img[src$="/charts/stars.svg"]')
    await in_both_languages(page, stack, "survey-results-programme")
