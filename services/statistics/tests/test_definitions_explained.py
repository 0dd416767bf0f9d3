"""What every figure counts is said in Latvian as well as in English, on `/definitions` and on the dashboard."""

from __future__ import annotations

from prasmes_statistics.domain.figures import DEFINITIONS, DEFINITIONS_LV

from .conftest import World


def test_every_figure_is_explained_in_latvian() -> None:
    assert set(DEFINITIONS_LV) == {d.code for d in DEFINITIONS}
    assert all(text.strip().endswith(".") for text in DEFINITIONS_LV.values())


async def test_the_definitions_and_the_dashboard_carry_both_explanations(world: World) -> None:
    listed = (await world.client.get("/definitions")).json()
    applicants = next(d for d in listed if d["code"] == "applicants")
    assert applicants["explanation"]["en"] == applicants["definition"]
    assert applicants["explanation"]["lv"].startswith("Dažādas personas")
    dashboard = (await world.client.get("/dashboard", headers=world.agency())).json()
    assert {d["code"]: d["explanation"] for d in dashboard["definitions"]} == {
        d["code"]: d["explanation"] for d in listed
    }
