"""The public funding-project answers are rendered once and kept for a moment: a write in this process shows at
once, one in another process (a second api worker, the worker's jobs) within `PUBLISHED_SECONDS`."""

from decimal import Decimal

from accounts.api import ProjectOut
from accounts.db.tables import funding_projects
from prasmes_runtime.db import Database
from pydantic import TypeAdapter

from .conftest import Service

OFFICER = ("ilze", "agency_officer")


async def _budgets(service: Service) -> tuple[dict[str, str], dict[str, str]]:
    listed = (await service.client.get("/funding-projects")).json()
    one = (await service.client.get("/funding-projects/IMK")).json()
    (imk,) = [p for p in listed if p["code"] == "IMK"]
    return imk["budget"], one["budget"]


async def test_a_budget_changed_elsewhere_is_kept_for_a_moment_and_one_changed_here_shows_at_once(
    service: Service,
) -> None:
    before, _ = await _budgets(service)
    other_process = Database(service.database.url)  # a write this process's cache cannot know of
    try:
        async with other_process.transaction() as session:
            c = funding_projects.c
            await session.execute(funding_projects.update().where(c.code == "IMK").values(reserved=c.reserved + 100))
    finally:
        await other_process.dispose()
    assert await _budgets(service) == (before, before)  # both kept, as sent a moment ago

    anna = await service.learner("anna", 1)
    application = await service.apply(anna)
    approval = f"/agency/applications/{application['id']}/approval"
    assert (await service.client.post(approval, headers=service.as_(*OFFICER))).status_code == 200
    listed, one = await _budgets(service)  # this process's approval: read afresh, with the other's reservation
    reserved = Decimal(before["reserved"]) + Decimal("100.00") + Decimal("500.00")
    assert listed == one and Decimal(listed["reserved"]) == reserved


async def test_the_kept_answers_are_the_documented_shapes(service: Service) -> None:
    listed = await service.client.get("/funding-projects")
    assert listed.headers["content-type"] == "application/json"
    projects = TypeAdapter(list[ProjectOut]).validate_json(listed.content)
    assert {p.code for p in projects} >= {"IMK", "VARAM"}
    one = await service.client.get("/funding-projects/IMK")
    assert ProjectOut.model_validate_json(one.content) == next(p for p in projects if p.code == "IMK")
    missing = await service.client.get("/funding-projects/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.text
