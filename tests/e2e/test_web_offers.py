"""An education institution's offer to a call in a real browser, against the whole platform of `web_stack`.

Set up through the API: Mārtiņš opens a call of the agency's own, WEB-OFFERS, whose offer window is open now (on
real time: it opened yesterday and closes in ten days at 23:59 Riga time); the demo institution (Līga's, approved)
has a licensed programme calls knows (P-2001 or P-3003, registered in catalog here unless it is). In the browser
Līga sees the call with its deadline in Riga time and the time left, starts the offer, fills the three steps (the
location, the programme as catalog has it, funding and two of the three statements, and the four documents
uploaded in the page), and sees the checks name the unconfirmed statement with a link to step 3; she confirms it,
the checks find nothing, she submits and sees the overview. She withdraws it through the confirmation page and
submits it again as version 2. Kārlis, of another institution, gets a "not found" page for the offer. axe-core and
a screenshot of every page in Latvian and English."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import Stack
from prasmes_runtime.clock import RIGA
from prasmes_testing import samples
from prasmes_testing.browser import ContextFactory

from tests.e2e.story_support import LICENCES
from tests.e2e.web_support import api_headers, checked, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
CALLS, CATALOG = "/api/calls", "/api/catalog"
CODE = "WEB-OFFERS"
T = TypeVar("T")


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def _until(found: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value is not None:
            return value
        time.sleep(0.5)
    raise AssertionError(f"waited {timeout} s for {what}")


def _open_call(client: httpx.Client, martins: dict[str, str]) -> dict[str, Any]:
    """WEB-OFFERS, its window open now: opened yesterday 09:00, closing in ten days at 23:59 (Riga time)."""
    listed = _ok(client.get(f"{CALLS}/calls", params={"limit": 100}, headers=martins))["items"]
    existing = next((c for c in listed if c["code"] == CODE), None)
    if existing is not None:
        return dict(existing)
    today = datetime.now(RIGA).date()

    def day(n: int) -> str:
        return (today + timedelta(days=n)).isoformat()

    timeline = {"applications_open_on": day(-30), "applications_close_on": day(60),
                "offers_open_at": f"{day(-1)}T09:00", "offers_deadline_at": f"{day(10)}T23:59",
                "evaluation_starts_on": day(11), "evaluation_ends_on": day(20), "decision_on": day(25),
                "agreements_from": day(25), "publication_from": day(25), "delivery_ends_on": day(200)}  # fmt: skip
    body = {
        "code": CODE,
        "title": {"lv": "Piedāvājumu lapu uzaicinājums", "en": "The offer pages' call"},
        "project_code": "IMK",
        "timeline": timeline,
        "max_programmes_per_institution": 3,
        "institution_criteria": [{"code": "I1", "rule": "accredited", "params": {}}],
        "programme_criteria": [
            {"code": "P1", "rule": "licensed", "params": {}},
            {"code": "P2", "rule": "programme_kind", "params": {"kind": "professional_development"}},
        ],
    }
    return dict(_ok(client.post(f"{CALLS}/calls", json=body, headers=martins), 201))


def _programme(client: httpx.Client, liga: dict[str, str]) -> dict[str, Any]:
    """A licensed programme of the demo institution (P-2001 or P-3003), registered here unless it is, once calls
    knows it from catalog."""
    institution = _ok(client.get(f"{CATALOG}/providers/me", headers=liga))["institution"]
    base = f"{CATALOG}/providers/{institution['id']}"
    mine = {p["licence_number"]: p for p in _ok(client.get(f"{base}/programmes", headers=liga))}
    found = next((mine[licence] for licence in ("P-2001", "P-3003") if licence in mine), None)
    if found is None:
        location = _ok(client.get(f"{base}/locations", headers=liga))[0]["id"]
        uploaded = client.post(
            f"{CATALOG}/documents",
            params={"purpose": "curriculum", "filename": "P-2001.pdf"},
            content=samples.plain_pdf("P-2001 macibu plans"),
            headers={**liga, "Content-Type": "application/pdf"},
        )
        form = samples.programme_payload([location], _ok(uploaded, 201)["id"], licence_number="P-2001",
                                         **LICENCES["P-2001"])  # fmt: skip
        found = _ok(client.post(f"{base}/programmes", json=form, headers=liga), 201)
    programme = dict(found)
    _until(
        lambda: (
            programme["id"]
            in {p["programme_id"] for p in _ok(client.get(f"{CALLS}/institutions/me/programmes", headers=liga))}
            or None
        ),
        "calls to learn the programme from catalog",
    )
    return programme


async def _both(page: Page, stack: Stack, name: str) -> None:
    """The page as it is in Latvian and in English (by the switch every page has), each checked and photographed;
    the page is left in English."""
    path = quote(page.url.removeprefix(stack.web_url), safe="/")
    for language in ("lv", "en"):
        await page.goto(f"{stack.web_url}/language?to={language}&back={path}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await checked(page, f"offers-{name}-{language}")


async def _upload(page: Page, kind: str, name: str, content: bytes, programme_id: str = "") -> None:
    form = page.locator("form#upload")
    await form.locator(f'input[name="kind"][value="{kind}"]').check()
    if programme_id:
        await form.locator('select[name="programme_id"]').select_option(programme_id)
    await form.locator('input[type="file"]').set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": content}
    )
    await form.locator('button[type="submit"]').click()
    await expect(page.locator(".govuk-notification-banner--success")).to_be_visible()


async def test_an_offer_is_filled_in_three_steps_checked_fixed_submitted_withdrawn_and_submitted_again(
    web_stack: Stack, new_context: ContextFactory
) -> None:
    with httpx.Client(base_url=web_stack.gateway_url, timeout=30) as client:
        liga, martins = api_headers(web_stack, "liga"), api_headers(web_stack, "martins")
        call = _open_call(client, martins)
        programme = _programme(client, liga)
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "liga", then="/institution/offers")
    row = page.locator(f"#call-{call['id']}")
    await expect(row).to_contain_text(CODE)
    await expect(row).to_contain_text("23:59")  # the deadline minute, in Riga time
    await expect(row.locator("[data-time-left]")).to_contain_text(re.compile(r"(10|11) days and \d+ hours? left"))
    await _both(page, web_stack, "list")
    await expect(row.locator("[data-time-left]")).to_contain_text("left")
    await row.get_by_role("button", name=re.compile("Start an offer")).click()

    await expect(page).to_have_url(re.compile(r"/institution/offers/[0-9a-f-]+/locations$"))
    offer_id = page.url.rsplit("/", 2)[-2]
    await _both(page, web_stack, "step-1")
    await page.locator('input[name="viis_id"][value="VIIS-100101"]').check()
    await page.get_by_role("button", name="Save and continue").click()

    await expect(page).to_have_url(re.compile(r"/programmes$"))
    pid = programme["id"]
    await _both(page, web_stack, "step-2")
    await page.locator(f"#include-{pid}").check()
    await page.locator(f'input[name="viis-{pid}"][value="VIIS-100101"]').check()
    await expect(page.locator(f"#theory-hours-{pid}")).to_have_value(str(programme["theory_hours"]))
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page).to_have_url(re.compile(r"/terms$"))
    await _upload(page, "application", "pieteikums.pdf", samples.plain_pdf("Pieteikums"))
    await _upload(page, "experience", "pieredze.pdf", samples.plain_pdf("Pieredze"))
    await _upload(page, "signed_statement", "apliecinajums.pdf", samples.pades_pdf())
    await _upload(page, "curriculum", "macibu-plans.pdf", samples.plain_pdf(programme["licence_number"]), pid)
    await expect(page.locator("#attachment-list tbody tr")).to_have_count(4)
    await page.locator("#attachment-list tbody tr").first.get_by_role("link", name=re.compile("Remove")).click()
    await expect(page.locator("h1")).to_contain_text("Take the document out of the offer?")
    await _both(page, web_stack, "remove-document")
    await page.get_by_role("link", name="No, keep it").click()
    await expect(page.locator("#attachment-list tbody tr")).to_have_count(4)
    await page.locator('input[name="funding_source"][value="IMK"]').check()
    await page.locator(f'input[name="programme_ids"][value="{pid}"]').check()
    await page.locator("#statement-data-true").check()
    await page.locator("#statement-no-double-funding").check()  # the call's terms are left unconfirmed
    await _both(page, web_stack, "step-3")
    await page.locator('input[name="funding_source"][value="IMK"]').check()
    await page.locator(f'input[name="programme_ids"][value="{pid}"]').check()
    await page.locator("#statement-data-true").check()
    await page.locator("#statement-no-double-funding").check()
    await page.get_by_role("button", name="Save and continue").click()

    await expect(page).to_have_url(re.compile(r"/check$"))
    problem = page.locator('tr.app-offer-problem[data-field="terms.statements.call_terms_accepted"]')
    await expect(problem).to_contain_text("Confirm this statement")
    await expect(problem).to_contain_text("confirmed")  # its rule
    await expect(page.locator("tr.app-offer-problem")).to_have_count(1)
    await expect(page.locator(f'form[action$="/{offer_id}/submit"]')).to_have_count(0)
    await _both(page, web_stack, "check-failing")
    await page.locator('tr.app-offer-problem a[href$="/terms"]').click()

    await expect(page).to_have_url(re.compile(r"/terms$"))
    await expect(page.locator("#statement-data-true")).to_be_checked()  # the draft was saved
    await page.locator("#statement-call-terms-accepted").check()
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.locator("#no-problems")).to_contain_text("No problems found")
    await _both(page, web_stack, "check-passing")
    await page.get_by_role("button", name="Submit the offer").click()

    await expect(page).to_have_url(re.compile(rf"/institution/offers/{offer_id}\?submitted=1$"))
    await expect(page.locator("#state")).to_contain_text("Submitted")
    await expect(page.locator("#deadline")).to_contain_text("23:59")
    await expect(page.locator("#versions tbody tr")).to_have_count(1)
    await _both(page, web_stack, "overview-submitted")

    await page.get_by_role("link", name="Withdraw the offer").click()
    await expect(page.locator("h1")).to_contain_text("Withdraw the offer?")
    await _both(page, web_stack, "withdraw")
    await page.get_by_role("button", name="Yes, withdraw the offer").click()
    await expect(page.locator("#state")).to_contain_text("Withdrawn")
    await page.get_by_role("link", name="Check and submit again").click()
    await page.get_by_role("button", name="Submit the offer again").click()
    await expect(page.locator("#state")).to_contain_text("Submitted")
    await expect(page.locator("#versions tbody tr")).to_have_count(2)

    with httpx.Client(base_url=web_stack.gateway_url, timeout=30) as client:
        offer = _ok(client.get(f"{CALLS}/offers/{offer_id}", headers=api_headers(web_stack, "liga")))
    assert (offer["state"], offer["version"]) == ("submitted", 2)
    await _another_institutions_user_cannot_see_it(web_stack, new_context, offer_id)


async def _another_institutions_user_cannot_see_it(stack: Stack, new_context: ContextFactory, offer_id: str) -> None:
    page = await new_page(new_context, stack, "en")
    await sign_in(page, stack, "karlis", then="/institution/offers")
    for path in ("", "/check", "/terms"):
        answer = await page.goto(f"{stack.web_url}/institution/offers/{offer_id}{path}")
        assert answer is not None and answer.status == 404, path
    await checked(page, "offers-another-institution-en")
