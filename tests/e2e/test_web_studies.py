"""The learner's profile, self-assessment, studies and credential in a real browser: a wrong e-mail address shown
beside its field, a DigComp self-assessment kept in the history; completed studies (a group that began two weeks
ago, its start and completion recorded by the institution's staff) give a credential the learner downloads, which
the public verification page accepts, and refuses once a character of it is changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from gateway.identity import DEV_USERS
from playwright.async_api import expect
from prasmes_contracts.catalog import GroupScheduled, ProgrammePublished, ProviderRegistered, ProviderUserAdded
from prasmes_devtools.devstack import Stack
from prasmes_runtime.clock import RIGA
from prasmes_testing.browser import ContextFactory
from prasmes_testing.events import publish
from prasmes_testing.support import eventually

from tests.e2e.leak_check import stack_bus
from tests.e2e.web_support import JANIS_CODE, api_headers, checked, ensure_account, new_page, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
PROJECT = "4242"
"""A project no other browser test applies to with Anna (it has no learning needs to name)."""


async def test_a_learner_keeps_the_profile_and_the_self_assessment_with_errors_beside_the_fields(
    web_stack: Stack, new_context: ContextFactory
) -> None:
    ensure_account(web_stack, "janis", JANIS_CODE)
    page = await new_page(new_context, web_stack, "en")
    await sign_in(page, web_stack, "janis", then="/account/profile")
    await page.get_by_label("E-mail").fill("not an address")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#email-error")).to_contain_text("Enter an e-mail address like anna@example.lv")
    await checked(page, "profile-error-en")
    await page.get_by_label("E-mail").fill("janis@example.lv")
    await page.get_by_label("Employment").select_option("employed")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Your profile is saved.")
    await expect(page.locator("main dl")).to_contain_text("janis@example.lv")

    await page.get_by_role("link", name="Assess my digital skills").click()
    await checked(page, "digcomp-en")
    for area in ("Information and data literacy", "Communication and collaboration", "Digital content creation",
                 "Safety", "Problem solving"):  # fmt: skip
        await page.get_by_label(area).select_option("4")
    await page.get_by_role("button", name="Save my assessment").click()
    await expect(page.locator(".govuk-notification-banner")).to_contain_text("Your self-assessment is saved.")
    await expect(page.locator("main table")).to_contain_text("4.00")


async def test_completed_studies_give_a_credential_the_public_page_verifies(
    web_stack: Stack, new_context: ContextFactory, tmp_path: Path
) -> None:
    enrolment_id = await _completed_studies(web_stack)
    page = await new_page(new_context, web_stack, "lv")
    await sign_in(page, web_stack, "anna", then="/studies")
    await expect(page.locator("main")).to_contain_text("Tīmekļa drošība")
    await checked(page, "studies-lv")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Lejupielādēt šo mācību apliecinājumu").click()
    download = await download_info.value
    saved = tmp_path / "credential.jwt"
    await download.save_as(saved)
    credential = saved.read_text().strip()
    assert credential.count(".") == 2 and str(enrolment_id) in download.suggested_filename

    verifier = await new_page(new_context, web_stack, "en")  # anyone: an employer, signed in or not
    await verifier.goto(f"{web_stack.web_url}/credentials/verify")
    await checked(verifier, "verify-en")
    await verifier.get_by_label("Credential").fill(credential)
    await verifier.get_by_role("button", name="Check", exact=True).click()
    await expect(verifier.locator(".govuk-panel")).to_contain_text("The credential is valid")
    await expect(verifier.locator("main dl")).to_contain_text("Tīmekļa drošība")
    await checked(verifier, "verify-valid-en")

    header, payload, signature = credential.split(".")
    tampered = ".".join((header, payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:], signature))
    await verifier.get_by_label("Credential").fill(tampered)
    await verifier.get_by_role("button", name="Check", exact=True).click()
    await expect(verifier.locator("main")).to_contain_text("The credential is not valid")
    await checked(verifier, "verify-tampered-en")
    await verifier.get_by_label("Credential").fill("")
    await verifier.get_by_role("button", name="Check", exact=True).click()
    await expect(verifier.locator("#credential-error")).to_be_visible()


async def _completed_studies(stack: Stack) -> uuid.UUID:
    """Anna's studies of a programme whose group began two weeks ago, started and completed today."""
    now = datetime.now(UTC)
    today = now.astimezone(RIGA).date()
    institution, programme, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    staff = api_headers(stack, "peteris")
    staff_id = DEV_USERS["peteris"].subject
    await publish(
        stack_bus(stack),
        ProviderRegistered(
            institution_id=institution, at=now, name="Ventspils Tehnikums", register_number="4213900001"
        ),
        ProviderUserAdded(institution_id=institution, at=now, user_id=staff_id, role="provider_staff"),
        ProgrammePublished(
            programme_id=programme,
            institution_id=institution,
            at=now,
            title={"lv": "Tīmekļa drošība", "en": "Web security"},
            digcomp_level=5,
            hours=120,
            cost_per_participant=Decimal("300.00"),
            coefficient_table_version=1,
            institution_name="Ventspils Tehnikums",
        ),
        GroupScheduled(
            group_id=group,
            programme_id=programme,
            institution_id=institution,
            at=now,
            capacity=10,
            start_date=today - timedelta(days=14),
            end_date=today + timedelta(days=30),
            city="Ventspils",
            language="lv",
        ),
    )
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as client:
        anna, ilze = api_headers(stack, "anna"), api_headers(stack, "ilze")
        applied = await client.post(
            "/api/accounts/applications", json={"project_code": PROJECT, "learning_need": "drošība"}, headers=anna
        )
        assert applied.status_code == 201, applied.text
        application = applied.json()["id"]
        approved = await client.post(f"/api/accounts/agency/applications/{application}/approval", headers=ilze)
        assert approved.status_code == 200, approved.text
        enrolment: dict[str, str] = {}

        async def enrolled() -> bool:  # the group reaches accounts through the bus
            answer = await client.post(
                f"/api/accounts/applications/{application}/enrolment", json={"group_id": str(group)}, headers=anna
            )
            enrolment.update(answer.json() if answer.status_code == 201 else {})
            return answer.status_code == 201

        await eventually(enrolled, timeout=30, interval=0.5)
        base = f"/api/accounts/provider/enrolments/{enrolment['id']}"
        started = await client.post(f"{base}/start", json={"started_on": today.isoformat()}, headers=staff)
        assert started.status_code == 200, started.text
        body = {"completed_on": today.isoformat(), "hours_attended": 118, "result": "passed"}
        completed = await client.post(f"{base}/completion", json=body, headers=staff)
        assert completed.status_code == 200, completed.text
    return uuid.UUID(enrolment["id"])
