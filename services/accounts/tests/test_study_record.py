"""The study record kept by an institution's users: dates that cannot be, what the grant pays on completion and
on discontinuation, the provider's invoice, the names a role may see, and one role model (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from accounts.api import ROUTERS
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from prasmes_contracts.catalog import ProviderUserAdded
from prasmes_runtime import roles
from prasmes_runtime.auth import access_rule, is_public

from .conftest import NOW, Offer, Service, catalog_events

OFFICER = ("ilze", "agency_officer")
STAFF = ("peteris", "provider_staff")
PROVIDER_ADMIN = ("liga", "provider_admin")
DURING = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
"""A day while the group (11 January to 26 March 2027) runs."""
AFTER = datetime(2027, 4, 10, 9, 0, tzinfo=UTC)
"""A day after the group ended."""


async def _enrolled(service: Service, n: int = 1, **profile: object) -> tuple[Offer, dict[str, str], str, str]:
    """A learner approved and enrolled in the group: (offer, learner's headers, application id, enrolment id)."""
    offer, events = catalog_events(capacity=5)
    admin = ProviderUserAdded(institution_id=offer.institution_id, at=NOW, user_id="liga", role="provider_admin")
    await service.catalog(*events, admin)
    learner = await service.learner(f"learner-{n}", n, **profile)
    application = await service.apply(learner)
    approved = await service.client.post(
        f"/agency/applications/{application['id']}/approval", headers=service.as_(*OFFICER)
    )
    assert approved.status_code == 200, approved.text
    enrolled = await service.client.post(
        f"/applications/{application['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=learner
    )
    assert enrolled.status_code == 201, enrolled.text
    return offer, learner, str(application["id"]), enrolled.json()["id"]


async def _record(service: Service, enrolment_id: str, step: str, body: dict[str, Any]) -> httpx.Response:
    return await service.client.post(
        f"/provider/enrolments/{enrolment_id}/{step}", json=body, headers=service.as_(*STAFF)
    )


def _violation(response: httpx.Response) -> tuple[str, str, str]:
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    return error["field"], error["rule"], error["message"]


async def _state(service: Service, enrolment_id: str) -> dict[str, Any]:
    listed = (await service.client.get("/provider/enrolments", headers=service.as_(*STAFF))).json()["items"]
    (found,) = [e for e in listed if e["id"] == enrolment_id]
    return dict(found)


# --- 11: dates that cannot be ----------------------------------------------------------------


async def test_a_start_lies_within_the_group_from_a_week_before_it_starts_and_never_ahead(service: Service) -> None:
    _, _, _, enrolment_id = await _enrolled(service)
    service.clock.at = AFTER
    cases = [
        ("2027-01-03", "not_before_group_start", "from 2027-01-04"),
        ("2027-03-27", "not_after_group_end", "until 2027-03-26"),
        ("2031-01-11", "not_after_group_end", "until 2027-03-26"),
        ("1999-01-11", "not_before_group_start", "from 2027-01-04"),
    ]
    for day, rule, words in cases:
        field, refused_rule, message = _violation(await _record(service, enrolment_id, "start", {"started_on": day}))
        assert (field, refused_rule) == ("started_on", rule), day
        assert words in message, message
    assert (await _state(service, enrolment_id))["state"] == "enrolled"  # nothing was recorded
    service.clock.at = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    ahead = await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})
    assert _violation(ahead)[:2] == ("started_on", "not_in_future")
    assert "until 2027-01-05" in _violation(ahead)[2]
    early = await _record(service, enrolment_id, "start", {"started_on": "2027-01-04"})
    assert early.status_code == 200 and early.json()["started_on"] == "2027-01-04"


