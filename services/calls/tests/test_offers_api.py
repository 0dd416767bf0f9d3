"""Offers through the API: three steps, attachments, every check at once, submission frozen, withdrawal and
resubmission until the deadline (to the minute, Riga time), every version kept, and who may reach what."""

from __future__ import annotations

import uuid

from calls.app import CallsSettings
from calls.service.calls import advance_phases
from prasmes_testing import samples

from .conftest import GOOD, NEW, SMALL_CAP, World, programme_body, riga


def _rules(body: dict[str, object]) -> set[tuple[str, str]]:
    return {(p["field"], p["rule"]) for p in body["problems"]}  # type: ignore[attr-defined, index]


async def test_an_offer_is_drafted_checked_submitted_withdrawn_and_submitted_again(world: World) -> None:
    offer_id = await world.start()
    await world.complete_offer(offer_id)
    checked = await world.client.post(f"/offers/{offer_id}/checks", headers=world.liga())
    assert checked.status_code == 200 and checked.json() == {"ready": True, "problems": []}, checked.text

    submitted = await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())
    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["state"], submitted.json()["version"], submitted.json()["editable"]) == (
        "submitted",
        1,
        False,
    )
    frozen = await world.client.put(f"/offers/{offer_id}/locations", json={"locations": []}, headers=world.liga())
    assert frozen.status_code == 409 and frozen.json()["current"]["state"] == "submitted"
    assert (await world.upload(offer_id, "application")).status_code == 409

    withdrawn = await world.client.post(f"/offers/{offer_id}/withdraw", headers=world.liga())
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    one = [str(world.programmes["P-1234"])]
    terms = {
        "funding_source": "IMK",
        "programme_ids": one,
        "statements": ["data_true", "no_double_funding", "call_terms_accepted"],
    }
    assert (await world.client.put(f"/offers/{offer_id}/terms", json=terms, headers=world.liga())).status_code == 200
    again = await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())
    assert again.status_code == 200 and again.json()["version"] == 2, again.text

    versions = (await world.client.get(f"/offers/{offer_id}/versions", headers=world.officer())).json()
    assert versions["total"] == 2
    first, second = versions["items"]
    assert first["withdrawn_at"] is not None and second["withdrawn_at"] is None
    assert len(first["content"]["terms"]["programme_ids"]) == 2 and second["content"]["terms"]["programme_ids"] == one
    assert {a["kind"] for a in first["content"]["attachments"]} >= {"application", "signed_statement", "curriculum"}
    one_back = await world.client.get(f"/offers/{offer_id}/versions/1", headers=world.liga())
    assert one_back.status_code == 200 and one_back.json() == first
    types = await world.svc.outbox_types()
    assert [t for t in types if "Offer" in t] == [
        "lv.prasmes.calls.OfferSubmitted.v1",
        "lv.prasmes.calls.OfferWithdrawn.v1",
        "lv.prasmes.calls.OfferSubmitted.v1",
    ]
    assert types[:2] == ["lv.prasmes.calls.CallOpened.v1", "lv.prasmes.calls.LearningNeedsApproved.v1"]


