"""The agency's quality flags as a list: filtered by flag, sorted, paged, with how many match in all."""

from __future__ import annotations

import uuid

from .conftest import World
from .test_results_api import _agency, _answered
from .test_surveys_api import COMPLETE


async def test_quality_flags_are_filtered_sorted_and_paged(world: World) -> None:
    poor, poorer = uuid.uuid4(), uuid.uuid4()
    for i in range(10):
        await _answered(world, f"p{i}", COMPLETE | dict.fromkeys(("knowledge_skills", "teacher"), 2), programme_id=poor)
        await _answered(
            world, f"q{i}", COMPLETE | dict.fromkeys(("knowledge_skills", "teacher"), 1), programme_id=poorer
        )
    every = await world.client.get("/survey-results/quality-flags", headers=_agency(world))
    assert every.headers["X-Total-Count"] == "2" and len(every.json()) == 2  # without parameters: every one

    lowest = await world.client.get(
        "/survey-results/quality-flags", params={"sort": "rating", "limit": 1}, headers=_agency(world)
    )
    assert [f["programme_id"] for f in lowest.json()] == [str(poorer)] and lowest.headers["X-Total-Count"] == "2"
    rest = await world.client.get(
        "/survey-results/quality-flags", params={"sort": "rating", "limit": 1, "offset": 1}, headers=_agency(world)
    )
    assert [f["programme_id"] for f in rest.json()] == [str(poor)]

    dropout = await world.client.get(
        "/survey-results/quality-flags", params={"reason": "high_dropout"}, headers=_agency(world)
    )
    assert dropout.json() == [] and dropout.headers["X-Total-Count"] == "0"
    low = await world.client.get(
        "/survey-results/quality-flags", params={"reason": "low_rating"}, headers=_agency(world)
    )
    assert low.headers["X-Total-Count"] == "2"
    for wrong in ({"reason": "loud"}, {"sort": "price"}, {"limit": 0}):
        refused = await world.client.get("/survey-results/quality-flags", params=wrong, headers=_agency(world))
        assert refused.status_code == 422, wrong
