"""Learning needs on applications: calls' approved needs as a read model per funding project, an application naming
one of them by code, and the published ApplicationSubmitted (version 2) carrying the code, never the learner's words.
On SQLite and PostgreSQL, with calls' events delivered through the harness."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from accounts.app import DEFINITION
from prasmes_contracts import event_class
from prasmes_contracts.accounts import ApplicationSubmitted
from prasmes_contracts.calls import CallOpened, LearningNeed, LearningNeedsApproved
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.messaging import outbox
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.support import personal_code

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CALL_3, CALL_4 = uuid.uuid4(), uuid.uuid4()
WORDS = "Gribu iemācīties aizsargāt sava uzņēmuma datus"
"""A learner's own words: personal, so never on a topic."""


@pytest.fixture
async def svc(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[ServiceHarness]:
    settings = local_settings(DEFINITION, database_url, tmp_path)
    async with harness(DEFINITION, settings, token_issuer, FixedClock(NOW)) as running:
        yield running


def _need(code: str, en: str) -> LearningNeed:
    return LearningNeed(code=code, title={"lv": f"{en} (lv)", "en": en})


def _approved(
    call_id: uuid.UUID, *needs: LearningNeed, at: datetime = NOW, project: str = "IMK"
) -> LearningNeedsApproved:
    return LearningNeedsApproved(call_id=call_id, at=at, project_code=project, approved_on=at.date(), needs=list(needs))


def _opened(call_id: uuid.UUID, code: str) -> CallOpened:
    return CallOpened(
        call_id=call_id,
        at=NOW,
        code=code,
        title={"lv": f"{code} uzaicinājums", "en": f"Call {code}"},
        project_code="IMK",
        applications_open_on=date(2025, 9, 1),
        applications_close_on=date(2025, 9, 19),
        offers_open_at=datetime(2025, 9, 21, 21, 0, tzinfo=UTC),
        offers_deadline_at=datetime(2025, 10, 10, 20, 59, tzinfo=UTC),
        evaluation_ends_on=date(2025, 11, 7),
        decision_on=date(2025, 11, 10),
        agreements_from=date(2025, 11, 10),
        publication_from=date(2025, 11, 10),
        delivery_ends_on=date(2026, 4, 30),
        max_programmes_per_institution=3,
        phase="applications",
    )


async def _codes(svc: ServiceHarness, project: str = "IMK") -> dict[str, str]:
    response = await svc.client.get(f"/funding-projects/{project}")  # public: no token
    assert response.status_code == 200, response.text
    return {n["code"]: n["title"]["en"] for n in response.json()["learning_needs"]}


async def _learner(svc: ServiceHarness, subject: str = "anna", n: int = 1) -> dict[str, str]:
    headers = svc.as_(subject)
    opened = await svc.client.post("/accounts", json={"personal_code": personal_code(n)}, headers=headers)
    assert opened.status_code == 201, opened.text
    return headers


async def _published(svc: ServiceHarness) -> list[tuple[str, dict[str, Any]]]:
    async with svc.database.session() as session:
        rows = await session.execute(sa.select(outbox.c.event_type, outbox.c.data).order_by(outbox.c.id))
        return [(t, json.loads(d)) for t, d in rows]


# --- the read model ---------------------------------------------------------------------------


async def test_a_projects_learning_needs_come_from_its_calls_lists_and_are_public(svc: ServiceHarness) -> None:
    assert await _codes(svc) == {}  # no call's list has reached accounts yet
    await svc.deliver(
        _opened(CALL_4, "IMK-4"), _approved(CALL_4, _need("IMK4-DATA", "Data analysis"), _need("IMK4-CYBER", "Cyber"))
    )
    response = (await svc.client.get("/funding-projects/IMK")).json()
    assert response["learning_needs"] == [
        {"code": "IMK4-CYBER", "title": {"lv": "Cyber (lv)", "en": "Cyber"}, "call_id": str(CALL_4),
         "approved_on": "2026-11-30"},
        {"code": "IMK4-DATA", "title": {"lv": "Data analysis (lv)", "en": "Data analysis"}, "call_id": str(CALL_4),
         "approved_on": "2026-11-30"},
    ]  # fmt: skip
    listed = {p["code"]: p["learning_needs"] for p in (await svc.client.get("/funding-projects")).json()}
    assert [n["code"] for n in listed["IMK"]] == ["IMK4-CYBER", "IMK4-DATA"] and listed["VARAM"] == []


async def test_a_calls_latest_list_replaces_its_earlier_one_and_leaves_the_other_calls_alone(
    svc: ServiceHarness,
) -> None:
    earlier = NOW - timedelta(days=30)
    await svc.deliver(
        _approved(CALL_3, _need("IMK3-WEB", "Web"), _need("SHARED", "Shared, as call 3 said"), at=earlier),
        _approved(CALL_4, _need("IMK4-DATA", "Data"), _need("IMK4-OLD", "Dropped later"), at=earlier),
    )
    await svc.deliver(_approved(CALL_4, _need("IMK4-DATA", "Data, renamed"), _need("SHARED", "Shared, as call 4 said")))
    expected = {"IMK3-WEB": "Web", "IMK4-DATA": "Data, renamed", "SHARED": "Shared, as call 4 said"}
    assert await _codes(svc) == expected  # call 3's list stays; the later list of a shared code wins
    await svc.deliver(_approved(CALL_4, _need("IMK4-OLD", "Dropped later"), at=earlier))  # a dead letter replayed late
    assert await _codes(svc) == expected
    await svc.deliver(_opened(CALL_4, "IMK-4"))  # the call's announcement, after its list, changes no need
    assert await _codes(svc) == expected
    await svc.deliver(_approved(CALL_3, at=NOW))  # the council withdrew call 3's needs
    assert await _codes(svc) == {"IMK4-DATA": "Data, renamed", "SHARED": "Shared, as call 4 said"}


async def test_a_list_naming_a_code_twice_counts_it_once(svc: ServiceHarness) -> None:
    await svc.deliver(_approved(CALL_4, _need("IMK4-DATA", "Data"), _need("IMK4-DATA", "Data, again")))
    assert await _codes(svc) == {"IMK4-DATA": "Data, again"}


# --- applications ------------------------------------------------------------------------------


async def test_an_application_names_one_of_its_projects_approved_needs(svc: ServiceHarness) -> None:
    await svc.deliver(_approved(CALL_4, _need("IMK4-DATA", "Data"), _need("IMK4-CYBER", "Cyber")))
    anna = await _learner(svc)
    cases = [
        ({"learning_need_code": "IMK4-NOPE"}, "known_learning_need"),
        ({"learning_need": WORDS}, "missing"),  # once a project has needs, an application names one
    ]
    for extra, rule in cases:
        refused = await svc.client.post("/applications", json={"project_code": "IMK", **extra}, headers=anna)
        assert refused.status_code == 422, refused.text
        (error,) = refused.json()["errors"]
        assert (error["field"], error["rule"]) == ("learning_need_code", rule)
        assert "IMK4-CYBER, IMK4-DATA" in error["message"]  # the codes allowed
    body = {"project_code": "IMK", "learning_need_code": "IMK4-CYBER", "learning_need": WORDS}
    applied = await svc.client.post("/applications", json=body, headers=anna)
    assert applied.status_code == 201, applied.text
    assert (applied.json()["learning_need_code"], applied.json()["learning_need"]) == ("IMK4-CYBER", WORDS)
    seen = await svc.client.get(
        f"/agency/applications/{applied.json()['id']}", headers=svc.as_("ilze", "agency_officer")
    )
    assert (seen.json()["learning_need_code"], seen.json()["learning_need"]) == ("IMK4-CYBER", WORDS)
    exported = await svc.client.get("/agency/applications.csv", headers=svc.as_("ilze", "agency_officer"))
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert (row["learning_need_code"], row["learning_need"]) == ("IMK4-CYBER", WORDS)


async def test_while_a_project_has_no_approved_needs_the_code_is_left_out(svc: ServiceHarness) -> None:
    await svc.deliver(_approved(CALL_4, _need("IMK4-DATA", "Data")))  # IMK's, not VARAM's
    anna = await _learner(svc)
    named = await svc.client.post(
        "/applications", json={"project_code": "VARAM", "learning_need_code": "IMK4-DATA"}, headers=anna
    )
    assert named.status_code == 422
    (error,) = named.json()["errors"]
    assert (error["field"], error["rule"]) == ("learning_need_code", "known_learning_need")
    assert "VARAM has no approved learning needs yet" in error["message"]
    applied = await svc.client.post(
        "/applications", json={"project_code": "VARAM", "learning_need": WORDS}, headers=anna
    )
    assert applied.status_code == 201, applied.text
    assert applied.json()["learning_need_code"] is None


async def test_the_published_submission_is_version_2_with_the_code_and_without_the_learners_words(
    svc: ServiceHarness,
) -> None:
    await svc.deliver(_approved(CALL_4, _need("IMK4-CYBER", "Cyber")))
    anna = await _learner(svc)
    body = {"project_code": "IMK", "learning_need_code": "IMK4-CYBER", "learning_need": WORDS}
    applied = (await svc.client.post("/applications", json=body, headers=anna)).json()
    submitted = [(t, d) for t, d in await _published(svc) if ".ApplicationSubmitted." in t]
    assert submitted == [
        (
            "lv.prasmes.accounts.ApplicationSubmitted.v2",
            {
                "application_id": applied["id"],
                "learner_id": "anna",
                "project_code": "IMK",
                "at": "2026-11-30T10:00:00Z",
                "learning_need_code": "IMK4-CYBER",
                "programme_id": None,
                "group_id": None,
            },
        )
    ]
    assert all(WORDS not in json.dumps(data) for _, data in await _published(svc))
    assert "lv.prasmes.accounts.ApplicationSubmitted.v1" not in await svc.outbox_types()


def test_a_version_1_submission_already_on_the_topic_is_still_readable() -> None:
    """Published before version 2 (with the learner's words): the registry still gives its model, so that a consumer
    reading the topic from its start, or a replayed dead letter, parses it."""
    model = event_class("lv.prasmes.accounts.ApplicationSubmitted.v1")
    assert model is ApplicationSubmitted
    old = {"application_id": str(uuid.uuid4()), "learner_id": "anna", "project_code": "IMK", "at": NOW.isoformat()}
    parsed = model.model_validate({**old, "learning_need": "datu analīze", "programme_id": None})
    assert isinstance(parsed, ApplicationSubmitted) and parsed.learning_need == "datu analīze"
