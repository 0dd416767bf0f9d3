"""Applications, decisions, the grant ledger, enrolment and the study record over HTTP (SQLite and PostgreSQL)."""

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prasmes_contracts.accounts import ApplicationSubmittedV2, DigCompAssessed
from prasmes_contracts.catalog import ProviderUserAdded
from prasmes_contracts.registry import topic_for
from prasmes_runtime.messaging import outbox
from prasmes_testing.events import events_on
from prasmes_testing.support import eventually

from .conftest import NOW, Service, catalog_events

OFFICER = ("ilze", "agency_officer")
ADMIN = ("martins", "agency_admin")


async def _approve(service: Service, application_id: object) -> dict[str, object]:
    response = await service.client.post(
        f"/agency/applications/{application_id}/approval", headers=service.as_(*OFFICER)
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_learner_applies_and_an_officer_approves_reserving_the_grant(service: Service) -> None:
    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    assert application["state"] == "submitted"
    approved = await _approve(service, application["id"])
    assert approved["state"] == "approved"
    assert approved["grant"] == {"reserved": "500.00", "spent": "0.00", "released": "0.00", "available": "500.00"}
    project = (await service.client.get("/funding-projects/IMK")).json()
    assert project["budget"]["reserved"] == "500.00"
    grant = (await service.client.get("/accounts/me/grant", headers=anna)).json()
    assert grant["available"] == "500.00"
    assert [(e["kind"], e["cause"], e["amount"]) for e in grant["entries"]] == [("reserve", "approved", "500.00")]


async def test_a_second_open_application_to_a_project_is_a_conflict(service: Service) -> None:
    anna = await service.learner("anna", 1)
    first = await service.apply(anna)
    again = await service.client.post("/applications", json={"project_code": "IMK"}, headers=anna)
    assert again.status_code == 409
    assert again.json()["current"] == {"application_id": first["id"], "state": "submitted", "project_code": "IMK"}
    assert (await service.client.post("/applications", json={"project_code": "VARAM"}, headers=anna)).status_code == 201


async def test_illegal_transitions_are_409_naming_the_current_state(service: Service) -> None:
    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    await _approve(service, application["id"])
    again = await service.client.post(
        f"/agency/applications/{application['id']}/approval", headers=service.as_(*OFFICER)
    )
    assert again.status_code == 409 and again.json()["current"]["state"] == "approved"
    reject = await service.client.post(
        f"/agency/applications/{application['id']}/rejection",
        json={"reason_code": "other", "reason": "late"},
        headers=service.as_(*OFFICER),
    )
    assert reject.status_code == 409 and reject.json()["current"]["state"] == "approved"


async def test_the_rejection_reason_is_shown_to_the_learner(service: Service) -> None:
    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    rejected = await service.client.post(
        f"/agency/applications/{application['id']}/rejection",
        json={"reason_code": "incomplete", "reason": "Lūdzu, norādiet mācību vajadzību."},
        headers=service.as_(*OFFICER),
    )
    assert rejected.status_code == 200
    mine = (await service.client.get(f"/applications/{application['id']}", headers=anna)).json()
    assert (mine["state"], mine["reason"]) == ("rejected", "Lūdzu, norādiet mācību vajadzību.")


async def test_withdrawal_before_a_decision_and_giving_back_an_approved_grant(service: Service) -> None:
    anna = await service.learner("anna", 1)
    first = await service.apply(anna)
    withdrawn = await service.client.post(f"/applications/{first['id']}/withdrawal", headers=anna)
    assert withdrawn.json()["state"] == "withdrawn"
    second = await service.apply(anna)
    await _approve(service, second["id"])
    given_back = (await service.client.post(f"/applications/{second['id']}/withdrawal", headers=anna)).json()
    assert given_back["grant"] == {"reserved": "500.00", "spent": "0.00", "released": "500.00", "available": "0.00"}
    assert (await service.client.get("/funding-projects/IMK")).json()["budget"]["reserved"] == "0.00"


async def test_bad_applications_are_422_naming_field_and_rule(service: Service) -> None:
    anna = await service.learner("anna", 1)
    young = await service.learner("young", 0)
    await service.client.patch("/accounts/me/profile", json={}, headers=young)
    cases = [
        ({"project_code": "NOPE"}, anna, ("project_code", "known_project")),
        ({"project_code": "IMK", "learning_need": "x" * 501}, anna, ("learning_need", "string_too_long")),
        ({"project_code": "IMK", "surprise": 1}, anna, ("surprise", "extra_forbidden")),
        ({}, anna, ("project_code", "missing")),
    ]
    for body, headers, expected in cases:
        response = await service.client.post("/applications", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["errors"][0]
        assert (error["field"], error["rule"]) == expected
    service.clock.at += timedelta(days=5000)
    late = await service.client.post("/applications", json={"project_code": "IMK"}, headers=anna)
    assert (late.status_code, late.json()["errors"][0]["rule"]) == (422, "application_window")


async def test_a_learner_chooses_one_of_the_programmes_groups_with_a_free_place(service: Service) -> None:
    offer, events = catalog_events(capacity=1)
    other, other_events = catalog_events()
    await service.catalog(*events, *other_events)
    anna, berta = await service.learner("anna", 1), await service.learner("berta", 2)
    cases = [
        ({"group_id": str(uuid.uuid4())}, "scheduled_group"),
        ({"group_id": str(other.group_id), "programme_id": str(offer.programme_id)}, "group_of_programme"),
    ]
    for chosen, rule in cases:
        refused = await service.client.post("/applications", json={"project_code": "IMK", **chosen}, headers=anna)
        assert refused.status_code == 422, refused.text
        assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [("group_id", rule)]
    assert (await service.client.get("/applications", headers=anna)).json() == []  # nothing was stored

    applied = await service.client.post(
        "/applications", json={"project_code": "IMK", "group_id": str(offer.group_id)}, headers=anna
    )
    assert applied.status_code == 201, applied.text
    assert (applied.json()["group_id"], applied.json()["programme_id"]) == (
        str(offer.group_id),
        str(offer.programme_id),
    )
    assert (await service.client.get(f"/applications/{applied.json()['id']}", headers=anna)).json() == applied.json()

    await _approve(service, applied.json()["id"])
    enrolled = await service.client.post(
        f"/applications/{applied.json()['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=anna
    )
    assert enrolled.status_code == 201, enrolled.text
    full = await service.client.post(
        "/applications", json={"project_code": "IMK", "group_id": str(offer.group_id)}, headers=berta
    )
    assert (full.status_code, full.json()["errors"][0]["rule"]) == (422, "free_place")

    async def relayed() -> bool:
        return len(await events_on(service.bus, topic_for(ApplicationSubmittedV2).name, ApplicationSubmittedV2)) == 1

    await eventually(relayed, timeout=20, interval=0.05)
    (submitted,) = await events_on(service.bus, topic_for(ApplicationSubmittedV2).name, ApplicationSubmittedV2)
    assert submitted.data["group_id"] == str(offer.group_id)


async def test_learners_younger_than_a_projects_minimum_age_are_refused(service: Service) -> None:
    await service.project("OVER25", "1000.00", min_age=25)
    headers = service.as_("young-adult")
    opened = await service.client.post(
        "/accounts", json={"personal_code": "328673-00679", "birth_date": "2005-05-01"}, headers=headers
    )
    assert opened.status_code == 201, opened.text
    response = await service.client.post("/applications", json={"project_code": "OVER25"}, headers=headers)
    assert (response.status_code, response.json()["errors"][0]["rule"]) == (422, "minimum_age")
    teen = await service.client.post(
        "/accounts", json={"personal_code": "328673-00679", "birth_date": "2010-05-01"}, headers=service.as_("teen")
    )
    assert (teen.status_code, teen.json()["errors"][0]["rule"]) == (422, "adult")  # no account under 18 at all


async def test_a_learner_never_reaches_another_learners_application(service: Service) -> None:
    anna = await service.learner("anna", 1)
    janis = await service.learner("janis", 2)
    application = await service.apply(anna)
    assert (await service.client.get(f"/applications/{application['id']}", headers=janis)).status_code == 404
    assert (
        await service.client.post(f"/applications/{application['id']}/withdrawal", headers=janis)
    ).status_code == 404
    assert (await service.client.get("/applications", headers=janis)).json() == []
    assert (await service.client.get("/agency/applications", headers=janis)).status_code == 403


async def test_an_exhausted_budget_refuses_approval_with_its_state(service: Service) -> None:
    await service.project("SMALL", "1000.00")
    ids = [(await service.apply(await service.learner(f"l{n}", 10 + n), "SMALL"))["id"] for n in range(3)]
    await _approve(service, ids[0])
    await _approve(service, ids[1])
    refused = await service.client.post(f"/agency/applications/{ids[2]}/approval", headers=service.as_(*OFFICER))
    assert refused.status_code == 409
    assert refused.json()["current"]["available"] == "0.00"
    assert refused.json()["current"]["state"] == "submitted"


async def test_project_admin_rules(service: Service) -> None:
    admin = service.as_(*ADMIN)
    bad = {
        "code": "X1",
        "name": "X",
        "budget": "100.001",
        "grant_per_person": "500.00",
        "window_opens_at": "2026-01-01T00:00:00Z",
        "window_closes_at": "2026-02-01T00:00:00Z",
        "enrolment_deadline": "2026-06-01",
    }
    response = await service.client.post("/funding-projects", json=bad, headers=admin)
    assert response.status_code == 422
    assert (response.json()["errors"][0]["field"], response.json()["errors"][0]["rule"]) == (
        "budget",
        "decimal_max_places",
    )
    officer = await service.client.post(
        "/funding-projects", json={**bad, "budget": "100.00"}, headers=service.as_(*OFFICER)
    )
    assert officer.status_code == 403
    assert (
        await service.client.post("/funding-projects", json={**bad, "code": "IMK", "budget": "1000.00"}, headers=admin)
    ).status_code == 409
    for n in (1, 2):
        await _approve(service, (await service.apply(await service.learner(f"l{n}", n)))["id"])
    shrink = await service.client.patch("/funding-projects/IMK", json={"budget": "900.00"}, headers=admin)
    assert shrink.status_code == 409 and shrink.json()["current"]["reserved"] == "1000.00"


async def test_window_then_rank_grants_by_priority_then_lottery_while_the_budget_lasts(service: Service) -> None:
    await service.project("RANK", "1500.00", mode="window_then_rank")
    ids = {}
    for n in range(6):
        profile = {"employment_status": "unemployed"} if n == 4 else {"employment_status": "employed"}
        ids[n] = (await service.apply(await service.learner(f"r{n}", 20 + n, **profile), "RANK"))["id"]
    early = await service.client.post(f"/agency/applications/{ids[0]}/approval", headers=service.as_(*OFFICER))
    assert early.status_code == 409  # no granting one by one in this mode
    too_soon = await service.client.post("/funding-projects/RANK/allocation", headers=service.as_(*ADMIN))
    assert too_soon.status_code == 409
    service.clock.at += timedelta(days=11)
    allocation = (await service.client.post("/funding-projects/RANK/allocation", headers=service.as_(*ADMIN))).json()
    assert (allocation["ranked"], allocation["approved"], allocation["rejected"]) == (6, 3, 3)
    states = {
        n: (await service.client.get(f"/agency/applications/{i}", headers=service.as_(*OFFICER))).json()["state"]
        for n, i in ids.items()
    }
    assert states[4] == "approved"  # the unemployed learner ranks first
    assert sorted(states.values()) == ["approved"] * 3 + ["rejected"] * 3
    project = (await service.client.get("/funding-projects/RANK")).json()
    assert project["lottery_seed"] == allocation["seed"] and project["budget"]["available"] == "0.00"
    assert (
        await service.client.post("/funding-projects/RANK/allocation", headers=service.as_(*ADMIN))
    ).status_code == 409


async def test_an_approval_not_followed_by_enrolment_lapses_and_is_released(service: Service) -> None:
    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    await _approve(service, application["id"])
    service.clock.at += timedelta(days=5000)
    lapsed = await service.client.post("/funding-projects/lapses", headers=service.as_(*ADMIN))
    assert lapsed.json() == {"lapsed": 1}
    mine = (await service.client.get(f"/applications/{application['id']}", headers=anna)).json()
    assert mine["state"] == "lapsed" and mine["grant"]["released"] == "500.00"
    assert (await service.client.get("/funding-projects/IMK")).json()["budget"]["reserved"] == "0.00"


async def test_the_whole_study_path_spends_the_cost_and_releases_the_remainder(service: Service) -> None:
    offer, events = catalog_events(capacity=1)
    await service.catalog(*events)
    anna = await service.learner("anna", 1)
    janis = await service.learner("janis", 2)
    await service.client.post(
        "/accounts/me/digcomp",
        json={
            "levels": dict.fromkeys(
                [
                    "information_and_data_literacy",
                    "communication_and_collaboration",
                    "digital_content_creation",
                    "safety",
                    "problem_solving",
                ],
                2,
            )
        },
        headers=anna,
    )
    application = await service.apply(anna)
    await _approve(service, application["id"])
    enrolled = await service.client.post(
        f"/applications/{application['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=anna
    )
    assert enrolled.status_code == 201, enrolled.text
    enrolment_id = enrolled.json()["id"]

    other = await service.apply(janis)
    await _approve(service, other["id"])
    full = await service.client.post(
        f"/applications/{other['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=janis
    )
    assert full.status_code == 409 and full.json()["current"] == {
        "group_id": str(offer.group_id),
        "capacity": 1,
        "taken": 1,
    }

    service.clock.at = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # the group's first day: a start is recorded
    staff = service.as_("peteris", "provider_staff")
    stranger = service.as_("someone-else", "provider_staff")
    assert (
        await service.client.post(
            f"/provider/enrolments/{enrolment_id}/start", json={"started_on": "2027-01-11"}, headers=stranger
        )
    ).status_code == 404
    assert (
        await service.client.post(
            f"/provider/enrolments/{enrolment_id}/start", json={"started_on": "2027-01-11"}, headers=anna
        )
    ).status_code == 403
    started = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/start", json={"started_on": "2027-01-11"}, headers=staff
    )
    assert started.json()["state"] == "studying"
    ahead = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/completion",
        json={"completed_on": "2027-03-26", "hours_attended": 150, "result": "passed"},
        headers=staff,
    )
    assert (ahead.status_code, ahead.json()["errors"][0]["rule"]) == (422, "not_in_future")
    service.clock.at = datetime(2027, 3, 26, 15, 0, tzinfo=UTC)
    too_many = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/completion",
        json={"completed_on": "2027-03-26", "hours_attended": 161, "result": "passed"},
        headers=staff,
    )
    assert (too_many.status_code, too_many.json()["errors"][0]["rule"]) == (422, "max_programme_hours")
    done = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/completion",
        json={"completed_on": "2027-03-26", "hours_attended": 150, "result": "passed"},
        headers=staff,
    )
    assert done.json()["state"] == "completed"
    service.clock.at = service.clock.at.replace(year=2027, month=3, day=27)
    await service.client.post(
        "/accounts/me/digcomp",
        json={
            "levels": dict.fromkeys(
                [
                    "information_and_data_literacy",
                    "communication_and_collaboration",
                    "digital_content_creation",
                    "safety",
                    "problem_solving",
                ],
                4,
            )
        },
        headers=anna,
    )

    grant = (await service.client.get("/accounts/me/grant", headers=anna)).json()
    assert (grant["reserved"], grant["spent"], grant["released"], grant["available"]) == (
        "500.00",
        "320.00",
        "180.00",
        "0.00",
    )
    assert [(e["kind"], e["cause"]) for e in grant["entries"]] == [
        ("reserve", "approved"),
        ("spend", "completed"),
        ("release", "remainder"),
    ]
    (study,) = (await service.client.get("/accounts/me/studies", headers=anna)).json()
    assert study["programme_title"]["lv"] == "Datu analīze"
    assert study["enrolment"]["state"] == "completed" and study["enrolment"]["hours_attended"] == 150
    assert study["digcomp_before"]["average"] == 2.0 and study["digcomp_after"]["average"] == 4.0
    project = (await service.client.get("/funding-projects/IMK")).json()["budget"]
    assert (project["spent"], project["reserved"]) == ("320.00", "500.00")  # janis still holds a grant


