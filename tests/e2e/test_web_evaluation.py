"""The agency's evaluation of an offer in a real browser, against the whole platform of `web_stack`, to the
programme in the public catalogue.

Set up through the API: the demo institution (Līga's, approved) registers a licensed programme of its own in
catalog (P-3003, else P-2001: whichever it has not offered yet); Mārtiņš opens a call of the agency's own, WEB-EVAL,
whose timeline lies in this year's autumn; calls runs on a clock set inside its offer window (`CLOCK_START`, as
test_fourth_call moves it), and Līga drafts, checks and submits the offer with its signed documents. Calls is
restarted into the evaluation period: in the browser Mārtiņš assigns Ilze by her user name; Ilze records a finding
and asks a clarification; Līga answers it through the API; Ilze completes the findings and is refused the decision
(four eyes: the page says so and offers no form). Calls is restarted into the agreements phase: Mārtiņš approves
after the confirmation page, records the agreement and uploads its signed ASiC-E document, and the programme is in
the public catalogue page. Every page is checked by axe-core and photographed in Latvian and English; an
institution's user is refused the agency's pages. Calls goes back to real time at the end of the module."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect
from prasmes_devtools.devstack import Stack
from prasmes_testing import samples
from prasmes_testing.browser import ContextFactory

from tests.e2e.story_support import LICENCES, STATEMENTS, offered
from tests.e2e.web_support import api_headers, checked, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
RIGA = ZoneInfo("Europe/Riga")
CALLS, CATALOG = "/api/calls", "/api/catalog"
CODE = "WEB-EVAL"
TIMELINE = {
    "applications_open_on": "2026-08-03",
    "applications_close_on": "2026-12-31",
    "offers_open_at": "2026-09-01T09:00",
    "offers_deadline_at": "2026-09-15T23:59",
    "evaluation_starts_on": "2026-09-16",
    "evaluation_ends_on": "2026-09-30",
    "decision_on": "2026-10-05",
    "agreements_from": "2026-10-05",
    "publication_from": "2026-10-05",
    "delivery_ends_on": "2027-06-30",
}
OFFER_WINDOW = datetime(2026, 9, 10, 10, 0, tzinfo=RIGA)
EVALUATION = datetime(2026, 9, 16, 9, 0, tzinfo=RIGA)
AGREEMENTS = datetime(2026, 10, 6, 9, 0, tzinfo=RIGA)
CRITERIA = ["I1", "I2", "P1", "P2"]
QUESTION = "Lūdzu, precizējiet, kurā mācību klasē notiks praktiskās nodarbības."
ANSWER = "Brīvības ielā 100, 2. stāva datorklasē ar 16 darba vietām."
T = TypeVar("T")


@pytest.fixture(scope="module")
def evaluation(web_stack: Stack, demo_programme: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The submitted offer, with calls restarted into the evaluation period; calls back on real time afterwards.
    `demo_programme` (the session's one published programme) is found first: this module publishes another."""
    try:
        _restart_calls(web_stack, OFFER_WINDOW)
        with httpx.Client(base_url=web_stack.gateway_url, timeout=30) as client:
            liga, martins = api_headers(web_stack, "liga"), api_headers(web_stack, "martins")
            programme = _programme(client, liga)
            call_id = _call(client, martins)
            offer_id = _submitted_offer(client, liga, call_id, programme)
        _restart_calls(web_stack, EVALUATION)
        yield {"call_id": call_id, "offer_id": offer_id, "programme": programme}
    finally:
        _restart_calls(web_stack, None)


