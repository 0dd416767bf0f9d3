"""Evaluation, decision and agreement through the API: an officer assigned after the deadline records findings and
asks for a clarification the institution answers once and on time; an admin who did not evaluate decides a complete
evaluation from the decision phase; the agreement's signing publishes the programmes (its event); the agency's
views; and every bad input or access a clear 4xx with nothing stored lost."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import sqlalchemy as sa
from calls.service.calls import advance_phases
from calls.service.evaluations import end_agreements_over
from openpyxl import load_workbook
from prasmes_contracts import topic_for
from prasmes_contracts.calls import CooperationAgreementEnded, EvaluatorAssigned
from prasmes_runtime.messaging import outbox
from prasmes_testing import samples

from .conftest import NEW, World, riga

CRITERIA = ["I1", "I2", "I3", "I4", "P1", "P2", "P3", "P4", "P5", "P6"]
EVALUATION = riga(2025, 10, 13, 9, 0)
DECISION = riga(2025, 11, 10, 9, 0)
ALL_MEET = {"findings": [{"criterion": c, "result": "meets", "note": "atbilst"} for c in CRITERIA]}


async def _submitted(world: World) -> str:
    offer_id = await world.start()
    await world.complete_offer(offer_id)
    submitted = await world.client.post(f"/offers/{offer_id}/submit", headers=world.liga())
    assert submitted.status_code == 200, submitted.text
    return offer_id


async def _assigned(world: World, evaluator: str = "ilze") -> str:
    offer_id = await _submitted(world)
    world.clock.at = EVALUATION
    body = {"evaluator_id": evaluator}
    assigned = await world.client.put(f"/offers/{offer_id}/evaluator", json=body, headers=world.admin())
    assert assigned.status_code == 200, assigned.text
    return offer_id


async def _findings(world: World, offer_id: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return await world.client.put(f"/offers/{offer_id}/findings", json=body, headers=headers or world.officer())


async def _sign(world: World, offer_id: str, content: bytes | None = None) -> Any:
    return await world.client.post(
        f"/offers/{offer_id}/agreement/signature",
        params={"filename": "ligums.edoc"},
        content=content if content is not None else samples.asice_container(),
        headers={**world.admin(), "Content-Type": "application/vnd.etsi.asic-e+zip"},
    )


async def test_an_offer_is_evaluated_clarified_approved_and_its_agreement_signed(world: World) -> None:
    offer_id = await _assigned(world)
    evaluation = (await world.client.get(f"/offers/{offer_id}/evaluation", headers=world.officer())).json()
    assert (evaluation["state"], evaluation["evaluator_id"], evaluation["missing"]) == (
        "under_evaluation",
        "ilze",
        CRITERIA,
    )
    body = {"criteria": ["I4"], "question": "Lūdzu, norādiet grupu pabeigušo skaitu."}
    asked = await world.client.post(f"/offers/{offer_id}/clarifications", json=body, headers=world.officer())
    assert asked.status_code == 201, asked.text
    assert asked.json()["due_on"] == "2025-10-20"  # five working days after Monday 13 October
    listed = (await world.client.get(f"/offers/{offer_id}/clarifications", headers=world.liga())).json()
    assert listed["total"] == 1 and listed["items"][0]["question"] == body["question"]
    answer = {"answer": "Divās grupās pa 10 pabeigušajiem."}
    answered = await world.client.post(
        f"/offers/{offer_id}/clarifications/{asked.json()['id']}/answer", json=answer, headers=world.liga()
    )
    assert answered.status_code == 200 and answered.json()["answer"] == answer["answer"], answered.text

    recorded = await _findings(world, offer_id, ALL_MEET)
    assert recorded.status_code == 200 and recorded.json()["complete"], recorded.text

    world.clock.at = DECISION
    decided = await world.client.post(
        f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=world.admin()
    )
    assert decided.status_code == 201, decided.text
    seen = await world.client.get(f"/offers/{offer_id}/decision", headers=world.liga())
    assert seen.status_code == 200 and seen.json()["outcome"] == "approved"
    assert (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["state"] == "approved"

    agreement = {"number": "IMK-4/2025/001", "valid_from": "2025-11-10", "valid_until": "2026-04-30"}
    made = await world.client.post(f"/offers/{offer_id}/agreement", json=agreement, headers=world.admin())
    assert made.status_code == 201 and not made.json()["signed"], made.text
    assert {str(world.programmes["P-1234"]), str(world.programmes["P-2001"])} == set(made.json()["programme_ids"])
    signed = await _sign(world, offer_id)
    assert signed.status_code == 200 and signed.json()["signed"], signed.text
    document = await world.client.get(f"/offers/{offer_id}/agreement/document", headers=world.liga())
    assert hashlib.sha256(document.content).hexdigest() == signed.json()["document_sha256"]
    assert "ligums.edoc" in document.headers["content-disposition"]

    offer_events = [t.split(".")[3] for t in await world.svc.outbox_types() if ".calls.Offer" in t or "Clar" in t]
    assert offer_events[1:] == [
        "ClarificationRequested",
        "ClarificationAnswered",
        "OfferEvaluated",
        "OfferApproved",
    ]
    assert (await world.svc.outbox_types())[-1] == "lv.prasmes.calls.CooperationAgreementSigned.v1"


async def test_the_deadline_passing_puts_the_submitted_offers_under_evaluation(world: World) -> None:
    offer_id = await _submitted(world)
    world.clock.at = EVALUATION
    await advance_phases(world.svc.app.state.runtime.context)
    assert (await world.client.get(f"/offers/{offer_id}", headers=world.liga())).json()["state"] == "under_evaluation"
    unassigned = await _findings(world, offer_id, ALL_MEET)
    assert unassigned.status_code == 409 and unassigned.json()["current"]["state"] == "under_evaluation"


async def test_evaluation_refuses_what_breaks_its_rules_and_keeps_what_is_stored(world: World) -> None:
    offer_id = await _submitted(world)
    early = await world.client.put(
        f"/offers/{offer_id}/evaluator", json={"evaluator_id": "ilze"}, headers=world.admin()
    )
    assert early.status_code == 409 and early.json()["current"]["phase"] == "offers"
    by_officer = await world.client.put(
        f"/offers/{offer_id}/evaluator", json={"evaluator_id": "ilze"}, headers=world.officer()
    )
    assert by_officer.status_code == 403
    world.clock.at = EVALUATION
    await world.client.put(f"/offers/{offer_id}/evaluator", json={"evaluator_id": "ilze"}, headers=world.admin())
    first = {"findings": [{"criterion": "I1", "result": "meets", "note": "akreditēta"}]}
    assert (await _findings(world, offer_id, first)).status_code == 200

    unknown = await _findings(world, offer_id, {"findings": [{"criterion": "I9", "result": "meets"}]})
    assert unknown.status_code == 422
    assert [(e["field"], e["rule"]) for e in unknown.json()["errors"]] == [("findings[0].criterion", "known_criterion")]
    not_evaluator = await _findings(world, offer_id, ALL_MEET, world.admin())
    assert not_evaluator.status_code == 403
    bad_result = await _findings(world, offer_id, {"findings": [{"criterion": "I2", "result": "maybe"}]})
    assert bad_result.status_code == 422
    kept = (await world.client.get(f"/offers/{offer_id}/evaluation", headers=world.officer())).json()
    assert [(f["criterion"], f["result"], f["note"]) for f in kept["findings"]] == [("I1", "meets", "akreditēta")]

    world.clock.at = riga(2025, 11, 9, 12, 0)
    too_early = await world.client.post(
        f"/offers/{offer_id}/decision", json={"outcome": "rejected"}, headers=world.admin()
    )
    assert too_early.status_code == 409 and too_early.json()["current"]["phase"] == "evaluation"
    world.clock.at = DECISION
    incomplete = await world.client.post(
        f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=world.admin()
    )
    assert incomplete.status_code == 409 and incomplete.json()["current"]["missing"] == CRITERIA[1:]
    assert (await world.client.get(f"/offers/{offer_id}", headers=world.admin())).json()["state"] == "under_evaluation"


async def test_four_eyes_the_evaluator_does_not_decide(world: World) -> None:
    offer_id = await _assigned(world, evaluator="martins")
    assert (await _findings(world, offer_id, ALL_MEET, world.admin())).status_code == 200
    world.clock.at = DECISION
    own = await world.client.post(f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=world.admin())
    assert own.status_code == 403 and "four eyes" in own.json()["message"]
    officer = await world.client.post(
        f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=world.officer()
    )
    assert officer.status_code == 403
    inese = world.svc.as_("inese", "agency_admin")
    other = await world.client.post(f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=inese)
    assert other.status_code == 201, other.text
    again = await world.client.post(f"/offers/{offer_id}/decision", json={"outcome": "rejected"}, headers=inese)
    assert again.status_code == 409 and again.json()["current"]["state"] == "approved"


async def test_a_clarification_is_answered_once_and_on_time(world: World) -> None:
    offer_id = await _assigned(world)
    body = {"criteria": ["I4", "P5"], "question": "Kāda ir digitālo prasmju daļa?"}
    unknown = await world.client.post(
        f"/offers/{offer_id}/clarifications", json=body | {"criteria": ["Q1"]}, headers=world.officer()
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "criteria[0]"
    first = (await world.client.post(f"/offers/{offer_id}/clarifications", json=body, headers=world.officer())).json()
    second = (await world.client.post(f"/offers/{offer_id}/clarifications", json=body, headers=world.officer())).json()
    pending = (await world.client.get(f"/offers/{offer_id}/evaluation", headers=world.officer())).json()
    assert {f["criterion"]: f["result"] for f in pending["findings"]} == {
        "I4": "needs_clarification",
        "P5": "needs_clarification",
    }
    path = f"/offers/{offer_id}/clarifications/{first['id']}/answer"
    assert (await world.client.post(path, json={"answer": "80 %"}, headers=world.liga())).status_code == 200
    twice = await world.client.post(path, json={"answer": "90 %"}, headers=world.liga())
    assert twice.status_code == 409 and twice.json()["current"]["answered_at"] is not None

    world.clock.at = riga(2025, 10, 21, 0, 0)  # due on Monday 20 October
    late_path = f"/offers/{offer_id}/clarifications/{second['id']}/answer"
    late = await world.client.post(late_path, json={"answer": "vēlu"}, headers=world.liga())
    assert late.status_code == 409 and late.json()["current"]["due_on"] == "2025-10-20"
    listed = (await world.client.get(f"/offers/{offer_id}/clarifications", headers=world.officer())).json()
    assert {c["id"]: c["answer"] for c in listed["items"]} == {first["id"]: "80 %", second["id"]: None}

    await world.institution(NEW, "karlis")
    karlis = world.svc.as_("karlis", "provider_admin")
    assert (await world.client.post(late_path, json={"answer": "x"}, headers=karlis)).status_code == 404
    assert (await world.client.get(f"/offers/{offer_id}/clarifications", headers=karlis)).status_code == 404


async def test_a_rejection_gives_its_reasons_to_the_institution_alone(world: World) -> None:
    offer_id = await _assigned(world)
    findings = [*ALL_MEET["findings"][:-1], {"criterion": "P6", "result": "does_not_meet", "note": "cita kvalif."}]
    await _findings(world, offer_id, {"findings": findings})
    world.clock.at = DECISION
    approve = await world.client.post(
        f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=world.admin()
    )
    assert approve.status_code == 422 and approve.json()["errors"][0]["rule"] == "criteria_met"
    reasons = [{"criterion": "P6", "code": "qualification", "text": "Programma nav vērsta uz kvalifikāciju."}]
    rejected = await world.client.post(
        f"/offers/{offer_id}/decision", json={"outcome": "rejected", "reasons": reasons}, headers=world.admin()
    )
    assert rejected.status_code == 201, rejected.text
    seen = (await world.client.get(f"/offers/{offer_id}/decision", headers=world.liga())).json()
    assert seen["outcome"] == "rejected" and seen["reasons"] == reasons
    await world.institution(NEW, "karlis")
    karlis = world.svc.as_("karlis", "provider_admin")
    assert (await world.client.get(f"/offers/{offer_id}/decision", headers=karlis)).status_code == 404
    agreement = {"number": "IMK-4/2025/009", "valid_from": "2025-11-10", "valid_until": "2026-04-30"}
    refused = await world.client.post(f"/offers/{offer_id}/agreement", json=agreement, headers=world.admin())
    assert refused.status_code == 409 and refused.json()["current"]["state"] == "rejected"


async def test_an_agreement_is_made_once_signed_once_with_a_signed_document(world: World) -> None:
    offer_id = await _assigned(world)
    await _findings(world, offer_id, ALL_MEET)
    world.clock.at = DECISION
    await world.client.post(f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=world.admin())
    assert (await _sign(world, offer_id)).status_code == 404
    wrong = {"number": "L-1", "valid_from": "2025-11-10", "valid_until": "2025-11-01"}
    bad = await world.client.post(f"/offers/{offer_id}/agreement", json=wrong, headers=world.admin())
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "valid_until"
    good = wrong | {"valid_until": "2026-04-30"}
    assert (
        await world.client.post(f"/offers/{offer_id}/agreement", json=good, headers=world.admin())
    ).status_code == 201
    twice = await world.client.post(f"/offers/{offer_id}/agreement", json=good, headers=world.admin())
    assert twice.status_code == 409 and twice.json()["current"]["number"] == "L-1"
    unsigned = await _sign(world, offer_id, samples.plain_pdf())
    assert unsigned.status_code == 422 and unsigned.json()["errors"][0]["field"] == "file"
    assert (await _sign(world, offer_id)).status_code == 200
    again = await _sign(world, offer_id)
    assert again.status_code == 409 and again.json()["current"]["signed_at"] is not None
    types = await world.svc.outbox_types()
    assert types.count("lv.prasmes.calls.CooperationAgreementSigned.v1") == 1


async def test_an_agreement_ends_the_day_after_its_last_valid_day_once(world: World) -> None:
    offer_id = await _assigned(world)
    await _findings(world, offer_id, ALL_MEET)
    world.clock.at = DECISION
    await world.client.post(f"/offers/{offer_id}/decision", json={"outcome": "approved"}, headers=world.admin())
    terms = {"number": "L-7", "valid_from": "2025-11-10", "valid_until": "2026-04-30"}
    await world.client.post(f"/offers/{offer_id}/agreement", json=terms, headers=world.admin())
    assert (await _sign(world, offer_id)).status_code == 200
    context = world.svc.app.state.runtime.context
    world.clock.at = riga(2026, 4, 30, 23, 59)  # its last valid day, in Riga
    assert await end_agreements_over(context) == 0
    world.clock.at = riga(2026, 5, 1, 0, 0)
    assert await end_agreements_over(context) == 1
    assert await end_agreements_over(context) == 0, "once"
    ended = [t for t in await world.svc.outbox_types() if t.endswith("CooperationAgreementEnded.v1")]
    assert ended == ["lv.prasmes.calls.CooperationAgreementEnded.v1"]
    shown = await world.client.get(f"/offers/{offer_id}/agreement", headers=world.liga())
    assert shown.status_code == 200 and shown.json()["ended_at"] is not None
    async with world.svc.database.session() as session:
        row = (
            await session.execute(
                sa.select(outbox.c.data).where(outbox.c.event_type == CooperationAgreementEnded.event_type())
            )
        ).scalar_one()
    event = CooperationAgreementEnded.model_validate_json(row)
    assert str(event.offer_id) == offer_id and event.programme_ids  # catalog takes these out of the catalogue


async def test_the_agency_sees_offers_per_state_progress_per_officer_and_the_decisions(world: World) -> None:
    offer_id = await _assigned(world)
    await _findings(world, offer_id, {"findings": ALL_MEET["findings"][:4]})
    call = world.call_id
    states = (await world.client.get(f"/agency/calls/{call}/offers-per-state", headers=world.officer())).json()
    assert states["under_evaluation"] == 1 and states["approved"] == 0
    listed = await world.client.get(f"/calls/{call}/offers", params={"state": "submitted"}, headers=world.officer())
    assert listed.json()["total"] == 0
    listed = await world.client.get(
        f"/calls/{call}/offers", params={"state": "under_evaluation"}, headers=world.admin()
    )
    assert [o["id"] for o in listed.json()["items"]] == [offer_id]
    progress = (await world.client.get(f"/agency/calls/{call}/evaluation-progress", headers=world.admin())).json()
    assert progress["items"] == [
        {
            "evaluator_id": "ilze",
            "assigned": 1,
            "complete": 0,
            "decided": 0,
            "findings": 4,
            "criteria": 10,
            "open_clarifications": 0,
        }
    ]
    await _findings(
        world, offer_id, {"findings": [*ALL_MEET["findings"][:-1], {"criterion": "P6", "result": "does_not_meet"}]}
    )
    world.clock.at = DECISION
    reasons = [{"criterion": "P6", "code": "qualification", "text": '=HYPERLINK("x")'}]
    await world.client.post(
        f"/offers/{offer_id}/decision", json={"outcome": "rejected", "reasons": reasons}, headers=world.admin()
    )
    exported = await world.client.get(f"/agency/calls/{call}/decisions.csv", headers=world.officer())
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["offer_id"], r["outcome"], r["criterion"], r["reason_code"]) for r in rows] == [
        (offer_id, "rejected", "P6", "qualification")
    ]
    assert rows[0]["reason"].startswith("'=")  # not a formula in a spreadsheet
    xlsx = await world.client.get(f"/agency/calls/{call}/decisions.xlsx", headers=world.admin())
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:4] == ["offer_id", "institution_id", "institution", "outcome"] and values[1][0] == offer_id
    for path in ("decisions.csv", "offers-per-state", "evaluation-progress"):
        assert (await world.client.get(f"/agency/calls/{call}/{path}", headers=world.liga())).status_code == 403
    typo = await world.client.get(f"/agency/calls/{call}/decisions.csv", params={"fromat": "x"}, headers=world.admin())
    assert typo.status_code == 422 and typo.json()["errors"][0]["rule"] == "extra_forbidden"


async def test_assigning_publishes_who_evaluates_on_the_internal_assignments_topic(world: World) -> None:
    offer_id = await _assigned(world, "ilze")
    again = await world.client.put(
        f"/offers/{offer_id}/evaluator", json={"evaluator_id": "ilze"}, headers=world.admin()
    )
    assert again.status_code == 200, again.text
    other = await world.client.put(
        f"/offers/{offer_id}/evaluator", json={"evaluator_id": "juris"}, headers=world.admin()
    )
    assert other.status_code == 200, other.text

    async with world.svc.database.session() as session:
        rows = (
            await session.execute(
                sa.select(outbox.c.topic, outbox.c.partition_key, outbox.c.data)
                .where(outbox.c.event_type == EvaluatorAssigned.event_type())
                .order_by(outbox.c.id)
            )
        ).all()
    assert [(r.topic, r.partition_key) for r in rows] == [("calls.assignments", offer_id)] * 2
    assert [EvaluatorAssigned.model_validate_json(r.data).evaluator_id for r in rows] == ["ilze", "juris"]
    assert not topic_for(EvaluatorAssigned).partner_readable  # an agency person's id is not for partners