async def test_an_end_lies_between_the_start_and_the_groups_end_and_never_ahead(service: Service) -> None:
    _, _, _, enrolment_id = await _enrolled(service)
    service.clock.at = DURING
    assert (await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})).status_code == 200
    done = {"hours_attended": 150, "result": "passed"}
    for step, field in (("completion", "completed_on"), ("discontinuation", "discontinued_on")):
        before_start = await _record(service, enrolment_id, step, {field: "2027-01-10", **_extra(step, done)})
        assert _violation(before_start)[:2] == (field, "not_before_start")
        ahead = await _record(service, enrolment_id, step, {field: "2027-02-02", **_extra(step, done)})
        assert _violation(ahead)[:2] == (field, "not_in_future")
    service.clock.at = AFTER
    for step, field in (("completion", "completed_on"), ("discontinuation", "discontinued_on")):
        late = await _record(service, enrolment_id, step, {field: "2029-03-27", **_extra(step, done)})
        assert _violation(late)[:2] == (field, "not_after_group_end")
    assert (await _state(service, enrolment_id))["state"] == "studying"
    completed = await _record(service, enrolment_id, "completion", {"completed_on": "2027-03-26", **done})
    assert completed.status_code == 200, completed.text


async def test_a_completion_of_studies_started_before_the_group_is_not_before_the_groups_first_day(
    service: Service,
) -> None:
    _, _, _, enrolment_id = await _enrolled(service)
    service.clock.at = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    assert (await _record(service, enrolment_id, "start", {"started_on": "2027-01-05"})).status_code == 200
    done = {"hours_attended": 4, "result": "passed"}
    early = await _record(service, enrolment_id, "completion", {"completed_on": "2027-01-08", **done})
    field, rule, message = _violation(early)
    assert (field, rule) == ("completed_on", "not_before_group_start")
    assert "from 2027-01-11 (the group's first day)" in message
    stopped = await _record(service, enrolment_id, "discontinuation", {"discontinued_on": "2027-01-08"})
    assert stopped.status_code == 200, stopped.text  # a learner may still stop before the group begins


def _extra(step: str, done: dict[str, object]) -> dict[str, object]:
    return done if step == "completion" else {}


async def test_studies_that_never_started_are_discontinued_from_the_enrolment_day(service: Service) -> None:
    _, _, _, enrolment_id = await _enrolled(service)
    before = await _record(service, enrolment_id, "discontinuation", {"discontinued_on": "2026-11-29"})
    assert _violation(before)[:2] == ("discontinued_on", "not_before_enrolment")
    ahead = await _record(service, enrolment_id, "discontinuation", {"discontinued_on": "2026-12-01"})
    assert _violation(ahead)[:2] == ("discontinued_on", "not_in_future")
    stopped = await _record(service, enrolment_id, "discontinuation", {"discontinued_on": "2026-11-30"})
    assert stopped.status_code == 200, stopped.text


# --- 13: one clear error ---------------------------------------------------------------------


async def test_a_step_out_of_order_says_what_is_wrong_and_what_is_allowed(service: Service) -> None:
    _, _, _, enrolment_id = await _enrolled(service)
    service.clock.at = AFTER
    early = await _record(
        service, enrolment_id, "completion", {"completed_on": "2027-03-26", "hours_attended": 1, "result": "passed"}
    )
    assert early.status_code == 409
    assert early.json()["message"] == "studies can be completed only after they started (current state: enrolled)"
    assert early.json()["current"] == {"enrolment_id": enrolment_id, "state": "enrolled"}
    await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})
    again = await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})
    assert again.json()["message"] == "studies can be started only once, while enrolled (current state: studying)"


# --- 17: what the grant pays, and the invoice ------------------------------------------------


async def test_a_discontinuation_pays_the_share_of_the_group_delivered_and_releases_the_rest(service: Service) -> None:
    _, learner, application_id, enrolment_id = await _enrolled(service)
    service.clock.at = DURING
    await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})
    stopped = await _record(service, enrolment_id, "discontinuation", {"discontinued_on": "2027-01-20"})
    assert stopped.status_code == 200, stopped.text
    # 10 of the group's 75 days delivered: 320.00 × 10 / 75 = 42.67; the rest of the 500.00 grant goes back.
    mine = (await service.client.get(f"/applications/{application_id}", headers=learner)).json()
    assert mine["grant"] == {"reserved": "500.00", "spent": "42.67", "released": "457.33", "available": "0.00"}
    entries = (await service.client.get("/accounts/me/grant", headers=learner)).json()["entries"]
    assert [(e["kind"], e["cause"], e["amount"]) for e in entries] == [
        ("reserve", "approved", "500.00"),
        ("spend", "discontinued", "42.67"),
        ("release", "discontinued", "457.33"),
    ]
    budget = (await service.client.get("/funding-projects/IMK")).json()["budget"]
    assert (budget["reserved"], budget["spent"]) == ("0.00", "42.67")
    invoiced = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/invoice", headers=service.as_(*PROVIDER_ADMIN)
    )
    assert invoiced.status_code == 200, invoiced.text
    assert (invoiced.json()["amount"], invoiced.json()["cause"]) == ("42.67", "discontinued")


