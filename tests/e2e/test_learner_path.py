"""A learner's whole path through the gateway, from account to completion and the survey of the studies, with the
events checked on the topics.

The services run as processes on the embedded defaults and on Kafka + PostgreSQL, notifications' mails going to a
real SMTP server the test starts (aiosmtpd on 127.0.0.1). Catalog's events (a published programme, a group, a member
of staff) and calls' approved learning needs are put on the bus as those services publish them. The survey is the
one surveys makes of accounts' StudiesCompleted: its notice, its answer, its results for the institution (too few
answers: withheld) and for the agency, and its event without the learner. The approval is a notice in the learner's
inbox and a mail to the address the gateway's directory has for her, in her language (Jānis, approved beside her,
reads English); the address is on no topic, in no other service's database, in no log.
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from gateway.identity import DEV_USERS
from prasmes_contracts import CloudEvent, Event
from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationSubmittedV2,
    EnrolmentConfirmed,
    GrantReleased,
    GrantReserved,
    GrantSpent,
    StudiesCompleted,
    StudiesStarted,
)
from prasmes_contracts.calls import LearningNeed, LearningNeedsApproved
from prasmes_contracts.catalog import GroupScheduled, ProgrammePublished, ProviderRegistered, ProviderUserAdded
from prasmes_contracts.surveys import SurveyAnswered, SurveyInvited
from prasmes_devtools.devstack import Stack
from prasmes_runtime.bus import Bus
from prasmes_runtime.clock import RIGA
from prasmes_testing.events import events_on, publish
from prasmes_testing.leaks import ScanReport, needles_for_personal_code, scan
from prasmes_testing.smtp import MailServer
from prasmes_testing.support import eventually, personal_code

from tests.e2e.leak_check import other_databases, stack_bus
from tests.e2e.story_support import login, one_mail, running_stack

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC)
TODAY: date = NOW.astimezone(RIGA).date()
"""Riga's day, as accounts counts them: study dates may not lie in the future; the group runs around today."""
WORDS = "Gribu prast aizsargāt sava uzņēmuma datus"
"""Anna's own words about her learning need: accounts keeps them, no topic carries them."""
IMPROVEMENT = "Vairāk praktisko uzdevumu ar īstiem uzbrukumiem"
"""Anna's words on what to improve: surveys keeps them, no topic carries them."""
STARS = {"knowledge_skills": 5, "content_quality": 4, "teacher": 5, "learning_process": 3}
CHECKS = {"description_matched": True, "prior_knowledge_right": True, "equipment_right": False}
DIGCOMP_AREAS = (
    "information_and_data_literacy",
    "communication_and_collaboration",
    "digital_content_creation",
    "safety",
    "problem_solving",
)
DIGCOMP_BEFORE, DIGCOMP_AFTER = 3, 5


@pytest.fixture(scope="module")
def mail_server() -> Iterator[MailServer]:
    """The SMTP server notifications sends to, for the module (each stack clears it when it starts)."""
    with MailServer() as server:
        yield server


