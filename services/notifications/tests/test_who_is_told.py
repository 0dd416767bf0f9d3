"""Who is told what (SQLite and PostgreSQL): a learner of their application received, rejected (with the reason) and
of their place in a study group; an education institution's provider admins of its registration, its users, its
offers, their decisions and agreements, and its published programmes, one notice (and mail) per event and admin.
The admins are the read model of catalog's provider users: one removed is told nothing more. An agency officer of the
offer assigned to them and of the institution's answer to a clarification (the read model of calls' assignments)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from notifications.adapters.contacts import ContactsUnavailable, StaticContacts
from notifications.app import DEFINITION
from notifications.consumers import CONSUMERS
from notifications.db.mails import mails
from notifications.service import providers as provider_service
from notifications.service.officers import fan_out
from notifications.settings import build_adapters
from prasmes_contracts import Event, to_kafka, topic_for
from prasmes_contracts.accounts import ApplicationRejected, ApplicationSubmittedV2, EnrolmentConfirmed
from prasmes_contracts.calls import (
    ClarificationAnswered,
    ClarificationRequested,
    CooperationAgreementSigned,
    EvaluatorAssigned,
    OfferApproved,
    OfferRejected,
    OfferSubmitted,
)
from prasmes_contracts.catalog import (
    ProgrammePublished,
    ProviderApproved,
    ProviderRegistered,
    ProviderRejected,
    ProviderUserAdded,
    ProviderUserRemoved,
)
from prasmes_contracts.surveys import QualityFlagRaised
from prasmes_runtime import roles
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.events import publish
from prasmes_testing.harness import ServiceHarness, harness, local_settings
from prasmes_testing.support import eventually
from prasmes_testing.waiting import caught_up

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
INSTITUTION = uuid.UUID("0d5e3c1a-0000-4000-8000-000000000001")
OTHER_INSTITUTION = uuid.UUID("0d5e3c1a-0000-4000-8000-000000000002")
OFFER = uuid.UUID("0ffe0000-0000-4000-8000-000000000001")
CALL = uuid.uuid4()


OFFICERS = ["officer-a", "officer-b"]
"""The agency's officers as the directory names them (the tests' directory: no addresses)."""


@dataclass
class FlakyDirectory(StaticContacts):
    """The tests' directory, which can be down."""

    down: bool = False

    async def holders(self, role: str) -> list[str]:
        if self.down:
            raise ContactsUnavailable("ConnectError")
        return await super().holders(role)


@pytest.fixture
async def svc(database_url: str, tmp_path: Path, token_issuer: TokenIssuer) -> AsyncIterator[ServiceHarness]:
    settings = local_settings(DEFINITION, database_url, tmp_path)
    contacts = FlakyDirectory({}, staff={roles.AGENCY_OFFICER: OFFICERS, roles.AGENCY_ADMIN: ["admin-a"]})
    adapters = dataclasses.replace(build_adapters(settings), contacts=contacts)
    async with harness(DEFINITION, settings, token_issuer, adapters=adapters) as running:
        yield running


async def notices(svc: ServiceHarness, user: str) -> list[dict[str, Any]]:
    """The user's notices, oldest first."""
    page = (await svc.client.get("/notifications", params={"limit": 200}, headers=svc.as_(user))).json()
    items: list[dict[str, Any]] = page["items"]
    return sorted(items, key=lambda n: (n["created_at"], n["kind"]))


async def kinds(svc: ServiceHarness, user: str) -> list[str]:
    return sorted(n["kind"] for n in await notices(svc, user))


async def redeliver(svc: ServiceHarness, event: Event, envelope: Any) -> None:
    """The event again, with the same id (as the relay or the bus may deliver it, at least once)."""
    topic = topic_for(type(event)).name
    producer = svc.bus.producer()
    await producer.start()
    try:
        await producer.send_many([(topic, to_kafka(envelope, event.partition_key()))])
    finally:
        await producer.stop()
    await caught_up(svc.bus, "notifications", [topic], timeout=20)


def test_the_consumer_subscribes_to_the_institutions_offers_programmes_and_studies() -> None:
    (consumer,) = CONSUMERS
    assert {"catalog.providers", "catalog.programmes", "calls.offers", "accounts.studies"} <= set(consumer.topics)
    assert {"accounts.applications", "accounts.accounts", "accounts.grants", "surveys.invitations"} <= set(
        consumer.topics
    )
    assert {"calls.assignments", "surveys.quality"} <= set(consumer.topics)