def _restart_calls(stack: Stack, at: datetime | None) -> None:
    """Calls alone on a clock that starts at `at` (None: real time again); the other services keep running."""
    stack.stop_service("calls")
    stack.service_env["calls"] = {} if at is None else {"CLOCK_START": at.isoformat()}
    stack.start_service("calls")
    stack.wait_ready("calls", 90)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def _programme(client: httpx.Client, liga: dict[str, str]) -> dict[str, Any]:
    """A licensed draft programme of the demo institution no call has taken yet (registered here unless it is)."""
    institution = _ok(client.get(f"{CATALOG}/providers/me", headers=liga))["institution"]
    base = f"{CATALOG}/providers/{institution['id']}"
    mine = {p["licence_number"]: p for p in _ok(client.get(f"{base}/programmes", headers=liga))}
    for licence in ("P-3003", "P-2001"):
        if licence in mine:
            if mine[licence]["status"] == "draft" and not mine[licence].get("call_id"):
                return dict(mine[licence])
            continue
        location = _ok(client.get(f"{base}/locations", headers=liga))[0]["id"]
        uploaded = client.post(
            f"{CATALOG}/documents",
            params={"purpose": "curriculum", "filename": f"{licence}.pdf"},
            content=samples.plain_pdf(f"{licence} macibu plans"),
            headers={**liga, "Content-Type": "application/pdf"},
        )
        form = samples.programme_payload(
            [location], _ok(uploaded, 201)["id"], licence_number=licence, **LICENCES[licence]
        )
        return dict(_ok(client.post(f"{base}/programmes", json=form, headers=liga), 201))
    raise AssertionError("the demo institution has no licensed programme left to offer")


def _call(client: httpx.Client, martins: dict[str, str]) -> str:
    body = {
        "code": CODE,
        "title": {"lv": "Tīmekļa lapu vērtēšanas uzaicinājums", "en": "The web pages' evaluation call"},
        "project_code": "IMK",
        "timeline": TIMELINE,
        "max_programmes_per_institution": 3,
        "institution_criteria": [
            {"code": "I1", "rule": "accredited", "params": {}},
            {"code": "I2", "rule": "registered_years", "params": {"years": 3}},
        ],
        "programme_criteria": [
            {"code": "P1", "rule": "licensed", "params": {}},
            {"code": "P2", "rule": "programme_kind", "params": {"kind": "professional_development"}},
        ],
    }
    return str(_ok(client.post(f"{CALLS}/calls", json=body, headers=martins), 201)["id"])


def _submitted_offer(client: httpx.Client, liga: dict[str, str], call_id: str, programme: dict[str, Any]) -> str:
    """Līga's offer in three steps with its documents, checked and submitted (once calls knows the programme)."""
    _until(
        lambda: (
            programme["id"]
            in {p["programme_id"] for p in _ok(client.get(f"{CALLS}/institutions/me/programmes", headers=liga))}
            or None
        ),
        "calls to learn the programme from catalog",
    )
    offer_id = str(_ok(client.post(f"{CALLS}/calls/{call_id}/offers", headers=liga), 201)["id"])
    path = f"{CALLS}/offers/{offer_id}"
    location = {"address": "Brīvības iela 100, Rīga, LV-1001", "city": "Rīga", "viis_id": "VIIS-100101"}
    _ok(client.put(f"{path}/locations", json={"locations": [location]}, headers=liga))
    _ok(client.put(f"{path}/programmes", json={"programmes": [offered(programme)]}, headers=liga))
    terms = {"funding_source": "IMK", "programme_ids": [programme["id"]], "statements": STATEMENTS}
    _ok(client.put(f"{path}/terms", json=terms, headers=liga))
    uploads: list[tuple[str, dict[str, str], bytes]] = [
        ("application", {}, samples.plain_pdf("Pieteikums")),
        ("experience", {}, samples.plain_pdf("Pieredze")),
        ("signed_statement", {}, samples.pades_pdf()),
        ("curriculum", {"programme_id": programme["id"]}, samples.plain_pdf(programme["licence_number"])),
    ]
    for kind, params, content in uploads:
        sent = client.post(
            f"{path}/attachments",
            params={"kind": kind, "filename": f"{kind}.pdf", **params},
            content=content,
            headers={**liga, "Content-Type": "application/pdf"},
        )
        _ok(sent, 201)
    assert _ok(client.post(f"{path}/checks", headers=liga)) == {"ready": True, "problems": []}
    assert _ok(client.post(f"{path}/submit", headers=liga))["state"] == "submitted"
    return offer_id


