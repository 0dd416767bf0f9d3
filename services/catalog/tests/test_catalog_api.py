"""The catalog over HTTP, in process, on SQLite and PostgreSQL: registration to the public catalogue."""

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from catalog.domain.catalogue import RATING_ASPECTS, RatingSummary
from catalog.service import catalogue
from prasmes_contracts.accounts import EnrolmentConfirmed, StudiesCompleted, StudiesDiscontinued, StudiesStarted
from prasmes_runtime.messaging import outbox
from prasmes_testing import samples
from prasmes_testing.support import eventually

from .conftest import API, NOW, Catalog, refusal

OTHER_LICENCE: dict[str, Any] = {
    "licence_number": "P-3003",
    "licence_date": "2021-02-15",
    "theory_hours": 60,
    "practice_hours": 100,
}
"""Another licence of 3360800001 (160 h, as P-1234): an institution registers each licence as one programme."""

# --------------------------------------------------------------------------- the whole way


async def test_from_registration_to_a_group_with_free_places_in_the_public_catalogue(catalog: Catalog) -> None:
    registered = await catalog.register("liga")
    assert registered.status_code == 201, registered.text
    institution = registered.json()
    assert (institution["status"], institution["decision_due_on"], institution["overdue"]) == (
        "pending",
        "2026-03-03",
        False,
    )
    institution_id = institution["id"]
    # Pending: the registrant sees it, cannot add locations yet.
    early = await catalog.client.post(
        f"{API}/providers/{institution_id}/locations", json={"address": "x"}, headers=catalog.user("liga")
    )
    assert early.status_code == 409 and early.json()["current"]["status"] == "pending"
    approved = await catalog.client.post(
        f"{API}/providers/{institution_id}/approve", headers=catalog.user("ilze", "agency_officer")
    )
    assert approved.json()["status"] == "approved"
    me = await catalog.client.get(f"{API}/providers/me", headers=catalog.user("liga"))
    assert me.json()["membership"] | {"added_at": None} == {
        "institution_id": institution_id,
        "user_id": "liga",
        "display_name": None,
        "role": "provider_admin",
        "active": True,
        "added_at": None,
    }

    riga = await catalog.location("liga", institution_id, "Brīvības iela 100, Rīga, LV-1001")
    created = await catalog.programme("liga", institution_id, [riga])
    assert created.status_code == 201, created.text
    programme = created.json()
    assert programme["status"] == "draft"
    assert programme["cost"] == {
        "per_participant": "320.00",
        "per_hour": "2.00",
        "hourly_rate": "1.56",
        "coefficient": "1.28",
        "coefficient_table_version": 1,
        "currency": "EUR",
    }
    assert (await catalog.client.get(f"{API}/public/programmes/{programme['id']}")).status_code == 404

    await catalog.publish_programmes(institution_id, programme["id"])
    group = await catalog.group("liga", institution_id, programme["id"], riga)
    assert (group["city"], group["free_places"]) == ("Rīga", 3)

    page = (
        await catalog.client.get(f"{API}/public/programmes", params={"q": "datu analize", "free_places": True})
    ).json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert item["institution"] == {"id": institution_id, "name": "Rīgas Datorikas mācību centrs"}
    assert item["cost_per_participant"] == "320.00"
    assert item["entry_level"] == 3 and "izklājlapām" in item["prior_knowledge"]
    assert item["operating_systems"] == ["windows", "linux"] and item["equipment"]
    assert [(g["id"], g["free_places"]) for g in item["groups"]] == [(group["id"], 3)]
    assert item["rating"] == {"raters": 0, "shown": False, "averages": None, "overall": None}
    assert item["outcomes"]["completion_rate"] is None
    assert await catalog.outbox_types() == [
        "lv.prasmes.catalog.ProviderRegistered.v1",
        "lv.prasmes.catalog.ProviderApproved.v1",
        "lv.prasmes.catalog.ProviderUserAdded.v1",
        "lv.prasmes.catalog.ProgrammeRegistered.v1",
        "lv.prasmes.catalog.ProgrammePublished.v1",
        "lv.prasmes.catalog.GroupScheduled.v1",
    ]


# --------------------------------------------------------------------------- registration