async def test_a_discontinuation_before_the_start_releases_the_grant_and_providers_see_only_their_learners(
    service: Service,
) -> None:
    offer, events = catalog_events(capacity=5)
    _, other_events = catalog_events(capacity=5, staff="rival")
    await service.catalog(*events, *other_events)
    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    await _approve(service, application["id"])
    enrolment = (
        await service.client.post(
            f"/applications/{application['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=anna
        )
    ).json()
    staff = service.as_("peteris", "provider_staff")
    rival = service.as_("rival", "provider_staff")
    mine_listed = (await service.client.get("/provider/enrolments", headers=staff)).json()["items"]
    assert [e["id"] for e in mine_listed] == [enrolment["id"]]
    assert (await service.client.get("/provider/enrolments", headers=rival)).json()["items"] == []
    service.clock.at = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
    taken = await service.client.post(
        f"/provider/enrolments/{enrolment['id']}/discontinuation", json={"discontinued_on": "2027-01-20"}, headers=rival
    )
    assert taken.status_code == 404  # another institution's learner is not found
    stopped = await service.client.post(
        f"/provider/enrolments/{enrolment['id']}/discontinuation",
        json={"discontinued_on": "2027-01-20", "reason": "time"},
        headers=staff,
    )
    assert stopped.json()["state"] == "discontinued"
    mine = (await service.client.get(f"/applications/{application['id']}", headers=anna)).json()
    assert mine["state"] == "discontinued" and mine["grant"]["released"] == "500.00"


