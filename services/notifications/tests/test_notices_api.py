"""A user's notices over HTTP (SQLite and PostgreSQL): one's own only, newest first, paged within the platform's
bounds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from notifications.app import DEFINITION
from notifications.consumers import CONSUMERS
from prasmes_contracts import to_kafka, topic_for
from prasmes_contracts.accounts import AccountOpened
from prasmes_contracts.surveys import SurveyInvited, SurveyKind, SurveyReminded
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.waiting import caught_up

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
async def notifications(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[ServiceHarness]:
    async with harness(DEFINITION, local_settings(DEFINITION, database_url, tmp_path), token_issuer) as running:
        yield running


def _violations(response: httpx.Response) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["field"], e["rule"]) for e in response.json()["errors"]}


async def test_a_learner_reads_their_own_notices_in_pages(notifications: ServiceHarness) -> None:
    await notifications.deliver(
        AccountOpened(account_id=uuid.uuid4(), learner_id="anna", opened_at=NOW),
        AccountOpened(account_id=uuid.uuid4(), learner_id="janis", opened_at=NOW),
    )
    page = (await notifications.client.get("/notifications", headers=notifications.as_("anna"))).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    (notice,) = page["items"]
    assert notice["kind"] == "welcome"
    later = await notifications.client.get("/notifications", params={"offset": 1}, headers=notifications.as_("anna"))
    assert later.json()["items"] == [] and later.json()["total"] == 1
    other = await notifications.client.get(f"/notifications/{notice['id']}", headers=notifications.as_("janis"))
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"offset": "9223372036854775808"}, "offset", "less_than_equal"),
        ({"offset": "-1"}, "offset", "greater_than_equal"),
        ({"limit": "201"}, "limit", "less_than_equal"),
        ({"limit": "0"}, "limit", "greater_than_equal"),
    ],
)
async def test_a_page_out_of_bounds_is_a_422(
    notifications: ServiceHarness, query: dict[str, str], field: str, rule: str
) -> None:
    response = await notifications.client.get("/notifications", params=query, headers=notifications.as_("anna"))
    assert _violations(response) == {(field, rule)}


def _invitation(
    event_class: type[SurveyInvited] | type[SurveyReminded], survey_id: uuid.UUID, kind: SurveyKind
) -> SurveyInvited | SurveyReminded:
    return event_class(
        survey_id=survey_id,
        learner_id="anna",
        kind=kind,
        programme_id=uuid.uuid4(),
        institution_id=uuid.uuid4(),
        closes_at=datetime(2026, 12, 30, 22, 30, tzinfo=UTC),  # 31 December in Riga
        at=NOW,
    )


def test_the_consumer_subscribes_to_the_survey_invitations() -> None:
    (consumer,) = CONSUMERS
    assert "surveys.invitations" in consumer.topics
    assert topic_for(SurveyInvited).name == topic_for(SurveyReminded).name == "surveys.invitations"


async def test_survey_invitations_and_reminders_become_the_learners_notices_once_each(
    notifications: ServiceHarness,
) -> None:
    completed, discontinued = uuid.uuid4(), uuid.uuid4()
    invited = _invitation(SurveyInvited, completed, "completion")
    envelopes = await notifications.deliver(
        invited,
        _invitation(SurveyInvited, discontinued, "discontinuation"),
        _invitation(SurveyReminded, completed, "completion"),
    )
    # The invitation delivered again (as the relay or the bus may, at least once): the inbox knows it.
    producer = notifications.bus.producer()
    await producer.start()
    try:
        await producer.send_many([("surveys.invitations", to_kafka(envelopes[0], invited.partition_key()))])
    finally:
        await producer.stop()
    await caught_up(notifications.bus, "notifications", ["surveys.invitations"], timeout=20)

    page = (await notifications.client.get("/notifications", headers=notifications.as_("anna"))).json()
    by_survey = {(n["reference"]["id"], n["kind"]): n for n in page["items"]}
    assert page["total"] == 3 and set(by_survey) == {
        (str(completed), "survey_invited"),
        (str(discontinued), "survey_invited"),
        (str(completed), "survey_reminded"),
    }
    first = by_survey[(str(completed), "survey_invited")]
    assert first["reference"] == {"type": "survey", "id": str(completed), "path": f"/surveys/{completed}"}
    assert first["body"]["lv"].endswith("līdz 31.12.2026.") and "completed" in first["body"]["en"]
    assert "discontinued" in by_survey[(str(discontinued), "survey_invited")]["body"]["en"]
    assert by_survey[(str(completed), "survey_reminded")]["title"]["en"] == "Reminder: evaluate your studies"
    others = (await notifications.client.get("/notifications", headers=notifications.as_("janis"))).json()
    assert others["total"] == 0


async def test_a_welcome_notice_is_about_nothing_to_open(notifications: ServiceHarness) -> None:
    await notifications.deliver(AccountOpened(account_id=uuid.uuid4(), learner_id="anna", opened_at=NOW))
    (notice,) = (await notifications.client.get("/notifications", headers=notifications.as_("anna"))).json()["items"]
    assert notice["reference"] is None