async def test_registration_refusals_name_the_field_and_the_rule(catalog: Catalog) -> None:
    as_text = await catalog.upload("liga", "statement", b"Es apliecinu.\n", "apliecinajums.pdf")
    assert refusal(as_text) == ("file", "file_type")
    unsigned = await catalog.upload("liga", "statement", samples.plain_pdf(), "apliecinajums.pdf")
    assert refusal(unsigned) == ("file", "signature_missing")
    no_stamp = await catalog.upload("liga", "statement", samples.pades_pdf(timestamp="none"), "a.pdf")
    assert refusal(no_stamp) == ("file", "timestamp_missing")
    oversized = await catalog.upload("liga", "statement", samples.pades_pdf() + b"\0" * 100_000, "a.pdf")
    assert refusal(oversized) == ("file", "max_size")
    pades = await catalog.upload("liga", "statement", samples.pades_pdf(), "apliecinajums.pdf")
    assert pades.status_code == 201 and pades.json()["format"] == "pades"

    unknown = samples.registration_payload(pades.json()["id"], "9999999999")
    response = await catalog.client.post(f"{API}/providers", json=unknown, headers=catalog.user("liga"))
    assert refusal(response) == ("register_number", "registered")
    not_mine = samples.registration_payload(pades.json()["id"])
    response = await catalog.client.post(f"{API}/providers", json=not_mine, headers=catalog.user("impostor"))
    assert refusal(response) == ("statement_document_id", "uploaded")
    assert (
        await catalog.client.get(f"{API}/documents/{pades.json()['id']}", headers=catalog.user("impostor"))
    ).status_code == 404

    first = await catalog.register("liga")
    again = await catalog.register("liga")
    assert again.status_code == 409 and again.json()["current"]["institution_id"] == first.json()["id"]
    other_user = await catalog.register("janis")
    assert other_user.status_code == 409
    assert other_user.json()["current"] | {"registered_at": None} == {
        "institution_id": first.json()["id"],
        "status": "pending",
        "registered_at": None,
        "decided_at": None,
    }
    assert (await catalog.client.post(f"{API}/providers", json={})).status_code == 401


async def test_decisions_overdue_registrations_and_a_second_chance(catalog: Catalog) -> None:
    officer = catalog.user("ilze", "agency_officer")
    catalog.clock.at = datetime(2024, 5, 3, 13, 0, tzinfo=UTC)  # Friday before Monday 6 May 2024, a holiday
    registered = (await catalog.register("liga")).json()
    assert registered["decision_due_on"] == "2024-05-07"
    overdue = f"{API}/providers?overdue=true"
    assert (await catalog.client.get(overdue, headers=catalog.user("liga"))).status_code == 403
    catalog.clock.at = datetime(2024, 5, 7, 20, 0, tzinfo=UTC)  # Tuesday 23:00 in Riga
    assert (await catalog.client.get(overdue, headers=officer)).json() == []
    catalog.clock.at = datetime(2024, 5, 7, 21, 0, tzinfo=UTC)  # Wednesday 00:00 in Riga
    (late,) = (await catalog.client.get(overdue, headers=officer)).json()
    assert (late["id"], late["overdue"]) == (registered["id"], True)

    decide = f"{API}/providers/{registered['id']}"
    refusal = {"reason_code": "statement_invalid", "reason": "Apliecinājumu parakstījusi cita persona."}
    # Officer work is the agency's (officer or admin, as in every service): a provider may not decide.
    assert (
        await catalog.client.post(f"{decide}/reject", json=refusal, headers=catalog.user("liga", "provider_admin"))
    ).status_code == 403
    rejected = await catalog.client.post(f"{decide}/reject", json=refusal, headers=officer)
    assert rejected.json()["status"] == "rejected" and rejected.json()["rejection_reason_code"] == "statement_invalid"
    twice = await catalog.client.post(f"{decide}/approve", headers=officer)
    assert twice.status_code == 409 and twice.json()["current"]["status"] == "rejected"
    assert (await catalog.client.get(overdue, headers=officer)).json() == []

    again = await catalog.register("liga")
    assert again.status_code == 201 and again.json()["id"] == registered["id"]
    assert again.json()["status"] == "pending" and again.json()["rejection_reason_code"] is None


# --------------------------------------------------------------------------- isolation between institutions