async def test_agency_lists_filters_pages_and_exports_csv(service: Service) -> None:
    for n in range(5):
        service.clock.at += timedelta(minutes=1)  # the list is oldest first
        application = await service.apply(
            await service.learner(f"a{n}", 30 + n, first_name=f"Vārds{n}", last_name="Bērziņa")
        )
        if n < 2:
            await _approve(service, application["id"])
    officer = service.as_(*OFFICER)
    page = (
        await service.client.get("/agency/applications?project_code=IMK&state=submitted&limit=2", headers=officer)
    ).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["items"][0]["learner_name"] == "Vārds2 Bērziņa"
    approved = (await service.client.get("/agency/applications?state=approved", headers=officer)).json()
    assert approved["total"] == 2
    exported = await service.client.get("/agency/applications.csv?project_code=IMK", headers=officer)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 5 and {r["state"] for r in rows} == {"approved", "submitted"}
    assert "personal_code" not in rows[0] and rows[0]["last_name"] == "Bērziņa"


async def test_profile_and_digcomp_history(service: Service) -> None:
    anna = await service.learner("anna", 1)
    changed = await service.client.patch(
        "/accounts/me/profile",
        json={
            "first_name": "Anna",
            "email": "anna@example.lv",
            "preferred_language": "en",
            "education_level": "secondary",
            "employment_status": "employed",
        },
        headers=anna,
    )
    assert changed.json()["profile"]["email"] == "anna@example.lv"
    for forbidden in ({"personal_code": "111111-11111"}, {"birth_date": "1990-01-01"}):
        response = await service.client.patch("/accounts/me/profile", json=forbidden, headers=anna)
        assert (response.status_code, response.json()["errors"][0]["rule"]) == (422, "extra_forbidden")
    bad_email = await service.client.patch("/accounts/me/profile", json={"email": "not-an-email"}, headers=anna)
    assert bad_email.json()["errors"][0]["field"] == "email"
    levels = dict.fromkeys(
        [
            "information_and_data_literacy",
            "communication_and_collaboration",
            "digital_content_creation",
            "safety",
            "problem_solving",
        ],
        3,
    )
    out_of_range = await service.client.post(
        "/accounts/me/digcomp", json={"levels": {**levels, "safety": 9}}, headers=anna
    )
    assert (out_of_range.status_code, out_of_range.json()["errors"][0]["rule"]) == (422, "less_than_equal")
    missing = await service.client.post("/accounts/me/digcomp", json={"levels": {"safety": 3}}, headers=anna)
    assert (missing.status_code, missing.json()["errors"][0]["rule"]) == (422, "areas")
    await service.client.post("/accounts/me/digcomp", json={"levels": levels}, headers=anna)
    await service.client.post("/accounts/me/digcomp", json={"levels": {**levels, "safety": 5}}, headers=anna)
    history = (await service.client.get("/accounts/me/digcomp", headers=anna)).json()
    assert [h["levels"]["safety"] for h in history] == [3, 5]