def _until(found: Callable[[], T | None], what: str, timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value is not None:
            return value
        time.sleep(0.5)
    raise AssertionError(f"waited {timeout} s for {what}")


def _answer_as_the_institution(stack: Stack, offer_id: str) -> None:
    """Līga answers the clarification through the API (the institution's pages are another slice's)."""
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        liga = api_headers(stack, "liga")
        (asked,) = _ok(client.get(f"{CALLS}/offers/{offer_id}/clarifications", headers=liga))["items"]
        path = f"{CALLS}/offers/{offer_id}/clarifications/{asked['id']}/answer"
        _ok(client.post(path, json={"answer": ANSWER}, headers=liga))


def _evaluation_of(stack: Stack, offer_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        found: dict[str, Any] = _ok(
            client.get(f"{CALLS}/offers/{offer_id}/evaluation", headers=api_headers(stack, "ilze"))
        )
        return found


async def _both(page: Page, stack: Stack, name: str) -> None:
    """The page as it is in Latvian and in English (by the switch every page has), each checked and photographed;
    the page is left in Latvian."""
    path = quote(page.url.removeprefix(stack.web_url), safe="/")
    for language in ("en", "lv"):
        await page.goto(f"{stack.web_url}/language?to={language}&back={path}")
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await checked(page, f"{name}-{language}")


async def _submit(page: Page, action: str) -> None:
    await page.locator(f'form[action$="{action}"] button[type="submit"]').first.click()


async def test_an_offer_is_evaluated_decided_by_four_eyes_and_its_programme_published(
    web_stack: Stack, new_context: ContextFactory, evaluation: dict[str, Any], tmp_path: Path
) -> None:
    call_id, offer_id, programme = evaluation["call_id"], evaluation["offer_id"], evaluation["programme"]
    workspace = f"/agency/offers/{offer_id}"
    martins = await new_page(new_context, web_stack, "lv")
    await sign_in(martins, web_stack, "martins", then="/agency/calls")
    await expect(martins.locator(f'a[href="/agency/calls/{call_id}"]')).to_have_text(CODE)
    await _both(martins, web_stack, "evaluation-calls")
    await martins.goto(f"{web_stack.web_url}/agency/calls/{call_id}")
    await expect(martins.locator('.app-timeline__step--current[aria-current="step"]')).to_have_count(1)
    await expect(martins.locator(".app-timeline__step--current")).to_contain_text("16")  # evaluation from 16 Sep
    await expect(martins.locator(".app-timeline__step--past").nth(1)).to_contain_text("23:59")  # the deadline minute
    await expect(martins.locator("#offers-table")).to_contain_text("Rīgas Datorikas mācību centrs")
    await _both(martins, web_stack, "evaluation-call")
    export = await martins.request.get(f"{web_stack.web_url}/agency/calls/{call_id}/decisions.csv")
    assert export.status == 200 and export.headers["content-type"].startswith("text/csv")

    await martins.goto(f"{web_stack.web_url}{workspace}")
    await martins.locator("#username").fill("ilze")
    await _submit(martins, "/evaluator")
    await expect(martins.locator("#evaluator-name")).to_contain_text("Ilze")
    await _both(martins, web_stack, "evaluation-offer-assigned")

    ilze = await new_page(new_context, web_stack, "lv")
    await sign_in(ilze, web_stack, "ilze", then=workspace)
    await ilze.locator("#result-I1-meets").check()
    await ilze.locator("#note-I1").fill("Akreditēta līdz 2029. gadam.")
    await _submit(ilze, "/findings")
    await expect(ilze.locator("#result-I1-meets")).to_be_checked()  # recorded: the form shows it
    await ilze.locator("#criteria-P1").check()
    await ilze.locator("#question").fill(QUESTION)
    await _submit(ilze, "/clarifications")
    await expect(ilze.locator(".app-clarification")).to_contain_text(QUESTION)
    await _both(ilze, web_stack, "evaluation-offer-clarification")

    _answer_as_the_institution(web_stack, offer_id)

    await ilze.reload()
    await expect(ilze.locator(".app-clarification")).to_contain_text(ANSWER)
    for code in CRITERIA:
        await ilze.locator(f"#result-{code}-meets").check()
    await _submit(ilze, "/findings")
    await expect(ilze.locator("#result-P1-meets")).to_be_checked()
    assert _evaluation_of(web_stack, offer_id)["complete"]
    await ilze.goto(f"{web_stack.web_url}{workspace}/decision")
    await expect(ilze.locator("#four-eyes")).to_be_visible()
    await expect(ilze.locator('input[name="outcome"]')).to_have_count(0)
    await _both(ilze, web_stack, "evaluation-decision-refused")

    _restart_calls(web_stack, AGREEMENTS)
    await martins.goto(f"{web_stack.web_url}{workspace}/decision")
    await _both(martins, web_stack, "evaluation-decision")
    for language in ("en", "lv"):  # the confirmation page (a POST's answer) in each language; confirmed in Latvian
        await martins.goto(f"{web_stack.web_url}/language?to={language}&back={workspace}/decision")
        await martins.locator("#outcome-approved").check()
        await _submit(martins, "/decision")
        await expect(martins.locator("#decision-summary")).to_be_visible()
        await checked(martins, f"evaluation-decision-confirm-{language}")
    await martins.locator('button[name="confirmed"][value="yes"]').click()
    await expect(martins.locator("#decision-outcome .govuk-tag--green")).to_be_visible()

    await martins.goto(f"{web_stack.web_url}{workspace}/agreement")
    await martins.locator("#number").fill(f"{CODE}/2026/001")
    await _both(martins, web_stack, "evaluation-agreement-new")
    await martins.locator("#number").fill(f"{CODE}/2026/001")
    await _submit(martins, f"{offer_id}/agreement")
    signed = tmp_path / "ligums.edoc"
    signed.write_bytes(samples.asice_container())
    await martins.locator("#file").set_input_files(signed)
    await _submit(martins, "/agreement/signature")
    await expect(martins.locator(f'a[href="{workspace}/agreement/document"]')).to_be_visible()
    await _both(martins, web_stack, "evaluation-agreement-signed")
    document = await martins.request.get(f"{web_stack.web_url}{workspace}/agreement/document")
    assert document.status == 200 and await document.body() == signed.read_bytes()

    title = programme["title"]["lv"]
    public = await new_page(new_context, web_stack, "lv")
    deadline = time.monotonic() + 60
    while True:
        await public.goto(f"{web_stack.web_url}/catalogue?{urlencode({'q': title})}")
        if await public.get_by_text(title).count() or time.monotonic() > deadline:
            break
        await public.wait_for_timeout(1000)
    await expect(public.locator("main").get_by_text(title).first).to_be_visible()
    await checked(public, "evaluation-catalogue-lv")


async def test_an_institutions_user_is_refused_the_agencys_pages(
    web_stack: Stack, new_context: ContextFactory, evaluation: dict[str, Any]
) -> None:
    liga = await new_page(new_context, web_stack, "en")
    await sign_in(liga, web_stack, "liga", then="/notices")
    for path in (f"/agency/offers/{evaluation['offer_id']}", f"/agency/calls/{evaluation['call_id']}"):
        answer = await liga.goto(f"{web_stack.web_url}{path}")
        assert answer is not None and answer.status == 403
    assert re.search(r"403|not for you|may not", await liga.content(), re.IGNORECASE)