# --------------------------------------------------------------------------- learners


async def test_a_learner_is_told_the_application_is_received_once(svc: ServiceHarness) -> None:
    application = uuid.uuid4()
    submitted = ApplicationSubmittedV2(
        application_id=application, learner_id="anna", project_code="IMK", at=NOW, learning_need_code="IMK4-CYBER"
    )
    (envelope,) = await svc.deliver(submitted)
    await redeliver(svc, submitted, envelope)
    (notice,) = await notices(svc, "anna")
    assert notice["kind"] == "application_submitted"
    assert notice["title"] == {"lv": "Pieteikums saņemts", "en": "Application received"}
    assert notice["body"] == {
        "lv": "Jūsu pieteikums projektā IMK ir saņemts. Par lēmumu jums paziņosim.",
        "en": "Your application in IMK has been received. You will be told of the decision.",
    }
    assert notice["reference"] == {
        "type": "application",
        "id": str(application),
        "path": f"/applications/{application}",
    }
    assert await notices(svc, "janis") == []


@pytest.mark.parametrize(
    ("reason_code", "lv", "en"),
    [
        ("not_eligible", "Jūs neatbilstat projekta dalības nosacījumiem.", "You do not meet the project's conditions"),
        ("budget_exhausted", "Projekta finansējums ir izsmelts.", "The project's funding is exhausted."),
        ("incomplete", "Pieteikumā trūka nepieciešamās informācijas", "The application lacked required information"),
        ("other", "Iemeslu skatiet pieteikumā.", "The reason is shown in your application."),
        ("conflict_of_interest", "Iemeslu skatiet pieteikumā.", "The reason is shown in your application."),
    ],
)
async def test_a_rejected_learner_is_told_why(svc: ServiceHarness, reason_code: str, lv: str, en: str) -> None:
    application = uuid.uuid4()
    await svc.deliver(
        ApplicationRejected(
            application_id=application, learner_id="anna", project_code="IMK", at=NOW, reason_code=reason_code
        )
    )
    (notice,) = await notices(svc, "anna")
    assert notice["kind"] == "application_rejected"
    assert notice["body"]["lv"].startswith("Jūsu pieteikums projektā IMK ir noraidīts. ") and lv in notice["body"]["lv"]
    assert notice["body"]["en"].startswith("Your application in IMK was rejected. ") and en in notice["body"]["en"]
    assert notice["reference"]["id"] == str(application)


async def test_a_learner_is_told_their_place_in_a_group_is_confirmed(svc: ServiceHarness) -> None:
    application = uuid.uuid4()
    ids = {name: uuid.uuid4() for name in ("enrolment_id", "programme_id", "group_id", "institution_id")}
    await svc.deliver(
        EnrolmentConfirmed(**ids, application_id=application, learner_id="anna", project_code="IMK", at=NOW)
    )
    (notice,) = await notices(svc, "anna")
    assert notice["kind"] == "enrolment_confirmed"
    assert notice["title"] == {"lv": "Vieta mācību grupā apstiprināta", "en": "Place in a study group confirmed"}
    assert notice["body"]["lv"].startswith("Jūsu vieta mācību grupā projektā IMK ir apstiprināta.")
    assert notice["body"]["en"].startswith("Your place in a study group in IMK is confirmed.")
    assert notice["reference"]["path"] == f"/applications/{application}"


# --------------------------------------------------------------------------- an institution and its users


def added(user: str, role: str = "provider_admin", at: datetime = NOW, institution: uuid.UUID = INSTITUTION) -> Event:
    return ProviderUserAdded(institution_id=institution, at=at, user_id=user, role=role)  # type: ignore[arg-type]


async def approved_with(svc: ServiceHarness, *admins: str) -> None:
    """The institution approved as catalog does it (its registrant activated in the same transaction, at the same
    instant), then more admins added by its registrant."""
    registrant, *more = admins
    await svc.deliver(ProviderApproved(institution_id=INSTITUTION, at=NOW), added(registrant))
    for i, admin in enumerate(more, start=1):
        await svc.deliver(added(admin, at=NOW + timedelta(hours=i)))