async def test_each_self_assessment_is_published_on_the_internal_assessments_topic(service: Service) -> None:
    anna = await service.learner("anna", 1)
    areas = (
        "information_and_data_literacy",
        "communication_and_collaboration",
        "digital_content_creation",
        "safety",
        "problem_solving",
    )
    service.clock.at = datetime(2026, 11, 30, 22, 15, tzinfo=UTC)  # 00:15 on 1 December in Riga
    levels = dict(zip(areas, (3, 4, 4, 5, 5), strict=True))
    assert (await service.client.post("/accounts/me/digcomp", json={"levels": levels}, headers=anna)).status_code == 201
    refused = await service.client.post("/accounts/me/digcomp", json={"levels": levels}, headers=service.as_("janis"))
    assert refused.status_code == 404  # no account: nothing kept, nothing published
    async with service.database.session() as session:
        rows = (
            await session.execute(
                sa.select(outbox.c.topic, outbox.c.data).where(outbox.c.event_type == DigCompAssessed.event_type())
            )
        ).all()
    assert [(topic, json.loads(data)) for topic, data in rows] == [
        (
            "accounts.assessments",
            {
                "learner_id": "anna",
                "level": "4.2",
                "levels": levels,
                "assessed_on": "2026-12-01",
                "at": "2026-11-30T22:15:00Z",
            },
        )
    ]
    assert not topic_for(DigCompAssessed).partner_readable  # a person's self-assessment: not for partners

    async def relayed() -> bool:
        return len(await events_on(service.bus, "accounts.assessments", DigCompAssessed)) == 1

    await eventually(relayed, timeout=20, interval=0.05)
    (published,) = await events_on(service.bus, "accounts.assessments", DigCompAssessed)
    assert published.subject == "anna"  # keyed by the learner: one learner's assessments stay in order