async def test_every_problem_is_reported_at_once_with_its_step_and_source(world: World) -> None:
    offer_id = await world.start()
    empty = (await world.client.post(f"/offers/{offer_id}/checks", headers=world.liga())).json()
    assert not empty["ready"]
    assert {
        ("locations", "required"),
        ("programmes", "required"),
        ("terms.funding_source", "required"),
        ("terms.programme_ids", "required"),
        ("terms.statements.data_true", "confirmed"),
        ("attachments.application", "document_required"),
        ("attachments.experience", "document_required"),
        ("attachments.signed_statement", "document_required"),
    } <= _rules(empty)
    steps = {p["field"]: p["step"] for p in empty["problems"]}
    assert (steps["locations"], steps["programmes"], steps["terms.funding_source"]) == (
        "locations",
        "programmes",
        "offer",
    )

    refused = await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())
    assert refused.status_code == 422 and _rules(refused.json()) == _rules(empty)
    assert {e["field"] for e in refused.json()["errors"]} == {p["field"] for p in empty["problems"]}
    assert (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["state"] == "draft"


async def test_the_common_errors_are_caught_before_submission(world: World) -> None:
    offer_id = await world.start()
    await world.complete_offer(offer_id)
    p1, p2 = world.programmes["P-1234"], world.programmes["P-2001"]
    locations = [{"address": "Brīvības iela 1, Rīga", "city": "Rīga", "viis_id": "VIIS-100101"}]
    await world.client.put(f"/offers/{offer_id}/locations", json={"locations": locations}, headers=world.liga())
    wrong = [
        programme_body(p1, "P-1234", theory_hours=60, practice_hours=100, cost_per_participant="331.20"),
        programme_body(p2, "P-2001", provision={"equipment": "dators", "operating_systems": []}, theory_hours=None),
    ]
    await world.client.put(f"/offers/{offer_id}/programmes", json={"programmes": wrong}, headers=world.liga())
    statement = next(
        a
        for a in (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["content"]["attachments"]
        if a["kind"] == "application"
    )
    await world.client.delete(f"/offers/{offer_id}/attachments/{statement['id']}", headers=world.liga())

    body = (await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())).json()
    found = _rules(body)
    assert {
        ("locations[0].address", "matches_register"),  # VIIS
        ("programmes[0].theory_hours", "hours_split"),  # the curriculum's split
        ("programmes[0].cost_per_participant", "coefficient"),  # 1.56 x 1.38 instead of 1.28
        ("programmes[1].provision.equipment", "provision"),
        ("programmes[1].provision.operating_systems", "provision"),
        ("programmes[1].theory_hours", "required"),  # a field left empty
        ("attachments.application", "document_required"),
    } <= found, found
    sources = {p["field"]: p["source"] for p in body["problems"]}
    assert "regulation No 655" in sources["programmes[0].cost_per_participant"]


async def test_criteria_of_the_call_name_their_source(world: World) -> None:
    offer_id = await world.start()
    await world.complete_offer(offer_id)
    remote = await world.programme(world.institutions["liga"], "P-3003", form="remote", digcomp_level=3)
    world.programmes["P-3003"] = remote
    programmes = [programme_body(remote, "P-3003")]
    await world.client.put(f"/offers/{offer_id}/programmes", json={"programmes": programmes}, headers=world.liga())
    terms = {
        "funding_source": "IMK",
        "programme_ids": [str(remote)],
        "statements": ["data_true", "no_double_funding", "call_terms_accepted"],
    }
    await world.client.put(f"/offers/{offer_id}/terms", json=terms, headers=world.liga())
    body = (await world.client.post(f"/offers/{offer_id}/checks", headers=world.liga())).json()
    by_field = {p["field"]: p for p in body["problems"]}
    assert by_field["programmes[0].form"]["source"] == "call IMK-4, criterion P3"
    assert by_field["programmes[0].digcomp_level"]["rule"] == "digcomp_range"


async def test_a_fourth_programme_is_one_too_many(world: World) -> None:
    offer_id = await world.start()
    four = ("P-1234", "P-2001", "P-3003", "P-4004")
    await world.complete_offer(offer_id, four)
    body = (await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())).json()
    assert _rules(body) == {("terms.programme_ids", "max_programmes")}
    assert body["problems"][0]["source"] == "call IMK-4, maximum number of programmes per institution"


async def test_an_institution_without_the_history_or_the_register_fails_its_criteria(world: World) -> None:
    await world.institution(NEW, "karlis")
    karlis = world.svc.as_("karlis", "provider_admin")
    offer_id = await world.start(karlis)
    body = (await world.client.post(f"/offers/{offer_id}/checks", headers=karlis)).json()
    institution = {(p["field"], p["source"]) for p in body["problems"] if p["field"].startswith("institution.")}
    assert institution == {
        ("institution.accredited", "call IMK-4, criterion I1"),
        ("institution.registered_years", "call IMK-4, criterion I2"),
        ("institution.vocational_programme_years", "call IMK-4, criterion I3"),
        ("institution.delivered_programmes", "call IMK-4, criterion I4"),
    }
    assert world.registers.tokens[-1] == karlis["Authorization"].removeprefix("Bearer ")


