"""The agency's list of a call's offers: each with its institution's name and evaluator, filtered by state, sorted,
paged; for agency staff only."""

from __future__ import annotations

from datetime import timedelta

from .conftest import NEW, NOW, World, riga

EVALUATION = riga(2025, 10, 13, 9, 0)


async def test_the_agency_lists_a_calls_offers_with_institution_and_evaluator_sorted_and_filtered(
    world: World,
) -> None:
    first = await world.start()
    await world.complete_offer(first)
    assert (await world.client.post(f"/offers/{first}/submit", headers=world.liga())).status_code == 200
    await world.institution(NEW, "karlis")
    world.clock.at = NOW + timedelta(minutes=5)  # started later: the list's default order is by start
    second = await world.start(world.svc.as_("karlis", "provider_admin"))
    path = f"/agency/calls/{world.call_id}/offers"

    listed = (await world.client.get(path, headers=world.officer())).json()
    assert [(o["id"], o["institution"], o["state"]) for o in listed["items"]] == [
        (first, "Iestāde 3360800001", "submitted"),
        (second, f"Iestāde {NEW}", "draft"),
    ]
    assert listed["total"] == 2 and listed["items"][0]["evaluator_id"] is None

    world.clock.at = EVALUATION
    body = {"evaluator_id": "ilze"}
    assert (await world.client.put(f"/offers/{first}/evaluator", json=body, headers=world.admin())).status_code == 200
    by_state = await world.client.get(path, params={"sort": "state"}, headers=world.admin())
    assert [(o["state"], o["evaluator_id"]) for o in by_state.json()["items"]] == [
        ("draft", None),
        ("under_evaluation", "ilze"),
    ]
    only = await world.client.get(path, params={"state": "under_evaluation", "limit": 1}, headers=world.admin())
    assert [o["id"] for o in only.json()["items"]] == [first] and only.json()["total"] == 1
    newest = await world.client.get(path, params={"sort": "-updated"}, headers=world.admin())
    assert [o["id"] for o in newest.json()["items"]] == [first, second]

    assert (await world.client.get(path, params={"sort": "name"}, headers=world.admin())).status_code == 422
    assert (await world.client.get(path, headers=world.liga())).status_code == 403