@pytest.fixture(scope="module", params=["embedded", "kafka"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mail_server: MailServer
) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp(f"path-{request.param}")
    mail_server.clear()
    service_env = {"notifications": {"SMTP_HOST": mail_server.host, "SMTP_PORT": str(mail_server.port)}}
    names = ("gateway", "accounts", "notifications", "surveys")
    with running_stack(request, var_dir, request.param, names, "path", service_env) as stack:
        yield stack


async def test_from_account_to_completion(stack: Stack, mail_server: MailServer) -> None:
    bus = stack_bus(stack)
    code = personal_code(70_000)
    institution, programme, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as client:
        anna, anna_id = await login(client, "anna")
        officer, _ = await login(client, "ilze")
        staff, staff_id = await login(client, "peteris")
        await publish(
            bus,
            ProviderRegistered(
                institution_id=institution, at=NOW, name=_registered_name(institution), register_number="4213900000"
            ),
            ProviderUserAdded(institution_id=institution, at=NOW, user_id=staff_id, role="provider_staff"),
            ProgrammePublished(
                programme_id=programme,
                institution_id=institution,
                at=NOW,
                title={"lv": "Kiberdrošības pamati", "en": "Cyber security basics"},
                digcomp_level=4,
                hours=160,
                cost_per_participant=Decimal("320.00"),
                coefficient_table_version=1,
                institution_name="Liepājas Valsts tehnikums",
            ),
            GroupScheduled(
                group_id=group,
                programme_id=programme,
                institution_id=institution,
                at=NOW,
                capacity=12,
                start_date=TODAY - timedelta(days=14),
                end_date=TODAY + timedelta(days=60),
                city="Liepāja",
                language="lv",
            ),
        )

        await _approve_learning_needs(client, bus)
        account = await client.post("/api/accounts/accounts", json={"personal_code": code}, headers=anna)
        assert account.status_code == 201, account.text
        await client.patch(
            "/api/accounts/accounts/me/profile",
            json={"first_name": "Anna", "employment_status": "employed"},
            headers=anna,
        )
        # Her digital skills before the studies (dated today: the studies start today, so that this one counts)
        levels = dict.fromkeys(DIGCOMP_AREAS, DIGCOMP_BEFORE)
        assessed = await client.post("/api/accounts/accounts/me/digcomp", json={"levels": levels}, headers=anna)
        assert assessed.status_code == 201, assessed.text
        applied = await client.post(
            "/api/accounts/applications",
            json={"project_code": "IMK", "learning_need_code": "IMK4-CYBER", "learning_need": WORDS},
            headers=anna,
        )
        assert applied.status_code == 201, applied.text
        assert (applied.json()["learning_need_code"], applied.json()["learning_need"]) == ("IMK4-CYBER", WORDS)
        application_id = applied.json()["id"]
        approved = await client.post(f"/api/accounts/agency/applications/{application_id}/approval", headers=officer)
        assert approved.json()["state"] == "approved"
        await _approve_janis(client, officer)

        enrolment: dict[str, str] = {}

        async def enrolled() -> bool:  # the group reaches accounts through the bus
            response = await client.post(
                f"/api/accounts/applications/{application_id}/enrolment", json={"group_id": str(group)}, headers=anna
            )
            enrolment.update(response.json() if response.status_code == 201 else {})
            return response.status_code == 201

        await eventually(enrolled, timeout=30, interval=0.5)
        enrolment_id = enrolment["id"]
        started = await client.post(
            f"/api/accounts/provider/enrolments/{enrolment_id}/start",
            json={"started_on": TODAY.isoformat()},
            headers=staff,
        )
        assert started.status_code == 200, started.text
        completed = await client.post(
            f"/api/accounts/provider/enrolments/{enrolment_id}/completion",
            json={"completed_on": TODAY.isoformat(), "hours_attended": 156, "result": "passed"},
            headers=staff,
        )
        assert completed.json()["state"] == "completed"
        grant = (await client.get("/api/accounts/accounts/me/grant", headers=anna)).json()
        assert (grant["spent"], grant["released"], grant["available"]) == ("320.00", "180.00", "0.00")
        await _notified(client, anna, {"welcome", "application_approved", "grant_spent", "grant_released"})
        await _approval_mailed(client, anna, mail_server)
        await _officer_told_of_registration(client, officer, mail_server, _registered_name(institution))
        (study,) = (await client.get("/api/accounts/accounts/me/studies", headers=anna)).json()
        assert study["institution_name"] == "Liepājas Valsts tehnikums"
        assert study["programme_title"]["en"] == "Cyber security basics" and study["enrolment"]["hours_attended"] == 156
        await _answer_survey(client, anna, programme)
        await _read_results(client, staff, officer, institution, group)

    await _check_topics(bus, anna_id, application_id, enrolment_id)
    await _check_survey_topics(bus, anna_id, enrolment_id, programme)
    report = await _no_personal_data(stack, code)
    assert report.values["notifications"] > 0 and report.records["accounts.studies"] > 0
    assert report.values["surveys"] > 0 and report.records["surveys.answers"] > 0
    assert report.records["accounts.applications"] > 0


async def _approve_janis(client: httpx.AsyncClient, officer: dict[str, str]) -> None:
    """Jānis, who reads the platform in English, has an application approved too (his mail: in English)."""
    janis, _ = await login(client, "janis")
    account = await client.post("/api/accounts/accounts", json={"personal_code": personal_code(70_001)}, headers=janis)
    assert account.status_code == 201, account.text
    applied = await client.post(
        "/api/accounts/applications",
        json={"project_code": "IMK", "learning_need_code": "IMK4-CYBER", "learning_need": "Datu drošība"},
        headers=janis,
    )
    assert applied.status_code == 201, applied.text
    approved = await client.post(f"/api/accounts/agency/applications/{applied.json()['id']}/approval", headers=officer)
    assert approved.json()["state"] == "approved", approved.text


async def _approval_mailed(client: httpx.AsyncClient, anna: dict[str, str], server: MailServer) -> None:
    """The approval in the inbox (unread) and by mail, to the directory's address, in Latvian for Anna and in English
    for Jānis, with the amount reserved; the e-mail preferences answer through the gateway."""
    unread = await client.get("/api/notifications/notifications/unread-count", headers=anna)
    assert unread.status_code == 200 and unread.json()["unread"] >= 1, unread.text
    preferences = await client.get("/api/notifications/notifications/preferences", headers=anna)
    assert preferences.status_code == 200, preferences.text
    assert preferences.json()["email"]["applications"] is True and "applications" in preferences.json()["legal"]
    for user, subject, text in (
        ("anna", "Pieteikums apstiprināts", "rezervēti 500.00 EUR"),
        ("janis", "Application approved", "500.00 EUR is reserved for you"),
    ):
        mail = await one_mail(server, DEV_USERS[user].email, subject)
        assert mail["Content-Language"] == DEV_USERS[user].language
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None and text in body.get_content() and "IMK" in body.get_content()


async def _no_personal_data(stack: Stack, code: str) -> ScanReport:
    """Anna's personal code (its value, not only a key's name) and the learners' e-mail addresses (the directory's:
    notifications asks for them at send time and keeps none) in no other service's database (notifications' among
    them), on no record of any topic or its dead letters, in no log the stack wrote: leak_check's rule and the
    addresses, in one scan (reading every topic is what takes the time on Kafka)."""
    logs = sorted((stack.var_dir / "logs").glob("*.log"))
    assert logs, f"no logs in {stack.var_dir / 'logs'}"
    needles = (*needles_for_personal_code(code), DEV_USERS["anna"].email, DEV_USERS["janis"].email)
    report = await scan(needles, databases=other_databases(stack), bus=stack_bus(stack), files=logs)
    assert report.leaks == [], report.describe()
    return report


async def _approve_learning_needs(client: httpx.AsyncClient, bus: Bus) -> None:
    """IMK's 4th call's approved learning needs, as calls publishes them, until accounts lists them (public)."""
    approved = LearningNeedsApproved(
        call_id=uuid.uuid4(),
        at=NOW,
        project_code="IMK",
        approved_on=TODAY,
        needs=[LearningNeed(code="IMK4-CYBER", title={"lv": "Kiberdrošība", "en": "Cyber security"})],
    )
    await publish(bus, approved, source="/prasmes/calls")

    async def listed() -> bool:
        project = (await client.get("/api/accounts/funding-projects/IMK")).json()
        return "IMK4-CYBER" in {n["code"] for n in project["learning_needs"]}

    await eventually(listed, timeout=30, interval=0.5)


def _registered_name(institution: uuid.UUID) -> str:
    """This run's own (the broker may bring other runs' registrations to the officer too)."""
    return f"Mācību centrs {institution.hex[:8]}"


async def _officer_told_of_registration(
    client: httpx.AsyncClient, officer: dict[str, str], server: MailServer, name: str
) -> None:
    """The registration waits for the agency: the officer (whom notifications learns from the gateway's directory,
    with its service credential) has it in her inbox, and by mail in her language."""

    async def in_inbox() -> bool:
        items = (await client.get("/api/notifications/notifications?limit=100", headers=officer)).json()["items"]
        return any(n["kind"] == "registration_waiting" and name in n["body"]["lv"] for n in items)

    def mailed() -> list[str]:
        ilze = DEV_USERS["ilze"]
        plain = [m.get_body(preferencelist=("plain",)) for m in server.messages if m["To"] == ilze.email]
        return [text for part in plain if part is not None and name in (text := part.get_content())]

    async def mailed_once() -> bool:
        return len(mailed()) == 1

    await eventually(in_inbox, timeout=30, interval=0.5)
    await eventually(mailed_once, timeout=20, interval=0.2)
    assert "gaida apstiprinājumu" in mailed()[0]


async def _notified(client: httpx.AsyncClient, headers: dict[str, str], kinds: set[str]) -> None:
    """A notice on every change of the learner's grant."""

    async def arrived() -> bool:
        items = (await client.get("/api/notifications/notifications?limit=100", headers=headers)).json()["items"]
        return kinds <= {n["kind"] for n in items}

    await eventually(arrived, timeout=30, interval=0.5)


async def _check_topics(bus: Bus, learner_id: str, application_id: str, enrolment_id: str) -> None:
    expected: dict[str, list[type[Event]]] = {
        "accounts.accounts": [AccountOpened],
        "accounts.applications": [ApplicationSubmittedV2, ApplicationApproved],
        "accounts.grants": [GrantReserved, GrantSpent, GrantReleased],
        "accounts.studies": [EnrolmentConfirmed, StudiesStarted, StudiesCompleted],
    }

    async def mine(topic: str) -> list[str]:
        return [e.type for e in await events_on(bus, topic) if e.data.get("learner_id") == learner_id]

    async def all_there() -> bool:
        for topic, events in expected.items():
            if [e.event_type() for e in events] != (await mine(topic))[-len(events) :]:
                return False
        return True

    await eventually(all_there, timeout=30, interval=0.5)
    studies = [e for e in await events_on(bus, "accounts.studies") if e.data.get("enrolment_id") == enrolment_id]
    assert studies[-1].data["hours_attended"] == 156
    spent = [
        e for e in await events_on(bus, "accounts.grants", GrantSpent) if e.data["application_id"] == application_id
    ]
    assert spent[-1].data["amount"] == "320.00"
    (submitted,) = [
        e
        for e in await events_on(bus, "accounts.applications", ApplicationSubmittedV2)
        if e.data["application_id"] == application_id
    ]
    assert submitted.data["learning_need_code"] == "IMK4-CYBER" and "learning_need" not in submitted.data
    for topic in expected:
        for event in await events_on(bus, topic):
            assert "personal_code" not in event.data and "first_name" not in event.data
            assert WORDS not in str(event.data)


async def _answer_survey(client: httpx.AsyncClient, anna: dict[str, str], programme: uuid.UUID) -> None:
    """The invitation's notice leads to the survey: Anna reads it, saves a draft, submits it, and only once."""
    notices: list[dict[str, Any]] = []

    async def invited() -> bool:  # StudiesCompleted -> surveys -> SurveyInvited -> notifications
        items = (await client.get("/api/notifications/notifications?limit=100", headers=anna)).json()["items"]
        notices[:] = [n for n in items if n["kind"] == "survey_invited"]
        return bool(notices)

    await eventually(invited, timeout=30, interval=0.5)
    (notice,) = notices
    reference = notice["reference"]
    assert reference["type"] == "survey" and reference["path"] == f"/surveys/{reference['id']}"
    survey_id = reference["id"]
    mine = (await client.get("/api/surveys/surveys/mine", headers=anna)).json()
    assert mine["total"] == 1
    (listed,) = mine["items"]
    assert (listed["id"], listed["kind"], listed["status"]) == (survey_id, "completion", "open")
    assert listed["programme_id"] == str(programme)

    url = f"/api/surveys{reference['path']}"
    survey = (await client.get(url, params={"lang": "en"}, headers=anna)).json()
    assert survey["questionnaire"]["title"] == "Study evaluation survey" and survey["answers"] == {}
    questions = {q["id"]: q for q in survey["questionnaire"]["questions"]}
    assert {*STARS, *CHECKS, "digcomp_after"} <= questions.keys()
    assert (questions["digcomp_after"]["min"], questions["digcomp_after"]["max"]) == (1, 8)
    assert not questions["improvement"]["required"]

    draft = {"knowledge_skills": STARS["knowledge_skills"], "improvement": IMPROVEMENT}
    saved = await client.put(f"{url}/draft", json={"answers": draft}, headers=anna)
    assert saved.status_code == 200, saved.text
    resumed = (await client.get(url, headers=anna)).json()
    assert resumed["answers"] == draft and resumed["status"] == "open" and resumed["saved_at"] is not None

    answers = {**STARS, **CHECKS, "digcomp_after": DIGCOMP_AFTER, "improvement": IMPROVEMENT}
    submitted = await client.post(f"{url}/submission", json={"answers": answers}, headers=anna)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and submitted.json()["answers"] == answers
    again = await client.post(f"{url}/submission", json={"answers": answers}, headers=anna)
    assert again.status_code == 409, again.text


async def _read_results(
    client: httpx.AsyncClient,
    staff: dict[str, str],
    officer: dict[str, str],
    institution: uuid.UUID,
    group: uuid.UUID,
) -> None:
    """One answer: the institution's member of staff sees that it came, not what it says (fewer than 3 answered);
    the agency sees the group's stars and the skill gain."""
    base = "/api/surveys/survey-results"
    mine = await client.get(f"{base}/institutions/{institution}", headers=staff)
    assert mine.status_code == 200, mine.text
    results = mine.json()
    assert (results["invited"]["completion"], results["answered"]["completion"]) == (1, 1)
    assert results["completion"] is None and results["withheld"] is True and results["min_shown"] == 3
    refused = await client.get(f"{base}/groups/{group}", headers=staff)
    assert refused.status_code == 403, refused.text

    seen = await client.get(f"{base}/groups/{group}", headers=officer)
    assert seen.status_code == 200, seen.text
    agency = seen.json()
    assert agency["withheld"] is False and agency["scope"]["institution_id"] == str(institution)
    completion = agency["completion"]
    assert completion["answers"] == 1 and Decimal(completion["mean"]) == Decimal("4.3")  # 17 / 4, half up
    assert {a: Decimal(r["mean"]) for a, r in completion["aspects"].items()} == STARS
    assert Decimal(completion["aspects"]["teacher"]["distribution"]["5"]) == 100
    assert completion["checks"]["equipment_right"]["answers"] == 1
    assert Decimal(completion["checks"]["equipment_right"]["no"]) == 100
    gain = completion["skill_gain"]  # DigComp after the studies less her self-assessment before them
    assert gain["answers"] == 1 and Decimal(gain["mean"]) == DIGCOMP_AFTER - DIGCOMP_BEFORE


async def _check_survey_topics(bus: Bus, learner_id: str, enrolment_id: str, programme: uuid.UUID) -> None:
    """The invitation (internal) names the learner; the answer names no one and carries no words."""

    found: list[CloudEvent] = []

    async def answered() -> bool:
        events = await events_on(bus, "surveys.answers", SurveyAnswered)
        found[:] = [e for e in events if e.data["programme_id"] == str(programme)]
        return bool(found)

    await eventually(answered, timeout=30, interval=0.5)
    (answer,) = found
    assert answer.data["stars"] == STARS and answer.data["digcomp_after"] == DIGCOMP_AFTER
    assert answer.data["checks"] == CHECKS
    for field in ("learner_id", "survey_id", "enrolment_id", "group_id", "improvement"):
        assert field not in answer.data
    assert learner_id not in str(answer) and enrolment_id not in str(answer) and IMPROVEMENT not in str(answer)
    (invitation,) = [
        e
        for e in await events_on(bus, "surveys.invitations", SurveyInvited)
        if e.data["programme_id"] == str(programme)
    ]
    assert invitation.data["learner_id"] == learner_id
    for topic in ("surveys.invitations", "surveys.answers", "surveys.ratings", "surveys.quality"):
        for event in await events_on(bus, topic):
            assert IMPROVEMENT not in str(event.data) and WORDS not in str(event.data)