async def test_one_institutions_users_never_see_or_change_anothers(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    b = await catalog.approved_institution("karlis", "3360800005")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    draft = (await catalog.programme("liga", a, [riga])).json()
    published = (
        await catalog.programme("liga", a, [riga], title={"lv": "Cits", "en": "Other"}, **OTHER_LICENCE)
    ).json()
    await catalog.publish_programmes(a, published["id"])
    group = await catalog.group("liga", a, published["id"], riga)
    added = await catalog.client.post(
        f"{API}/providers/{a}/users", json={"username": "peteris"}, headers=catalog.user("liga")
    )
    assert added.status_code == 201 and added.json()["role"] == "provider_staff"

    karlis = catalog.user("karlis")
    for path in (
        f"/providers/{a}",
        f"/providers/{a}/programmes",
        f"/providers/{a}/programmes/{draft['id']}",
        f"/providers/{a}/groups",
        f"/providers/{a}/groups/{group['id']}",
        f"/providers/{a}/locations",
        f"/providers/{a}/users",
        f"/providers/{b}/programmes/{draft['id']}",
        f"/providers/{b}/groups/{group['id']}",
        f"/documents/{draft['curriculum_document_id']}",
    ):
        response = await catalog.client.get(API + path, headers=karlis)
        assert response.status_code == 404, path
        assert "Datu" not in response.text
    group_body = {
        "location_id": riga,
        "start_date": "2026-03-16",
        "end_date": "2026-04-16",
        "schedule": "x",
        "capacity": 5,
        "language": "lv",
        "entry_level": 3,
    }
    writes = [
        ("POST", f"/providers/{a}/users", {"username": "spy"}),
        ("DELETE", f"/providers/{a}/users/peteris", None),
        ("POST", f"/providers/{a}/locations", {"address": "Brīvības iela 100, Rīga, LV-1001"}),
        ("PATCH", f"/providers/{a}/groups/{group['id']}", {"capacity": 1}),
        ("PATCH", f"/providers/{b}/groups/{group['id']}", {"capacity": 1}),
        ("POST", f"/providers/{a}/programmes/{published['id']}/groups", group_body),
        ("POST", f"/providers/{b}/programmes/{published['id']}/groups", group_body),
    ]
    for method, path, body in writes:
        response = await catalog.client.request(method, API + path, json=body, headers=karlis)
        assert response.status_code == 404, (path, response.text)
    assert (await catalog.client.get(f"{API}/providers/{a}/groups", headers=karlis)).status_code == 404

    peteris = catalog.user("peteris", "provider_staff")
    assert (await catalog.client.get(f"{API}/providers/{a}/groups/{group['id']}", headers=peteris)).status_code == 200
    staff_write = await catalog.programme("peteris", a, [riga])
    assert staff_write.status_code == 403
    assert (
        await catalog.client.post(f"{API}/providers/{a}/users", json={"username": "x"}, headers=peteris)
    ).status_code == 403
    elsewhere = await catalog.client.post(f"{API}/providers/{b}/users", json={"username": "peteris"}, headers=karlis)
    assert elsewhere.status_code == 409 and elsewhere.json()["current"] == {"user_id": "peteris"}
    removed = await catalog.client.delete(f"{API}/providers/{a}/users/peteris", headers=catalog.user("liga"))
    assert removed.status_code == 204
    assert (await catalog.client.get(f"{API}/providers/{a}/groups", headers=peteris)).status_code == 404
    self_removal = await catalog.client.delete(f"{API}/providers/{a}/users/liga", headers=catalog.user("liga"))
    assert self_removal.status_code == 409
    assert "lv.prasmes.catalog.ProviderUserRemoved.v1" in await catalog.outbox_types()


# --------------------------------------------------------------------------- locations, programmes, coefficients


async def test_locations_and_programmes_are_checked_against_the_registers(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    outside = await catalog.client.post(
        f"{API}/providers/{a}/locations", json={"address": "Tērbatas iela 1, Rīga"}, headers=catalog.user("liga")
    )
    assert refusal(outside) == ("address", "registered_in_viis")
    assert "Tērbatas iela 1, Rīga" in outside.json()["errors"][0]["message"]
    riga = await catalog.location("liga", a, "brivibas iela 100, riga, lv-1001")
    twice = await catalog.client.post(
        f"{API}/providers/{a}/locations",
        json={"address": "Brīvības iela 100, Rīga, LV-1001"},
        headers=catalog.user("liga"),
    )
    assert twice.status_code == 409 and twice.json()["current"]["location_id"] == riga

    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"licence_number": "P-0000"}, ("licence_number", "registered")),
        ({"licence_date": "2023-05-11"}, ("licence_date", "matches_register")),
        ({"theory_hours": 60}, ("hours_split", "sums_to_total")),
        ({"digcomp_level": 9}, ("digcomp_level", "digcomp_range")),
        ({"digital_share_percent": "101"}, ("digital_share_percent", "max_100")),
        ({"digcomp_level": "five"}, ("digcomp_level", "int_parsing")),
    ]
    for changes, expected in cases:
        assert refusal(await catalog.programme("liga", a, [riga], **changes)) == expected, changes
    # The platform computes the cost: a cost typed by the provider is refused by name, not silently ignored.
    typed_cost = await catalog.programme("liga", a, [riga], cost_per_participant="1.00")
    assert refusal(typed_cost) == ("cost_per_participant", "extra_forbidden")