async def test_the_providers_invoice_after_completion_moves_no_money(service: Service) -> None:
    offer, events = catalog_events(capacity=5)
    await service.catalog(
        *events, ProviderUserAdded(institution_id=offer.institution_id, at=NOW, user_id="liga", role="provider_admin")
    )
    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    await _approve(service, application["id"])
    enrolment = (
        await service.client.post(
            f"/applications/{application['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=anna
        )
    ).json()
    admin = service.as_("liga", "provider_admin")
    staff = service.as_("peteris", "provider_staff")
    too_early = await service.client.post(f"/provider/enrolments/{enrolment['id']}/invoice", headers=admin)
    assert (too_early.status_code, too_early.json()["current"]["state"]) == (409, "enrolled")
    service.clock.at = datetime(2027, 3, 27, 9, 0, tzinfo=UTC)
    await service.client.post(
        f"/provider/enrolments/{enrolment['id']}/start", json={"started_on": "2027-01-11"}, headers=staff
    )
    await service.client.post(
        f"/provider/enrolments/{enrolment['id']}/completion",
        json={"completed_on": "2027-03-26", "hours_attended": 150, "result": "passed"},
        headers=staff,
    )
    paid = await service.client.post(f"/provider/enrolments/{enrolment['id']}/invoice", headers=admin)
    assert (paid.status_code, paid.json()["amount"]) == (200, "320.00")
    again = await service.client.post(f"/provider/enrolments/{enrolment['id']}/invoice", headers=admin)
    assert (again.status_code, again.json()["current"]["paid"]) == (409, "320.00")
    grant = (await service.client.get("/accounts/me/grant", headers=anna)).json()
    assert [(e["kind"], e["cause"], e["amount"]) for e in grant["entries"]] == [
        ("reserve", "approved", "500.00"),
        ("spend", "completed", "320.00"),
        ("release", "remainder", "180.00"),
    ]