async def test_the_registrant_is_told_of_the_approval_and_no_welcome(svc: ServiceHarness) -> None:
    await approved_with(svc, "ilze")
    (notice,) = await notices(svc, "ilze")
    assert notice["kind"] == "provider_approved"
    assert notice["title"] == {"lv": "Iestādes reģistrācija apstiprināta", "en": "Registration approved"}
    assert notice["body"] == {
        "lv": "Jūsu izglītības iestādes reģistrācija ir apstiprināta. Tagad platformā varat darboties iestādes vārdā.",
        "en": "Your education institution's registration is approved. You can now act for the institution on Prasmes.",
    }
    assert notice["reference"] == {
        "type": "institution",
        "id": str(INSTITUTION),
        "path": f"/providers/{INSTITUTION}",
    }


async def test_a_user_added_is_welcomed_and_the_other_admins_are_told(svc: ServiceHarness) -> None:
    await approved_with(svc, "ilze", "peteris")
    await svc.deliver(added("sanita", "provider_staff", at=NOW + timedelta(days=1)))
    assert await kinds(svc, "ilze") == ["provider_approved", "provider_user_added", "provider_user_added"]
    assert await kinds(svc, "peteris") == ["provider_user_added", "provider_user_welcome"]
    (welcome,) = await notices(svc, "sanita")
    assert welcome["kind"] == "provider_user_welcome"
    assert welcome["body"] == {
        "lv": "Platformā Prasmes jums piešķirtas izglītības iestādes darbinieka tiesības.",
        "en": "You have been given staff rights for an education institution on Prasmes.",
    }
    told = [n for n in await notices(svc, "ilze") if n["kind"] == "provider_user_added"]
    assert [n["body"]["lv"] for n in told] == [
        "Jūsu izglītības iestādei pievienots jauns lietotājs ar administratora tiesībām.",
        "Jūsu izglītības iestādei pievienots jauns lietotājs ar darbinieka tiesībām.",
    ]
    assert told[1]["body"]["en"] == "A new user with staff rights was added to your education institution."
    assert told[0]["title"] == {"lv": "Iestādei pievienots lietotājs", "en": "User added to your institution"}


async def test_an_institution_rejected_tells_its_admins_why_and_forgets_its_users(svc: ServiceHarness) -> None:
    await svc.deliver(added("ilze", at=NOW - timedelta(days=1)), added("peteris", at=NOW - timedelta(days=1)))
    rejected = ProviderRejected(institution_id=INSTITUTION, at=NOW, reason_code="register_mismatch")
    await svc.deliver(rejected)
    (notice,) = [n for n in await notices(svc, "ilze") if n["kind"] == "provider_rejected"]
    assert notice["title"] == {"lv": "Iestādes reģistrācija noraidīta", "en": "Registration rejected"}
    assert notice["body"] == {
        "lv": "Jūsu izglītības iestādes reģistrācija ir noraidīta. "
        "Reģistrācijā norādītās ziņas neatbilst Izglītības iestāžu reģistram.",
        "en": "Your education institution's registration was rejected. "
        "The details given do not match the Register of Educational Institutions.",
    }
    assert "provider_rejected" in await kinds(svc, "peteris")
    await svc.deliver(OfferSubmitted(**offer(), offer_version=1, programme_ids=[], funding_source="ESF+"))
    assert "offer_received" not in await kinds(svc, "ilze")


def registered(user: str, institution: uuid.UUID = INSTITUTION) -> ProviderRegistered:
    return ProviderRegistered(
        institution_id=institution,
        at=NOW - timedelta(days=2),
        name="Rīgas Datorikas mācību centrs",
        register_number="3360800001",
        registered_by=user,
    )


