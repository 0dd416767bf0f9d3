"""Notices by e-mail, against a real SMTP server on 127.0.0.1 (SQLite and PostgreSQL): the mail that arrives has the
recipient, the language, the subject and the body; a duplicate event sends one mail; the server down for a while and
then up delivers everything exactly once; a refused address is given up at once with the reason; a restart between
sending and marking sends no second mail (the mail is in doubt, for an operator); preferences and legal notices."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from notifications.adapters.contacts import Contact, ContactsUnavailable, StaticContacts
from notifications.adapters.smtp import OutgoingMail, SmtpConfig, SmtpSender
from notifications.app import DEFINITION, daily_digests, send_mails
from notifications.db import mails as mails_db
from notifications.domain.mails import MAIL_STATES
from notifications.settings import NotificationsAdapters
from prasmes_contracts import to_kafka, topic_for
from prasmes_contracts.accounts import ApplicationApproved
from prasmes_contracts.calls import EvaluatorAssigned
from prasmes_contracts.surveys import SurveyInvited
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.clock import FixedClock
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.smtp import MailServer
from prasmes_testing.waiting import caught_up

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CONTACTS = {
    "anna": Contact("anna@example.lv", "lv"),
    "emily": Contact("emily@example.com", "en"),
    "refused": Contact("nobody@example.lv", "lv"),
    "officer": Contact("officer@agency.example.lv", "lv"),
}


class Crash(BaseException):
    """The process dies: not an exception the sender loop handles."""


@dataclass
class CrashAfterSending:
    """Sends for real, then the process stops before the mail is marked sent."""

    inner: SmtpSender
    armed: bool = True

    async def send(self, mail: OutgoingMail) -> None:
        await self.inner.send(mail)
        if self.armed:
            self.armed = False
            raise Crash


@dataclass
class World:
    svc: ServiceHarness
    clock: FixedClock
    server: MailServer
    adapters: NotificationsAdapters

    async def tick(self) -> int:
        return await send_mails(self.svc.app.state.runtime.context)

    async def approved(self, learner: str = "anna", amount: str = "500.00", **kw: Any) -> ApplicationApproved:
        event = ApplicationApproved(
            application_id=uuid.uuid4(), learner_id=learner, project_code="IMK", at=NOW, grant_amount=Decimal(amount)
        )
        await self.svc.deliver(event, **kw)
        return event

    async def mails(self, *states: str) -> list[dict[str, Any]]:
        admin = self.svc.as_("martins", "agency_admin")
        query = [("state", s) for s in states]
        response = await self.svc.client.get("/notifications/mails", params=query, headers=admin)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture
async def world(
    database_url: str, tmp_path: Path, token_issuer: TokenIssuer, mail_server: MailServer
) -> AsyncIterator[World]:
    mail_server.refuse["nobody@example.lv"] = 550
    settings = local_settings(
        DEFINITION,
        database_url,
        tmp_path,
        smtp_host=mail_server.host,
        smtp_port=mail_server.port,
        mail_retry_first_seconds=60,
        mail_max_attempts=3,
        mail_lease_seconds=300,
    )
    sender = SmtpSender(SmtpConfig(host=mail_server.host, port=mail_server.port, timeout=5))
    adapters = NotificationsAdapters(contacts=StaticContacts(CONTACTS), mailer=sender)
    clock = FixedClock(NOW)
    async with harness(DEFINITION, settings, token_issuer, clock, adapters) as svc:
        yield World(svc, clock, mail_server, adapters)


async def test_an_approval_arrives_by_mail_in_the_recipients_language(world: World) -> None:
    await world.approved("anna")
    await world.approved("emily", "250.00")
    await world.tick()
    by_recipient = {m["To"]: m for m in world.server.wait_for(2)}
    lv, en = by_recipient["anna@example.lv"], by_recipient["emily@example.com"]
    assert lv["Subject"] == "Pieteikums apstiprināts" and lv["Content-Language"] == "lv"
    assert en["Subject"] == "Application approved" and en["Content-Language"] == "en"
    text = en.get_body(preferencelist=("plain",))
    html = en.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "250.00 EUR" in text.get_content() and "IMK" in text.get_content()
    assert "http://127.0.0.1:8000" in text.get_content() and 'lang="en"' in html.get_content()
    assert await world.tick() == 0, "nothing left to send"
    assert len(world.server.messages) == 2


async def test_a_duplicate_event_sends_one_mail(world: World) -> None:
    event = ApplicationApproved(
        application_id=uuid.uuid4(), learner_id="anna", project_code="IMK", at=NOW, grant_amount=Decimal(500)
    )
    (envelope,) = await world.svc.deliver(event)
    producer = world.svc.bus.producer()
    await producer.start()
    try:  # the same record (the same event id) delivered again, as the bus may
        await producer.send_many([(topic_for(ApplicationApproved).name, to_kafka(envelope, event.partition_key()))])
    finally:
        await producer.stop()
    await caught_up(world.svc.bus, "notifications", [topic_for(ApplicationApproved).name], timeout=20)
    await world.tick()
    await world.tick()
    assert len(world.server.wait_for(1)) == 1
    assert len(world.server.messages) == 1


async def test_the_server_down_then_up_delivers_everything_once(world: World) -> None:
    world.server.stop()
    for _ in range(3):
        await world.approved("anna")
    await world.tick()
    waiting = await world.mails("queued")
    assert len(waiting) == 3 and all(m["attempts"] == 1 and m["last_error"] for m in waiting)
    assert {m["next_attempt_at"][:19] for m in waiting} == {(NOW + timedelta(seconds=60)).isoformat()[:19]}
    world.server.start()
    assert await world.tick() == 0, "not before the delay"
    world.clock.at = NOW + timedelta(seconds=61)
    await world.tick()
    arrived = world.server.wait_for(3)
    assert len({m["Message-ID"] for m in arrived}) == 3
    await world.tick()
    assert len(world.server.messages) == 3 and len(await world.mails("sent")) == 3


async def test_a_server_down_for_good_is_given_up_after_the_bound_with_the_reason(world: World) -> None:
    world.server.stop()
    await world.approved("anna")
    for minutes in (0, 2, 5):
        world.clock.at = NOW + timedelta(minutes=minutes)
        await world.tick()
    (failed,) = await world.mails()
    assert failed["state"] == "failed" and failed["attempts"] == 3
    assert failed["last_error"].startswith("gave up after 3 attempts")


async def test_a_refused_address_is_given_up_at_once_and_shown_to_operators(world: World) -> None:
    await world.approved("refused")
    await world.approved("ghost")  # not in the directory
    await world.tick()
    failed = {m["recipient_id"]: m for m in await world.mails()}
    assert failed["refused"]["attempts"] == 1 and "550" in failed["refused"]["last_error"]
    assert "nobody@example.lv" not in failed["refused"]["last_error"], "no address in what is stored"
    assert "no e-mail address" in failed["ghost"]["last_error"]
    learner = await world.svc.client.get("/notifications/mails", headers=world.svc.as_("anna"))
    assert learner.status_code == 403


async def test_a_restart_between_sending_and_marking_sends_no_second_mail(world: World) -> None:
    crashing = CrashAfterSending(SmtpSender(SmtpConfig(host=world.server.host, port=world.server.port)))
    object.__setattr__(world.adapters, "mailer", crashing)
    await world.approved("anna")
    with pytest.raises(Crash):
        await world.tick()
    assert len(world.server.wait_for(1)) == 1
    world.clock.at = NOW + timedelta(seconds=30)  # restarted, within the lease: still being sent
    await world.tick()
    world.clock.at = NOW + timedelta(minutes=6)
    await world.tick()
    (doubtful,) = await world.mails()
    assert doubtful["state"] == "in_doubt" and len(world.server.messages) == 1
    admin = world.svc.as_("martins", "agency_admin")
    again = await world.svc.client.post(f"/notifications/mails/{doubtful['id']}/retry", headers=admin)
    assert again.status_code == 200 and again.json()["state"] == "queued"
    twice = await world.svc.client.post(f"/notifications/mails/{doubtful['id']}/retry", headers=admin)
    assert twice.status_code == 409 and twice.json()["current"]["state"] == "queued"
    await world.tick()
    first, second = world.server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == doubtful["message_id"]


async def test_preferences_switch_a_category_off_but_never_a_legal_one(world: World) -> None:
    anna = world.svc.as_("anna")
    client = world.svc.client
    before = (await client.get("/notifications/preferences", headers=anna)).json()
    assert before["email"]["surveys"] is True and set(before["legal"]) == {"applications", "grants", "decisions"}
    off = await client.put("/notifications/preferences", json={"email": {"surveys": False}}, headers=anna)
    assert off.status_code == 200 and off.json()["email"]["surveys"] is False
    for body, rule in (({"grants": False}, "legal_notice"), ({"weather": True}, "unknown_category")):
        refused = await client.put("/notifications/preferences", json={"email": body}, headers=anna)
        assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == rule
    invited = SurveyInvited(
        survey_id=uuid.uuid4(),
        learner_id="anna",
        kind="completion",
        programme_id=uuid.uuid4(),
        institution_id=uuid.uuid4(),
        closes_at=NOW + timedelta(days=30),
        at=NOW,
    )
    await world.svc.deliver(invited)
    await world.approved("anna")
    await world.tick()
    (only,) = world.server.wait_for(1)
    assert only["Subject"] == "Pieteikums apstiprināts"
    notices = (await client.get("/notifications", headers=anna)).json()
    assert notices["total"] == 2, "the in-app notice is made either way"
    unread = (await client.get("/notifications/unread-count", headers=anna)).json()
    assert unread == {"unread": 2}


# --------------------------------------------------------------------------- the staff's daily digest


def assigned(at: datetime) -> EvaluatorAssigned:
    offer = uuid.uuid4()
    return EvaluatorAssigned(
        offer_id=offer,
        call_id=uuid.uuid4(),
        institution_id=uuid.uuid4(),
        at=at,
        evaluator_id="officer",
        call_code="IMK-4",
    )


async def test_only_staff_may_choose_the_daily_digest_and_anyone_may_drop_it(world: World) -> None:
    client = world.svc.client
    refused = await client.put("/notifications/preferences", json={"digest": True}, headers=world.svc.as_("anna"))
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "digest",
            "rule": "staff_only",
            "message": "a daily digest is for the staff of institutions and the agency",
        }
    ]
    both = await client.put(
        "/notifications/preferences", json={"digest": True, "email": {"grants": False}}, headers=world.svc.as_("anna")
    )
    assert [e["rule"] for e in both.json()["errors"]] == ["legal_notice", "staff_only"]  # every problem, at once
    dropped = await client.put("/notifications/preferences", json={"digest": False}, headers=world.svc.as_("anna"))
    assert dropped.status_code == 200 and dropped.json()["digest"] is False
    staff = world.svc.as_("peteris", "provider_staff")
    chosen = await client.put("/notifications/preferences", json={"digest": True}, headers=staff)
    assert chosen.status_code == 200 and chosen.json()["digest"] is True
    assert (await client.get("/notifications/preferences", headers=staff)).json()["digest"] is True


async def test_an_officer_who_chose_the_digest_gets_one_mail_a_morning_listing_what_waits(world: World) -> None:
    client, officer = world.svc.client, world.svc.as_("officer", "agency_officer")
    chosen = await client.put("/notifications/preferences", json={"digest": True}, headers=officer)
    assert chosen.status_code == 200 and chosen.json()["digest"] is True
    world.clock.at = NOW + timedelta(minutes=1)
    await world.svc.deliver(*(assigned(NOW) for _ in range(3)))
    await world.tick()
    assert world.server.messages == [], "no mail of its own for a notice the digest will list"
    context = world.svc.app.state.runtime.context
    assert await daily_digests(context) == 0, "the first digest is the next morning's"
    first = (await client.get("/notifications", headers=officer)).json()["items"][0]
    await client.post(f"/notifications/{first['id']}/read", headers=officer)

    world.clock.at = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)  # 06:30 in Riga: not yet
    assert await daily_digests(context) == 0
    world.clock.at = datetime(2026, 12, 1, 5, 5, tzinfo=UTC)  # 07:05 in Riga
    assert await daily_digests(context) == 1
    assert await daily_digests(context) == 0, "one a day"
    await world.tick()
    (digest,) = world.server.wait_for(1)
    assert digest["To"] == "officer@agency.example.lv"
    assert digest["Subject"] == "Jūsu dienas kopsavilkums platformā Prasmes"
    text = digest.get_body(preferencelist=("plain",))
    assert text is not None
    assert "Jūs gaida nelasīti paziņojumi: 2." in text.get_content()  # the one read is not listed
    assert text.get_content().count("- Piedāvājums nodots vērtēšanai") == 2

    world.clock.at = datetime(2026, 12, 2, 5, 5, tzinfo=UTC)
    assert await daily_digests(context) == 0, "nothing new since: no mail"
    await client.put("/notifications/preferences", json={"digest": False}, headers=officer)
    await world.svc.deliver(assigned(world.clock.at))
    await world.tick()
    assert len(world.server.wait_for(2)) == 2, "without the digest, each notice is mailed again"


@dataclass
class CountedContacts:
    """The directory, counting the lookups; `down` makes it unreachable."""

    inner: StaticContacts
    lookups: list[list[str]]
    down: bool = False

    async def contacts(self, user_ids: Sequence[str]) -> dict[str, Contact]:
        self.lookups.append(list(user_ids))
        if self.down:
            raise ContactsUnavailable("ConnectError")
        return await self.inner.contacts(user_ids)

    async def holders(self, role: str) -> list[str]:
        return await self.inner.holders(role)


def _counted(world: World) -> CountedContacts:
    counted = CountedContacts(StaticContacts(CONTACTS), [])
    object.__setattr__(world.adapters, "contacts", counted)
    return counted


async def test_a_round_asks_the_directory_once_and_refuses_the_unknown_without_sending(world: World) -> None:
    counted = _counted(world)
    ghosts = [f"ghost-{n}" for n in range(12)]
    for learner in ["anna", *ghosts, "emily"]:
        await world.approved(learner)
    assert await world.tick() == 14
    assert len(counted.lookups) == 1 and sorted(counted.lookups[0]) == sorted(["anna", "emily", *ghosts])
    assert {m["To"] for m in world.server.wait_for(2)} == {"anna@example.lv", "emily@example.com"}
    failed = await world.mails("failed")
    assert sorted(m["recipient_id"] for m in failed) == sorted(ghosts)
    assert all(m["attempts"] == 1 and "no e-mail address" in m["last_error"] for m in failed)
    assert len(await world.mails("sent")) == 2 and await world.tick() == 0


async def test_the_directory_down_puts_every_mail_off_and_they_go_once_it_answers(world: World) -> None:
    counted = _counted(world)
    counted.down = True
    await world.approved("anna")
    await world.approved("emily")
    await world.tick()
    waiting = await world.mails("queued")
    assert len(waiting) == 2 and not world.server.messages
    assert all(m["attempts"] == 1 and "directory is unavailable" in m["last_error"] for m in waiting)
    counted.down = False
    assert await world.tick() == 0, "not before the delay"
    world.clock.at = NOW + timedelta(seconds=61)
    await world.tick()
    assert {m["To"] for m in world.server.wait_for(2)} == {"anna@example.lv", "emily@example.com"}
    assert len(await world.mails("sent")) == 2


async def test_marking_many_at_once_leaves_a_mail_another_sender_took(world: World) -> None:
    await world.approved("anna")
    await world.approved("emily")
    database = world.svc.app.state.runtime.context.database
    async with database.session() as session:
        due = await mails_db.due(session, NOW, 10)
    taken, left = sorted(due, key=lambda m: m.recipient_id)
    async with database.transaction() as session:
        assert await mails_db.claim(session, [taken], NOW) == {taken.id}
        refused = [m.claimed(NOW).refused("no address") for m in due]
        await mails_db.save_all(session, refused, expected="queued")
    states = {m["recipient_id"]: (m["state"], m["last_error"]) for m in await world.mails(*MAIL_STATES)}
    assert states == {taken.recipient_id: ("sending", None), left.recipient_id: ("failed", "no address")}
