"""What the institution's pages ask of catalog beyond registering: the cost of a draft quoted by the registration's
own rule without saving anything, and the institution's programmes and groups filtered, sorted and paged."""

from __future__ import annotations

from decimal import Decimal

from .conftest import Catalog, refusal

ICT = "Datorsistēmas, datubāzes un datortīkli"


async def test_a_quote_is_what_the_registration_computes_and_saves_nothing(catalog: Catalog) -> None:
    institution_id = await catalog.approved_institution("liga")
    location_id = await catalog.location("liga", institution_id, "Brīvības iela 100, Rīga, LV-1001")
    quote = await catalog.client.post(
        "/programmes/cost", json={"programme_group": ICT, "total_hours": 160}, headers=catalog.user("liga")
    )
    assert quote.status_code == 200, quote.text
    table = (await catalog.client.get("/coefficients")).json()
    assert quote.json()["coefficient_table_version"] == table["version"]
    assert quote.json()["valid_from"] == table["valid_from"]
    listed = await catalog.client.get(f"/providers/{institution_id}/programmes", headers=catalog.user("liga"))
    assert listed.json() == []  # nothing saved
    registered = (await catalog.programme("liga", institution_id, [location_id])).json()
    for name in ("per_participant", "per_hour", "coefficient", "hourly_rate", "coefficient_table_version"):
        assert Decimal(str(quote.json()[name])) == Decimal(str(registered["cost"][name])), name
    assert Decimal(quote.json()["per_participant"]) == Decimal(quote.json()["per_hour"]) * 160


async def test_a_quote_names_every_problem_of_its_two_fields(catalog: Catalog) -> None:
    staff = catalog.user("peteris", "provider_staff")
    refused = await catalog.client.post(
        "/programmes/cost", json={"programme_group": "Nav", "total_hours": 0}, headers=staff
    )
    assert refused.status_code == 422
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {
        ("programme_group", "in_coefficient_table"),
        ("total_hours", "positive"),
    }
    empty = await catalog.client.post(
        "/programmes/cost", json={"programme_group": " ", "total_hours": 10**6}, headers=staff
    )
    assert {(e["field"], e["rule"]) for e in empty.json()["errors"]} == {
        ("programme_group", "required"),
        ("total_hours", "max_hours"),
    }


async def test_a_quote_is_for_institutions_users_only(catalog: Catalog) -> None:
    body = {"programme_group": ICT, "total_hours": 160}
    assert (
        await catalog.client.post("/programmes/cost", json=body, headers=catalog.user("janis", "learner"))
    ).status_code == 403
    assert (await catalog.client.post("/programmes/cost", json=body)).status_code == 401
    extra = await catalog.client.post("/programmes/cost", json=body | {"cost": 1}, headers=catalog.user("liga"))
    assert refusal(extra) == ("cost", "extra_forbidden")


async def test_the_programmes_are_filtered_sorted_and_paged_with_their_total(catalog: Catalog) -> None:
    institution_id = await catalog.approved_institution("liga")
    location_id = await catalog.location("liga", institution_id, "Brīvības iela 100, Rīga, LV-1001")
    python = (await catalog.programme("liga", institution_id, [location_id])).json()
    cyber = await catalog.programme(
        "liga",
        institution_id,
        [location_id],
        licence_number="P-2001",
        licence_date="2022-09-01",
        title={"lv": "Kiberdrošības pamati", "en": "Cybersecurity basics"},
        total_hours=120,
        theory_hours=40,
        practice_hours=80,
    )
    assert cyber.status_code == 201, cyber.text
    await catalog.publish_programmes(institution_id, python["id"])
    base, liga = f"/providers/{institution_id}/programmes", catalog.user("liga")

    async def ids(**params: object) -> tuple[list[str], str]:
        answer = await catalog.client.get(base, params=params, headers=liga)
        assert answer.status_code == 200, answer.text
        return [p["title"]["en"] for p in answer.json()], answer.headers["x-total-count"]

    assert await ids(sort="title") == (["Data analysis with Python", "Cybersecurity basics"], "2")
    assert await ids(sort="title", lang="en") == (["Cybersecurity basics", "Data analysis with Python"], "2")
    assert await ids(sort="cost") == (["Cybersecurity basics", "Data analysis with Python"], "2")
    assert await ids(status="published") == (["Data analysis with Python"], "1")
    assert await ids(status=["draft", "published"], q="kiberdrosiba") == (["Cybersecurity basics"], "1")
    assert await ids(q="p-1234") == (["Data analysis with Python"], "1")
    assert await ids(sort="-cost", limit=1, offset=1) == (["Cybersecurity basics"], "2")
    assert refusal(await catalog.client.get(base, params={"statuss": "draft"}, headers=liga)) == (
        "statuss",
        "extra_forbidden",
    )
    assert refusal(await catalog.client.get(base, params={"limit": 0}, headers=liga))[0] == "limit"


async def test_the_groups_are_filtered_sorted_and_paged_with_their_total(catalog: Catalog) -> None:
    institution_id = await catalog.approved_institution("liga")
    location_id = await catalog.location("liga", institution_id, "Brīvības iela 100, Rīga, LV-1001")
    python = (await catalog.programme("liga", institution_id, [location_id])).json()
    await catalog.publish_programmes(institution_id, python["id"])
    early = await catalog.group("liga", institution_id, python["id"], location_id, capacity=2)
    late = await catalog.group("liga", institution_id, python["id"], location_id, start_date="2026-04-01", capacity=9)
    liga, base = catalog.user("liga"), f"/providers/{institution_id}/groups"
    cancel = await catalog.client.patch(f"{base}/{early['id']}", json={"status": "cancelled"}, headers=liga)
    assert cancel.status_code == 200, cancel.text

    async def ids(**params: object) -> tuple[list[str], str]:
        answer = await catalog.client.get(base, params=params, headers=liga)
        assert answer.status_code == 200, answer.text
        return [g["id"] for g in answer.json()], answer.headers["x-total-count"]

    assert await ids() == ([early["id"], late["id"]], "2")
    assert await ids(sort="-start") == ([late["id"], early["id"]], "2")
    assert await ids(sort="-free_places", limit=1) == ([late["id"]], "2")
    assert await ids(status="scheduled") == ([late["id"]], "1")
    assert await ids(programme_id=python["id"], limit=1, offset=1) == ([late["id"]], "2")
    other = await catalog.approved_institution("karlis", "3360800005")
    assert (await catalog.client.get(f"/providers/{other}/groups", headers=liga)).status_code == 404