async def test_a_new_coefficient_table_costs_new_programmes_and_keeps_the_old_ones(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    old = (await catalog.programme("liga", a, [riga])).json()
    table = {
        "hourly_rate": "1.56",
        "coefficients": {"Datorsistēmas, datubāzes un datortīkli": "1.5", "Biroja darbs": "1.1"},
        "valid_from": "2026-03-02",
    }
    assert (
        await catalog.client.post(f"{API}/coefficients", json=table, headers=catalog.user("ilze", "agency_officer"))
    ).status_code == 403
    past = await catalog.client.post(
        f"{API}/coefficients",
        json=table | {"valid_from": "2026-03-01"},
        headers=catalog.user("martins", "agency_admin"),
    )
    assert refusal(past) == ("valid_from", "not_in_past")
    published = await catalog.client.post(
        f"{API}/coefficients", json=table, headers=catalog.user("martins", "agency_admin")
    )
    assert published.status_code == 201 and published.json()["version"] == 2
    assert (await catalog.client.get(f"{API}/coefficients")).json()["version"] == 2
    new = (await catalog.programme("liga", a, [riga], **OTHER_LICENCE)).json()
    assert (new["cost"]["per_participant"], new["cost"]["coefficient_table_version"]) == ("374.40", 2)
    kept = await catalog.client.get(f"{API}/providers/{a}/programmes/{old['id']}", headers=catalog.user("liga"))
    assert (kept.json()["cost"]["per_participant"], kept.json()["cost"]["coefficient_table_version"]) == ("320.00", 1)
    assert "lv.prasmes.catalog.CoefficientTableChanged.v1" in await catalog.outbox_types()


# --------------------------------------------------------------------------- publication, groups and progress


async def test_publication_follows_the_agreement(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    programme = (await catalog.programme("liga", a, [riga])).json()
    on_draft = await catalog.client.post(
        f"{API}/providers/{a}/programmes/{programme['id']}/groups",
        json={
            "location_id": riga,
            "start_date": "2026-03-16",
            "end_date": "2026-04-16",
            "schedule": "x",
            "capacity": 5,
            "language": "lv",
            "entry_level": 3,
        },
        headers=catalog.user("liga"),
    )
    assert on_draft.status_code == 409 and on_draft.json()["current"]["status"] == "draft"
    offer = await catalog.publish_programmes(a, programme["id"], until=date(2026, 4, 30))
    past_agreement = await catalog.client.post(
        f"{API}/providers/{a}/programmes/{programme['id']}/groups",
        json={
            "location_id": riga,
            "start_date": "2026-03-16",
            "end_date": "2026-05-16",
            "schedule": "x",
            "capacity": 5,
            "language": "lv",
            "entry_level": 3,
        },
        headers=catalog.user("liga"),
    )
    assert refusal(past_agreement) == ("end_date", "within_agreement")
    await catalog.end_agreement(a, offer, programme["id"])
    mine = await catalog.client.get(f"{API}/providers/{a}/programmes/{programme['id']}", headers=catalog.user("liga"))
    assert mine.json()["status"] == "withdrawn"
    types = await catalog.outbox_types()
    assert types.count("lv.prasmes.catalog.ProgrammePublished.v1") == 1
    assert types.count("lv.prasmes.catalog.ProgrammeWithdrawn.v1") == 1


async def test_free_places_follow_enrolments_and_the_provider_sees_progress(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    programme = (await catalog.programme("liga", a, [riga])).json()
    await catalog.publish_programmes(a, programme["id"])
    group = await catalog.group("liga", a, programme["id"], riga, capacity=3)
    ids = dict(
        enrolment_id=uuid.uuid4(),
        application_id=uuid.uuid4(),
        project_code="IMK",
        programme_id=uuid.UUID(programme["id"]),
        group_id=uuid.UUID(group["id"]),
        institution_id=uuid.UUID(a),
    )
    learners = [dict(ids, enrolment_id=uuid.uuid4(), learner_id=f"learner-{i}") for i in range(3)]
    for learner in learners:
        await catalog.publish(EnrolmentConfirmed(**learner, at=NOW))
    await catalog.publish(EnrolmentConfirmed(**learners[0], at=NOW))  # a duplicate of the first, by enrolment id
    await catalog.publish(StudiesStarted(**learners[0], started_on=date(2026, 3, 16)))
    await catalog.publish(StudiesStarted(**learners[1], started_on=date(2026, 3, 16)))
    await catalog.publish(
        StudiesCompleted(**learners[0], completed_on=date(2026, 5, 29), hours_attended=160, result="completed")
    )
    await catalog.publish(StudiesDiscontinued(**learners[1], discontinued_on=date(2026, 4, 1)))
    detail_url = f"{API}/providers/{a}/groups/{group['id']}"

    async def all_recorded() -> bool:
        detail = (await catalog.client.get(detail_url, headers=catalog.user("liga"))).json()
        return bool(detail["progress"] == {"enrolled": 1, "started": 0, "discontinued": 1, "completed": 1})

    await eventually(all_recorded, timeout=20, interval=0.05)
    detail = (await catalog.client.get(detail_url, headers=catalog.user("liga"))).json()
    assert (detail["enrolled"], detail["free_places"]) == (3, 0)
    assert {row["learner_id"] for row in detail["learners"]} == {"learner-0", "learner-1", "learner-2"}
    public = (await catalog.client.get(f"{API}/public/programmes/{programme['id']}")).json()
    assert public["has_free_places"] is False
    assert public["outcomes"] == {
        "started": 2,
        "completed": 1,
        "discontinued": 1,
        "completion_rate": "50.0",
        "dropout_rate": "50.0",
    }
    full = await catalog.client.get(f"{API}/public/programmes", params={"free_places": True})
    assert full.json()["total"] == 0

    below = await catalog.client.patch(detail_url, json={"capacity": 2}, headers=catalog.user("liga"))
    assert refusal(below) == ("capacity", "not_below_enrolled")
    cancel = await catalog.client.patch(detail_url, json={"status": "cancelled"}, headers=catalog.user("liga"))
    assert cancel.status_code == 409 and cancel.json()["current"]["enrolled"] == 3
    grown = await catalog.client.patch(detail_url, json={"capacity": 5}, headers=catalog.user("liga"))
    assert (grown.json()["capacity"], grown.json()["free_places"]) == (5, 2)
    assert "lv.prasmes.catalog.GroupChanged.v1" in await catalog.outbox_types()


# --------------------------------------------------------------------------- the public catalogue


async def test_search_filters_sorting_and_paging(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    valmiera = await catalog.location("liga", a, "Rīgas iela 5, Valmiera, LV-4201")
    data = (await catalog.programme("liga", a, [riga, valmiera])).json()
    cyber = (
        await catalog.programme(
            "liga",
            a,
            [valmiera],
            title={"lv": "Kiberdrošības pamati", "en": "Cybersecurity basics"},
            licence_number="P-2001",
            licence_date="2022-09-01",
            total_hours=120,
            theory_hours=40,
            practice_hours=80,
            digcomp_level=4,
            form="hybrid",
            qualifications=["kiberdrosibas_tehnikis"],
            professional_competences=["Novērtē drošības riskus"],
            learning_outcomes=["Spēj konfigurēt ugunsmūri"],
            description="Drošības pamati organizācijām: draudi, ievainojamības, incidentu pārvaldība.",
        )
    ).json()
    hidden = (
        await catalog.programme("liga", a, [riga], title={"lv": "Melnraksts", "en": "Draft"}, **OTHER_LICENCE)
    ).json()
    await catalog.publish_programmes(a, data["id"], cyber["id"])
    await catalog.group("liga", a, data["id"], riga, start_date="2026-04-01", capacity=10)
    await catalog.group("liga", a, cyber["id"], valmiera, start_date="2026-03-20", capacity=10)

    async def ids(**params: Any) -> list[str]:
        response = await catalog.client.get(f"{API}/public/programmes", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(q="DATU ANALĪZE") == [data["id"]]
    assert await ids(q="datu analize python") == [data["id"]]
    assert await ids(q="cybersecurity") == [cyber["id"]]
    assert await ids(q="drosiba") == [cyber["id"]]
    assert await ids(q="python kiber") == []  # every word must match
    assert await ids(q="melnraksts") == [] and hidden["id"] not in await ids()
    assert await ids(q="100%_") == []
    assert await ids(digcomp_level=[4]) == [cyber["id"]]
    assert sorted(await ids(digcomp_level=[4, 5])) == sorted([data["id"], cyber["id"]])
    assert await ids(qualification="datu_analitikis") == [data["id"]]
    assert await ids(form="hybrid") == [cyber["id"]]
    assert await ids(city="riga") == [data["id"]]
    assert await ids(city="Valmiera") == [cyber["id"]]
    assert await ids(starts_from="2026-03-25") == [data["id"]]
    assert await ids(starts_until="2026-03-25") == [cyber["id"]]
    assert await ids(sort="cost") == [cyber["id"], data["id"]]  # 240.00 before 320.00
    assert await ids(sort="-cost") == [data["id"], cyber["id"]]
    assert await ids(sort="start") == [cyber["id"], data["id"]]
    assert await ids(sort="title") == [data["id"], cyber["id"]]  # "Datu..." before "Kiber..."
    page = (
        await catalog.client.get(f"{API}/public/programmes", params={"limit": 1, "offset": 1, "sort": "cost"})
    ).json()
    assert (page["total"], [i["id"] for i in page["items"]], page["limit"], page["offset"]) == (2, [data["id"]], 1, 1)
    assert refusal(await catalog.client.get(f"{API}/public/programmes", params={"digcomp_level": 9})) == (
        "digcomp_level",
        "digcomp_range",
    )
    assert refusal(await catalog.client.get(f"{API}/public/programmes", params={"limit": 0})) == (
        "limit",
        "greater_than_equal",
    )
    bad_period = await catalog.client.get(
        f"{API}/public/programmes", params={"starts_from": "2026-05-01", "starts_until": "2026-04-01"}
    )
    assert refusal(bad_period) == ("starts_until", "not_before_from")


async def test_a_rating_shows_from_ten_raters_with_the_count(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    programme = (await catalog.programme("liga", a, [riga])).json()
    await catalog.publish_programmes(a, programme["id"])
    averages = {aspect: Decimal("4.5") for aspect in RATING_ASPECTS}
    url = f"{API}/public/programmes/{programme['id']}"
    for raters, shown in ((9, False), (10, True)):
        async with catalog.database.transaction() as session:
            summary = RatingSummary(uuid.UUID(programme["id"]), raters, averages)
            await catalogue.record_rating_summary(session, summary, catalog.clock)
        rating = (await catalog.client.get(url)).json()["rating"]
        assert (rating["raters"], rating["shown"]) == (raters, shown)
        assert (rating["overall"] == "4.5") is shown


# --------------------------------------------------------------------------- registers, personal data


async def test_other_services_ask_catalog_about_the_registers(catalog: Catalog) -> None:
    url = f"{API}/registers/institutions"
    assert (await catalog.client.get(f"{url}/3360800002", headers=catalog.user("anna", "learner"))).status_code == 403
    young = (await catalog.client.get(f"{url}/3360800002", headers=catalog.user("ilze", "agency_officer"))).json()
    assert {c["rule"]: c["passed"] for c in young["checks"]}["registered_three_years"] is False
    good = (await catalog.client.get(f"{url}/3360800001", headers=catalog.user("liga"))).json()
    assert all(c["passed"] for c in good["checks"])
    assert {p["licence_number"] for p in good["licensed_programmes"]} >= {"P-1234"}
    assert [a["city"] for a in good["addresses"]] == ["Rīga", "Valmiera"]
    assert (await catalog.client.get(f"{url}/0000000000", headers=catalog.user("liga"))).status_code == 404


async def test_the_admins_name_and_email_never_leave_catalog(catalog: Catalog) -> None:
    institution_id = await catalog.approved_institution("liga")
    async with catalog.database.session() as session:
        rows = (await session.execute(sa.select(outbox.c.data).order_by(outbox.c.id))).scalars().all()
    assert rows and not any("Līga Ozola" in r or "liga.ozola@example.lv" in r for r in rows)
    agency = await catalog.client.get(
        f"{API}/providers/{institution_id}", headers=catalog.user("ilze", "agency_officer")
    )
    assert agency.json()["admin"] == {"name": "Līga Ozola", "email": "liga.ozola@example.lv"}
    registered = json.loads(rows[0])
    assert (registered["register_number"], registered["registered_by"]) == ("3360800001", "liga")  # an opaque id
    assert (
        await catalog.client.get(f"{API}/providers/{institution_id}", headers=catalog.user("anna", "learner"))
    ).status_code == 404