async def test_the_deadline_is_to_the_minute_in_riga(world: World) -> None:
    offer_id = await world.start()
    await world.complete_offer(offer_id)
    world.clock.at = riga(2025, 10, 10, 23, 59, 59)
    on_time = await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())
    assert on_time.status_code == 200, on_time.text
    world.clock.at = riga(2025, 10, 11, 0, 0, 0)
    late = await world.client.post(f"/offers/{offer_id}/withdraw", headers=world.liga())
    assert late.status_code == 409
    assert "2025-10-10 23:59 (Europe/Riga, UTC+03:00)" in late.json()["message"]
    assert late.json()["current"]["phase"] == "evaluation"
    assert (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["state"] == "submitted"


async def test_a_submission_one_minute_after_the_deadline_is_refused(world: World) -> None:
    offer_id = await world.start()
    await world.complete_offer(offer_id)
    world.clock.at = riga(2025, 10, 11, 0, 0, 59)
    late = await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())
    assert late.status_code == 409 and "deadline" in late.json()["message"]
    assert (await world.client.post(f"/calls/{world.call_id}/offers", headers=world.liga())).status_code == 409


async def test_who_may_reach_an_offer(world: World) -> None:
    offer_id = await world.start()
    assert (await world.upload(offer_id, "application")).status_code == 201
    attachment_id = (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["content"][
        "attachments"
    ][0]["id"]
    await world.institution(NEW, "karlis")
    await world.institution(GOOD, "zane", approved=False)
    karlis, zane = world.svc.as_("karlis", "provider_admin"), world.svc.as_("zane", "provider_admin")
    for path in (f"/offers/{offer_id}", f"/offers/{offer_id}/attachments/{attachment_id}/content"):
        assert (await world.client.get(path, headers=karlis)).status_code == 404
        assert (await world.client.get(path, headers=zane)).status_code == 404
        assert (await world.client.get(path, headers=world.officer())).status_code == 200
    assert (await world.client.post(f"/calls/{world.call_id}/offers", headers=zane)).status_code == 403
    assert (await world.client.post(f"/calls/{world.call_id}/offers", headers=world.liga())).status_code == 409
    staff = world.svc.as_("liga", "provider_staff")
    assert (await world.client.post(f"/offers/{offer_id}/submit", headers=staff)).status_code == 403
    partner = world.svc.as_("nva", "partner", "provider_admin")
    assert (await world.client.get(f"/offers/{offer_id}", headers=partner)).status_code == 403
    listed = (await world.client.get(f"/calls/{world.call_id}/offers", headers=karlis)).json()
    assert listed["total"] == 0


async def test_attachments_are_checked_and_nothing_stored_is_lost(world: World) -> None:
    offer_id = await world.start()
    assert (
        await world.upload(
            offer_id,
            "signed_statement",
            samples.asice_container(),
            media_type="application/vnd.etsi.asic-e+zip",
            filename="a.edoc",
        )
    ).status_code == 201
    refusals = [
        (await world.upload(offer_id, "application", b"%PDF-1.4" + b"0" * SMALL_CAP), ("file", "max_size")),
        (await world.upload(offer_id, "application", media_type="text/plain"), ("file", "media_type")),
        (await world.upload(offer_id, "signed_statement", samples.plain_pdf()), ("file", "signature_missing")),
        (await world.upload(offer_id, "application", b"GIF89a not a pdf"), ("file", "file_type")),
        (await world.upload(offer_id, "curriculum"), ("programme_id", "curriculum_only")),
        (await world.upload(offer_id, "curriculum", programme_id=uuid.uuid4()), ("programme_id", "consistent")),
    ]
    for response, expected in refusals:
        assert response.status_code == 422, response.text
        error = response.json()["errors"][0]
        assert (error["field"], error["rule"]) == expected
    held = (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["content"]["attachments"]
    assert [a["format"] for a in held] == ["asice"] and held[0]["signatures"] >= 1 and held[0]["timestamps"] >= 1
    content = await world.client.get(f"/offers/{offer_id}/attachments/{held[0]['id']}/content", headers=world.liga())
    assert content.content == samples.asice_container() or content.headers["x-content-sha256"] == held[0]["sha256"]


async def test_the_phase_clock_announces_every_phase(world: World) -> None:
    context = world.svc.app.state.runtime.context
    assert await advance_phases(context) == 0
    world.clock.at = riga(2025, 10, 13, 9, 0)
    assert await advance_phases(context) == 1
    world.clock.at = riga(2025, 11, 10, 0, 0)
    await advance_phases(context)
    phases = [t for t in await world.svc.outbox_types() if t.endswith("CallPhaseChanged.v1")]
    assert len(phases) == 4  # evaluation, then decision, agreements and delivery on 10 Nov
    call = (await world.client.get(f"/calls/{world.call_id}", headers=world.liga())).json()
    assert call["phase"] == "delivery" and call["timeline"]["offers_deadline_riga"].startswith("2025-10-10 23:59")


async def test_the_seed_is_idempotent_and_calls_are_for_the_agency_admin(world: World) -> None:
    again = await world.client.post("/calls/seed", headers=world.admin())
    assert again.status_code == 200 and [c["id"] for c in again.json()] == [world.call_id]
    assert (await world.svc.outbox_types()).count("lv.prasmes.calls.CallOpened.v1") == 1
    assert (await world.client.post("/calls/seed", headers=world.officer())).status_code == 403
    listed = (await world.client.get("/calls", headers=world.liga())).json()
    assert listed["total"] == 1 and listed["items"][0]["code"] == "IMK-4"
    call = listed["items"][0]
    assert call["max_programmes_per_institution"] == 3 and len(call["learning_needs"]) == 3
    assert call["timeline"]["offers_deadline_at"] == "2025-10-10T20:59:00Z"


async def test_learning_needs_are_replaced_and_announced(world: World) -> None:
    body = {"approved_on": "2025-09-15", "needs": [{"code": "IMK4-AI", "title": {"lv": "MI", "en": "AI"}}]}
    changed = await world.client.put(f"/calls/{world.call_id}/learning-needs", json=body, headers=world.admin())
    assert changed.status_code == 200 and [n["code"] for n in changed.json()["learning_needs"]] == ["IMK4-AI"]
    assert (await world.svc.outbox_types()).count("lv.prasmes.calls.LearningNeedsApproved.v1") == 2
    unknown = await world.client.put(
        f"/calls/{world.call_id}/learning-needs", json=body | {"x": 1}, headers=world.admin()
    )
    assert unknown.status_code == 422


async def test_a_call_is_opened_with_its_rules_checked(world: World) -> None:
    base = (await world.client.get(f"/calls/{world.call_id}", headers=world.admin())).json()
    timeline = {k: v for k, v in base["timeline"].items() if not k.endswith("_riga")}
    timeline |= {"offers_open_at": "2026-03-02T00:00", "offers_deadline_at": "2026-03-29T23:59"}
    body = {
        "code": "IMK-5",
        "title": {"lv": "5. uzaicinājums"},
        "project_code": "IMK",
        "timeline": timeline,
        "max_programmes_per_institution": 3,
        "institution_criteria": [{"code": "I1", "rule": "no_such_rule"}],
    }
    refused = await world.client.post("/calls", json=body, headers=world.admin())
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert "timeline.evaluation_starts_on" in fields or "institution_criteria[0].rule" in fields
    timeline = {
        "applications_open_on": "2026-02-01",
        "applications_close_on": "2026-02-20",
        "offers_open_at": "2026-03-02T00:00",
        "offers_deadline_at": "2026-03-29T23:59",
        "evaluation_starts_on": "2026-03-30",
        "evaluation_ends_on": "2026-04-20",
        "decision_on": "2026-04-21",
        "agreements_from": "2026-04-22",
        "publication_from": "2026-04-23",
        "delivery_ends_on": "2026-12-31",
    }
    opened = await world.client.post(
        "/calls", json=body | {"timeline": timeline, "institution_criteria": []}, headers=world.admin()
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["timeline"]["offers_deadline_at"] == "2026-03-29T20:59:00Z"  # EEST since 03:00 that day
    assert (
        await world.client.post(
            "/calls", json=body | {"timeline": timeline, "institution_criteria": []}, headers=world.admin()
        )
    ).status_code == 409
    settings = world.svc.app.state.runtime.settings
    assert isinstance(settings, CallsSettings)