async def test_a_discontinuation_before_anything_was_delivered_spends_nothing(service: Service) -> None:
    _, learner, application_id, enrolment_id = await _enrolled(service)
    stopped = await _record(service, enrolment_id, "discontinuation", {"discontinued_on": "2026-11-30"})
    assert stopped.status_code == 200, stopped.text
    mine = (await service.client.get(f"/applications/{application_id}", headers=learner)).json()
    assert mine["grant"] == {"reserved": "500.00", "spent": "0.00", "released": "500.00", "available": "0.00"}
    nothing = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/invoice", headers=service.as_(*PROVIDER_ADMIN)
    )
    assert nothing.status_code == 409
    assert nothing.json()["current"] == {"enrolment_id": enrolment_id, "state": "discontinued", "due": "0.00"}


async def test_the_invoice_is_due_once_the_studies_ended_and_is_paid_once(service: Service) -> None:
    _, learner, _, enrolment_id = await _enrolled(service)
    invoice = f"/provider/enrolments/{enrolment_id}/invoice"
    admin = service.as_(*PROVIDER_ADMIN)
    service.clock.at = DURING
    await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})
    studying = await service.client.post(invoice, headers=admin)
    assert studying.status_code == 409
    assert studying.json()["message"] == (
        "an invoice is due once the studies are completed or discontinued (current state: studying)"
    )
    assert (await service.client.post(invoice, headers=service.as_(*STAFF))).status_code == 403
    service.clock.at = AFTER
    done = await _record(
        service, enrolment_id, "completion", {"completed_on": "2027-03-26", "hours_attended": 150, "result": "passed"}
    )
    assert done.status_code == 200, done.text
    paid = await service.client.post(invoice, headers=admin)
    assert paid.status_code == 200, paid.text
    assert paid.json() == {
        "enrolment_id": enrolment_id,
        "application_id": paid.json()["application_id"],
        "amount": "320.00",
        "cause": "completed",
        "invoiced_at": AFTER.isoformat().replace("+00:00", "Z"),
    }
    service.clock.at = datetime(2027, 4, 11, 9, 0, tzinfo=UTC)
    again = await service.client.post(invoice, headers=admin)
    assert again.status_code == 409
    current = again.json()["current"]
    assert datetime.fromisoformat(current.pop("paid_at")) == AFTER
    assert current == {"enrolment_id": enrolment_id, "state": "completed", "paid": "320.00"}
    assert "320.00" in again.json()["message"] and "2027-04-10" in again.json()["message"]
    grant = (await service.client.get("/accounts/me/grant", headers=learner)).json()
    assert (grant["spent"], grant["released"]) == ("320.00", "180.00")  # the invoice moved no money


# --- 15: names where the role may see them ---------------------------------------------------


async def test_the_agency_and_the_learners_institution_see_the_learners_name(service: Service) -> None:
    offer, _, application_id, enrolment_id = await _enrolled(service, 7, first_name="Anna", last_name="Bērziņa")
    single = await service.client.get(f"/agency/applications/{application_id}", headers=service.as_(*OFFICER))
    assert (single.json()["learner_name"], single.json()["birth_date"]) == ("Anna Bērziņa", "1950-01-01")
    listed = await service.client.get(
        "/provider/enrolments", params={"group_id": str(offer.group_id)}, headers=service.as_(*STAFF)
    )
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    (item,) = page["items"]
    assert (item["id"], item["learner_name"]) == (enrolment_id, "Anna Bērziņa")
    assert "birth_date" not in item and "personal_code" not in str(page)
    _, rival_events = catalog_events(staff="rival")
    await service.catalog(*rival_events)
    rival = await service.client.get("/provider/enrolments", headers=service.as_("rival", "provider_staff"))
    assert rival.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    learner_view = await service.client.get(f"/applications/{application_id}", headers=service.as_("learner-7"))
    assert "learner_name" not in learner_view.json()