async def test_the_registrant_is_told_of_the_rejection_and_why_once(svc: ServiceHarness) -> None:
    await svc.deliver(registered("liga"), registered("juris", OTHER_INSTITUTION))
    assert await notices(svc, "liga") == []
    rejected = ProviderRejected(institution_id=INSTITUTION, at=NOW, reason_code="statement_invalid")
    (envelope,) = await svc.deliver(rejected)
    await redeliver(svc, rejected, envelope)
    (notice,) = await notices(svc, "liga")
    assert notice["kind"] == "provider_rejected"
    assert notice["body"] == {
        "lv": "Jūsu izglītības iestādes reģistrācija ir noraidīta. Iesniegtais apliecinājums nav derīgs.",
        "en": "Your education institution's registration was rejected. The statement submitted is not valid.",
    }
    assert notice["reference"]["path"] == f"/providers/{INSTITUTION}"
    assert await _mails_of(svc, "liga") == ["provider_rejected"]
    assert await notices(svc, "juris") == []


async def test_a_registrant_known_as_an_admin_too_is_told_of_the_rejection_once(svc: ServiceHarness) -> None:
    earlier = NOW - timedelta(days=1)
    await svc.deliver(registered("ilze"), added("ilze", at=earlier), added("peteris", at=earlier))
    await svc.deliver(ProviderRejected(institution_id=INSTITUTION, at=NOW, reason_code="duplicate"))
    assert (await kinds(svc, "ilze")).count("provider_rejected") == 1
    assert (await kinds(svc, "peteris")).count("provider_rejected") == 1


# --------------------------------------------------------------------------- offers and programmes


def offer(institution: uuid.UUID = INSTITUTION) -> dict[str, Any]:
    return {"offer_id": OFFER, "call_id": CALL, "institution_id": institution, "at": NOW + timedelta(days=2)}


async def test_every_admin_is_told_of_each_step_of_an_offer_once_and_staff_nothing(svc: ServiceHarness) -> None:
    await approved_with(svc, "ilze", "peteris")
    await svc.deliver(added("sanita", "provider_staff", at=NOW + timedelta(days=1)))
    await svc.deliver(added("other-admin", at=NOW, institution=OTHER_INSTITUTION))
    programme = uuid.uuid4()
    submitted = OfferSubmitted(**offer(), offer_version=1, programme_ids=[programme], funding_source="ESF+")
    envelopes = await svc.deliver(
        submitted,
        ClarificationRequested(
            **offer(), clarification_id=uuid.uuid4(), criteria=["I2", "P3"], due_on=date(2027, 1, 15)
        ),
        OfferApproved(**offer(), programme_ids=[programme]),
        CooperationAgreementSigned(**offer(), programme_ids=[programme], valid_until=date(2027, 12, 31)),
    )
    await redeliver(svc, submitted, envelopes[0])
    steps = ["agreement_signed", "clarification_requested", "offer_approved", "offer_received"]
    for admin in ("ilze", "peteris"):
        by_kind = {n["kind"]: n for n in await notices(svc, admin) if n["kind"] in steps}
        assert sorted(by_kind) == steps and len([n for n in await notices(svc, admin) if n["kind"] in steps]) == 4
        assert {n["reference"]["path"] for n in by_kind.values()} == {f"/offers/{OFFER}"}
    by_kind = {n["kind"]: n for n in await notices(svc, "ilze")}
    assert by_kind["offer_received"]["body"] == {
        "lv": "Jūsu izglītības iestādes piedāvājums ir saņemts. "
        "To izvērtēs pēc piedāvājumu iesniegšanas termiņa beigām.",
        "en": "Your institution's offer has been received. It will be evaluated after the offer deadline.",
    }
    assert by_kind["clarification_requested"]["body"] == {
        "lv": "Vērtētājs lūdz precizēt jūsu iestādes piedāvājumu saistībā ar kritērijiem: I2, P3. "
        "Atbildēt var vienu reizi, līdz 15.01.2027.",
        "en": "The evaluator asks your institution to clarify its offer on the criteria: I2, P3. "
        "You can answer once, by 15 January 2027.",
    }
    assert by_kind["offer_approved"]["title"] == {"lv": "Piedāvājums apstiprināts", "en": "Offer approved"}
    assert by_kind["agreement_signed"]["body"] == {
        "lv": "Sadarbības līgums par jūsu iestādes piedāvājumu ir parakstīts un ir spēkā līdz 31.12.2027. "
        "Līgumā iekļautās programmas tagad var publicēt publiskajā katalogā.",
        "en": "The cooperation agreement on your institution's offer is signed and in force until "
        "31 December 2027. Its programmes can now be published in the public catalogue.",
    }
    assert await kinds(svc, "sanita") == ["provider_user_welcome"]
    assert await kinds(svc, "other-admin") == ["provider_user_welcome"]