async def test_the_institutions_list_filters_by_state_sorts_by_name_and_shows_one_enrolment(
    service: Service,
) -> None:
    offer, events = catalog_events(capacity=5)
    await service.catalog(*events)
    enrolled: dict[str, str] = {}
    for n, last_name in ((11, "Ozola"), (12, "Bērziņa"), (13, "Kalniņa")):
        learner = await service.learner(f"learner-{n}", n, first_name="Anna", last_name=last_name)
        application = await service.apply(learner)
        await service.client.post(f"/agency/applications/{application['id']}/approval", headers=service.as_(*OFFICER))
        answer = await service.client.post(
            f"/applications/{application['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=learner
        )
        enrolled[last_name] = answer.json()["id"]
    service.clock.at = DURING
    assert (await _record(service, enrolled["Ozola"], "start", {"started_on": "2027-01-11"})).status_code == 200
    staff = service.as_(*STAFF)
    by_name = (await service.client.get("/provider/enrolments", params={"sort": "name"}, headers=staff)).json()
    assert [e["learner_name"] for e in by_name["items"]] == ["Anna Bērziņa", "Anna Kalniņa", "Anna Ozola"]
    params = {"state": "enrolled", "sort": "-name", "limit": 1, "offset": 1}
    waiting = (await service.client.get("/provider/enrolments", params=params, headers=staff)).json()
    assert waiting["total"] == 2 and [e["learner_name"] for e in waiting["items"]] == ["Anna Bērziņa"]
    unknown = await service.client.get("/provider/enrolments", params={"sort": "birth_date"}, headers=staff)
    assert unknown.status_code == 422
    one = await service.client.get(f"/provider/enrolments/{enrolled['Ozola']}", headers=staff)
    assert one.status_code == 200
    assert (one.json()["learner_name"], one.json()["state"], one.json()["started_on"]) == (
        "Anna Ozola",
        "studying",
        "2027-01-11",
    )
    stranger = await service.client.get(
        f"/provider/enrolments/{enrolled['Ozola']}", headers=service.as_("rival", "provider_staff")
    )
    assert stranger.status_code == 404


# --- 16: one role model ----------------------------------------------------------------------

PUBLIC_READS = {
    ("GET", "/funding-projects"),
    ("GET", "/funding-projects/{code}"),
    ("GET", "/public/credentials/keys"),
    ("POST", "/public/credentials/verify"),  # checks a credential anyone holds: reads nothing of anyone's
}
GROUPS = {
    frozenset(g) for g in (roles.LEARNERS, roles.AGENCY, roles.AGENCY_ADMINS, roles.PROVIDER, roles.PROVIDER_ADMINS)
}


def _role_groups(dependant: Dependant) -> list[frozenset[str]]:
    """The role groups a route asks for (not the signed-in check every role dependency itself depends on)."""
    own = access_rule(dependant.call) if dependant.call is not None else None
    found = [*([own] if own is not None else []), *(g for d in dependant.dependencies for g in _role_groups(d))]
    return [g for g in found if g != roles.ROLES]


def test_every_route_but_the_public_reads_asks_for_one_of_the_runtimes_role_groups() -> None:
    checked, public = 0, set()
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in route.methods:
                groups = _role_groups(route.dependant)
                if is_public(route.openapi_extra):
                    assert groups == [], route.path
                    public.add((method, route.path))
                    continue
                assert len(groups) == 1 and groups[0] in GROUPS, (method, route.path, groups)
                checked += 1
    assert checked >= 20 and public == PUBLIC_READS


async def test_an_institutions_admin_records_studies_of_its_own_groups_only(service: Service) -> None:
    _, _, _, enrolment_id = await _enrolled(service)
    service.clock.at = DURING
    stranger = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/start",
        json={"started_on": "2027-01-11"},
        headers=service.as_("other-admin", "provider_admin"),
    )
    assert stranger.status_code == 404
    started = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/start",
        json={"started_on": "2027-01-11"},
        headers=service.as_(*PROVIDER_ADMIN),
    )
    assert started.status_code == 200, started.text
    learner = await service.client.get("/provider/enrolments", headers=service.as_("learner-1"))
    assert learner.status_code == 403