async def test_an_admin_removed_is_told_nothing_more(svc: ServiceHarness) -> None:
    await approved_with(svc, "ilze", "peteris")
    await svc.deliver(ProviderUserRemoved(institution_id=INSTITUTION, at=NOW + timedelta(days=1), user_id="peteris"))
    before = await kinds(svc, "peteris")
    await svc.deliver(OfferRejected(**offer(), reasons={"I2": "not_met", "P3": "not_met"}))
    assert await kinds(svc, "peteris") == before
    (rejected,) = [n for n in await notices(svc, "ilze") if n["kind"] == "offer_rejected"]
    assert rejected["body"] == {
        "lv": "Jūsu izglītības iestādes piedāvājums ir noraidīts saistībā ar kritērijiem: I2, P3. "
        "Iemeslus skatiet lēmumā.",
        "en": "Your institution's offer was rejected on the criteria: I2, P3. The reasons are shown in the decision.",
    }
    await svc.deliver(added("peteris", at=NOW + timedelta(days=3)))  # back again: welcomed again
    assert (await kinds(svc, "peteris")).count("provider_user_welcome") == 2


async def test_the_admins_are_told_a_programme_is_published_by_its_title(svc: ServiceHarness) -> None:
    await approved_with(svc, "ilze", "peteris")
    programme = uuid.uuid4()
    published = ProgrammePublished(
        programme_id=programme,
        institution_id=INSTITUTION,
        at=NOW + timedelta(days=3),
        title={"lv": "Datu analīze ar Python", "en": "Data analysis with Python"},
        digcomp_level=4,
        hours=80,
        cost_per_participant="520.00",  # type: ignore[arg-type]
        coefficient_table_version=1,
    )
    await svc.deliver(published)
    for admin in ("ilze", "peteris"):
        (notice,) = [n for n in await notices(svc, admin) if n["kind"] == "programme_published"]
        assert notice["title"] == {"lv": "Programma publicēta", "en": "Programme published"}
        assert notice["body"] == {
            "lv": "Jūsu iestādes programma „Datu analīze ar Python” ir publicēta publiskajā katalogā. "
            "Tagad varat plānot tās mācību grupas.",
            "en": "Your institution's programme “Data analysis with Python” is published in the public catalogue. "
            "You can now schedule its study groups.",
        }
        assert notice["reference"] == {
            "type": "programme",
            "id": str(programme),
            "path": f"/public/programmes/{programme}",
        }


# --------------------------------------------------------------------------- mails, and the fan-out as one


async def _mails_of(svc: ServiceHarness, user: str) -> list[str]:
    async with svc.database.session() as session:
        query = sa.select(mails.c.kind).where(mails.c.recipient_id == user).order_by(mails.c.kind)
        return list((await session.execute(query)).scalars())


async def test_each_admin_gets_a_mail_per_notice_but_a_category_switched_off(svc: ServiceHarness) -> None:
    await approved_with(svc, "ilze", "peteris")
    off = await svc.client.put(
        "/notifications/preferences", json={"email": {"provider": False}}, headers=svc.as_("peteris", "provider_admin")
    )
    assert off.status_code == 200, off.text
    refused = await svc.client.put(
        "/notifications/preferences", json={"email": {"decisions": False}}, headers=svc.as_("peteris")
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "legal_notice"
    await svc.deliver(
        OfferSubmitted(**offer(), offer_version=1, programme_ids=[], funding_source="ESF+"),
        OfferApproved(**offer(), programme_ids=[]),
    )
    assert await _mails_of(svc, "ilze") == [
        "offer_approved",
        "offer_received",
        "provider_approved",
        "provider_user_added",
    ]
    assert await _mails_of(svc, "peteris") == ["offer_approved", "provider_user_welcome"]
    assert "offer_received" in await kinds(svc, "peteris")


async def test_a_fan_out_that_fails_midway_leaves_no_notice_for_anyone(
    svc: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await approved_with(svc, "ilze", "peteris")
    real_keep = provider_service.keep
    kept: list[str] = []

    async def failing_second(ctx: Any, notice: Any) -> None:
        kept.append(notice.recipient_id)
        if len(kept) % 2 == 0:
            raise RuntimeError("the database went away")
        await real_keep(ctx, notice)

    monkeypatch.setattr(provider_service, "keep", failing_second)
    await publish(svc.bus, OfferSubmitted(**offer(), offer_version=1, programme_ids=[], funding_source="ESF+"))
    await caught_up(svc.bus, "notifications", ["calls.offers"], timeout=20)  # retried, then dead-lettered
    assert len(kept) >= 2
    for admin in ("ilze", "peteris"):
        assert "offer_received" not in await kinds(svc, admin)
        assert "offer_received" not in await _mails_of(svc, admin)


# --------------------------------------------------------------------------- the agency's officers


def assigned(evaluator: str, at: datetime, offer_id: uuid.UUID = OFFER) -> EvaluatorAssigned:
    return EvaluatorAssigned(
        offer_id=offer_id, call_id=CALL, institution_id=INSTITUTION, at=at, evaluator_id=evaluator, call_code="IMK-4"
    )


def answered(at: datetime, offer_id: uuid.UUID = OFFER) -> ClarificationAnswered:
    return ClarificationAnswered(
        offer_id=offer_id, call_id=CALL, institution_id=INSTITUTION, at=at, clarification_id=uuid.uuid4()
    )


async def test_the_evaluator_is_told_of_the_offer_assigned_and_the_answer_once(svc: ServiceHarness) -> None:
    first = assigned("ilze", NOW + timedelta(days=3))
    answer = answered(NOW + timedelta(days=5))
    # Two topics (calls.assignments, calls.offers): no order between them, so the answer follows the assignment
    # here as it does in calls, days later.
    (assignment,) = await svc.deliver(first)
    (answer_envelope,) = await svc.deliver(answer)
    await redeliver(svc, first, assignment)
    await redeliver(svc, answer, answer_envelope)
    told = await notices(svc, "ilze")
    assert sorted(n["kind"] for n in told) == ["clarification_answered", "offer_assigned"]
    assert {n["reference"]["path"] for n in told} == {f"/offers/{OFFER}"}
    by_kind = {n["kind"]: n for n in told}
    assert by_kind["offer_assigned"]["title"] == {
        "lv": "Piedāvājums nodots vērtēšanai",
        "en": "Offer assigned for evaluation",
    }
    assert by_kind["offer_assigned"]["body"] == {
        "lv": "Jums vērtēšanai ir nodots izglītības iestādes piedāvājums uzaicinājumā IMK-4.",
        "en": "An offer of an education institution in call IMK-4 is assigned to you for evaluation.",
    }
    assert by_kind["clarification_answered"]["body"] == {
        "lv": "Izglītības iestāde ir atbildējusi uz lūgumu precizēt tās piedāvājumu uzaicinājumā IMK-4. "
        "Atbildi skatiet piedāvājumā.",
        "en": "The education institution has answered the request to clarify its offer in call IMK-4. "
        "The answer is shown with the offer.",
    }
    assert sorted(await _mails_of(svc, "ilze")) == ["clarification_answered", "offer_assigned"]


async def test_a_reassigned_offers_answer_goes_to_the_new_evaluator(svc: ServiceHarness) -> None:
    await svc.deliver(assigned("ilze", NOW + timedelta(days=3)), assigned("juris", NOW + timedelta(days=4)))
    await svc.deliver(answered(NOW + timedelta(days=5)))  # on another topic than the assignments: after them
    assert await kinds(svc, "ilze") == ["offer_assigned"]
    assert await kinds(svc, "juris") == ["clarification_answered", "offer_assigned"]


async def test_an_answer_on_an_offer_with_no_evaluator_known_tells_nobody(svc: ServiceHarness) -> None:
    other_offer = uuid.uuid4()
    await svc.deliver(assigned("ilze", NOW + timedelta(days=3)), answered(NOW + timedelta(days=5), other_offer))
    assert await kinds(svc, "ilze") == ["offer_assigned"]
    async with svc.database.session() as session:
        kinds_mailed = (await session.execute(sa.select(mails.c.kind))).scalars().all()
    assert "clarification_answered" not in kinds_mailed


# --------------------------------------------------------------------------- the agency's officers, every one of them


@pytest.mark.parametrize(
    ("at", "lv_date", "en_date"),
    [
        (datetime(2026, 12, 4, 15, 0, tzinfo=UTC), "07.12.2026.", "7 December 2026"),  # a Friday: due on Monday
        (datetime(2026, 11, 17, 9, 0, tzinfo=UTC), "19.11.2026.", "19 November 2026"),  # 18 November is a holiday
        (datetime(2026, 12, 7, 22, 30, tzinfo=UTC), "09.12.2026.", "9 December 2026"),  # already Tuesday in Riga
    ],
)
async def test_every_officer_is_told_a_registration_waits_with_its_working_day_deadline_once(
    svc: ServiceHarness, at: datetime, lv_date: str, en_date: str
) -> None:
    event = ProviderRegistered(
        institution_id=INSTITUTION, at=at, name="Rīgas Datorikas mācību centrs", register_number="3360800001"
    )
    (envelope,) = await svc.deliver(event)
    await redeliver(svc, event, envelope)
    await fan_out(svc.app.state.runtime.context)
    for officer in OFFICERS:
        (notice,) = await notices(svc, officer)
        assert notice["kind"] == "registration_waiting"
        assert notice["body"] == {
            "lv": "Izglītības iestāde „Rīgas Datorikas mācību centrs” ir reģistrējusies platformā un gaida "
            f"apstiprinājumu. Lūdzam reģistrāciju izskatīt līdz {lv_date}",
            "en": "The education institution “Rīgas Datorikas mācību centrs” has registered on Prasmes and awaits "
            f"approval. Please review the registration by {en_date}.",
        }
        assert notice["reference"]["path"] == f"/providers/{INSTITUTION}"
        assert await _mails_of(svc, officer) == ["registration_waiting"]
    assert await notices(svc, "admin-a") == []  # the officers' work; an administrator is not each one's inbox


@pytest.mark.parametrize(
    ("reason", "en"),
    [
        ("low_rating", "a low rating: 3.4 against the threshold of 4.0 (over 12 people)"),
        ("high_dropout", "a high dropout rate: 3.4 against the threshold of 4.0 (over 12 people)"),
    ],
)
async def test_every_officer_is_told_of_a_quality_flag_once(svc: ServiceHarness, reason: str, en: str) -> None:
    programme = uuid.uuid4()
    flag = QualityFlagRaised(
        programme_id=programme,
        institution_id=INSTITUTION,
        reason=reason,  # type: ignore[arg-type]
        value=Decimal("3.4"),
        threshold=Decimal("4.0"),
        over=12,
        at=NOW,
    )
    (envelope,) = await svc.deliver(flag)
    await redeliver(svc, flag, envelope)
    await fan_out(svc.app.state.runtime.context)
    for officer in OFFICERS:
        (notice,) = await notices(svc, officer)
        assert notice["kind"] == "quality_flagged"
        assert notice["title"]["en"] == "Programme flagged for a quality check"
        assert en in notice["body"]["en"] and "never a sanction" in notice["body"]["en"]
        assert notice["reference"]["path"] == f"/public/programmes/{programme}"
        assert await _mails_of(svc, officer) == ["quality_flagged"]
    assert await notices(svc, "liga") == []  # the institution is not told by this: the agency asks it, if at all


async def test_the_directory_down_delays_the_officers_notices_and_loses_none(svc: ServiceHarness) -> None:
    directory: FlakyDirectory = svc.app.state.runtime.context.adapters.contacts
    directory.down = True
    context = svc.app.state.runtime.context
    await svc.deliver(registered("liga"), registered("juris", OTHER_INSTITUTION))
    assert await fan_out(context) == 0
    assert await notices(svc, OFFICERS[0]) == []
    directory.down = False
    await eventually(lambda: _has(svc, OFFICERS[0], 2))  # the job's next round (or this test's)
    assert await fan_out(context) == 0  # nothing left: each officer told once of each
    for officer in OFFICERS:
        assert await kinds(svc, officer) == ["registration_waiting", "registration_waiting"]
        assert await _mails_of(svc, officer) == ["registration_waiting", "registration_waiting"]


async def _has(svc: ServiceHarness, user: str, n: int) -> bool:
    await fan_out(svc.app.state.runtime.context)
    return len(await notices(svc, user)) == n
