"""The agency's application list (filters, sorts, exports), the project ledger, and allocation runs decided in
batches in the background (SQLite and PostgreSQL)."""

import io
import uuid
from datetime import timedelta

from accounts.service.applications import run_allocations
from openpyxl import load_workbook
from prasmes_testing.support import eventually

from .conftest import Service

OFFICER = ("ilze", "agency_officer")
ADMIN = ("martins", "agency_admin")


async def _applicants(service: Service, names: list[tuple[str, str]], project: str = "IMK") -> list[str]:
    ids = []
    for n, (first, last) in enumerate(names):
        service.clock.at += timedelta(hours=1)
        headers = await service.learner(f"x{n}-{project}", 40 + n, first_name=first, last_name=last)
        ids.append(str((await service.apply(headers, project))["id"]))
    return ids


async def _list(service: Service, query: str) -> dict[str, object]:
    response = await service.client.get(f"/agency/applications?{query}", headers=service.as_(*OFFICER))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _names(page: dict[str, object]) -> list[str]:
    return [str(item["learner_name"]) for item in page["items"]]  # type: ignore[attr-defined]


async def test_the_list_sorts_by_name_and_time_and_filters_by_name_and_day(service: Service) -> None:
    ids = await _applicants(service, [("Anna", "Ozola"), ("Jānis", "Bērziņš"), ("Līga", "Kalniņa")])
    assert _names(await _list(service, "sort=name")) == ["Jānis Bērziņš", "Līga Kalniņa", "Anna Ozola"]
    assert _names(await _list(service, "sort=-name")) == ["Anna Ozola", "Līga Kalniņa", "Jānis Bērziņš"]
    newest = await _list(service, "sort=-submitted&limit=1")
    assert newest["total"] == 3 and _names(newest) == ["Līga Kalniņa"]
    found = await _list(service, "q=BĒRZ")
    assert (found["total"], _names(found)) == (1, ["Jānis Bērziņš"])
    assert (await _list(service, "q=100%"))["total"] == 0  # a wildcard is a character, not a pattern
    approval = await service.client.post(f"/agency/applications/{ids[2]}/approval", headers=service.as_(*OFFICER))
    assert approval.status_code == 200
    decided = await _list(service, "sort=-decided")
    assert _names(decided)[0] == "Līga Kalniņa"  # the decided first, the undecided after
    today = service.clock.at.date().isoformat()
    assert (await _list(service, f"submitted_from={today}&submitted_to={today}"))["total"] == 3
    tomorrow = (service.clock.at + timedelta(days=1)).date().isoformat()
    assert (await _list(service, f"submitted_from={tomorrow}"))["total"] == 0


async def test_bad_filters_are_422_naming_the_field(service: Service) -> None:
    officer = service.as_(*OFFICER)
    for query, field in (
        ("sort=cost", "sort"),
        ("submitted_from=2026-12-02&submitted_to=2026-12-01", "submitted_to"),
        ("project_code=NOPE", "project_code"),
    ):
        response = await service.client.get(f"/agency/applications?{query}", headers=officer)
        assert response.status_code == 422, query
        assert response.json()["errors"][0]["field"] == field, query


async def test_the_list_exports_as_xlsx_with_the_same_filters(service: Service) -> None:
    await _applicants(service, [("Anna", "Ozola"), ("Jānis", "Bērziņš")])
    response = await service.client.get("/agency/applications.xlsx?q=anna", headers=service.as_(*OFFICER))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[0][0] == "application_id" and rows[1][5:7] == ("Anna", "Ozola")
    learner = await service.client.get("/agency/applications.xlsx", headers=service.as_("anna"))
    assert learner.status_code == 403


async def test_the_project_ledger_pages_its_entries_with_their_sums(service: Service) -> None:
    ids = await _applicants(service, [("Anna", "Ozola"), ("Jānis", "Bērziņš")])
    for application_id in ids:
        await service.client.post(f"/agency/applications/{application_id}/approval", headers=service.as_(*OFFICER))
    page = (await service.client.get("/funding-projects/IMK/ledger?limit=1", headers=service.as_(*OFFICER))).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["sums"] == {"reserve": "1000.00", "spend": "0.00", "release": "0.00"}
    assert page["items"][0]["application_id"] == ids[1]  # the newest first
    assert (await service.client.get("/funding-projects/IMK/ledger", headers=service.as_("anna"))).status_code == 403
    assert (await service.client.get("/funding-projects/NOPE/ledger", headers=service.as_(*OFFICER))).status_code == 404


async def _closed_rank_project(service: Service, applicants: int, budget: str = "1500.00") -> list[str]:
    await service.project("RANK", budget, mode="window_then_rank")
    ids = await _applicants(service, [(f"L{n}", "Ranka") for n in range(applicants)], "RANK")
    service.clock.at += timedelta(days=11)
    return ids


async def test_an_allocation_runs_in_the_background_and_shows_its_progress_then_result(service: Service) -> None:
    await _closed_rank_project(service, 6)
    admin = service.as_(*ADMIN)
    started = await service.client.post("/funding-projects/RANK/allocations", headers=admin)
    assert started.status_code == 202, started.text
    run = started.json()
    assert (run["total"], run["project_code"]) == (6, "RANK") and len(run["rules"]) == 5
    project = (await service.client.get("/funding-projects/RANK")).json()
    assert project["lottery_seed"] == run["seed"]  # drawn and recorded at once
    path = f"/funding-projects/RANK/allocations/{run['id']}"

    async def done() -> bool:
        return bool((await service.client.get(path, headers=service.as_(*OFFICER))).json()["done"])

    await eventually(done, timeout=20, interval=0.1)
    result = (await service.client.get(path, headers=service.as_(*OFFICER))).json()
    assert (result["ranked"], result["approved"], result["rejected"]) == (6, 3, 3)
    assert (await service.client.get("/funding-projects/RANK")).json()["budget"]["available"] == "0.00"
    current = (await service.client.get("/funding-projects/RANK/allocation-run", headers=admin)).json()
    assert current["id"] == run["id"]
    unknown = await service.client.get(f"/funding-projects/RANK/allocations/{uuid.uuid4()}", headers=admin)
    assert unknown.status_code == 404


async def test_a_second_allocation_of_the_window_is_409_with_the_current_run(service: Service) -> None:
    await _closed_rank_project(service, 2)
    admin = service.as_(*ADMIN)
    first = (await service.client.post("/funding-projects/RANK/allocations", headers=admin)).json()
    again = await service.client.post("/funding-projects/RANK/allocations", headers=admin)
    assert again.status_code == 409
    assert again.json()["current"]["allocation_id"] == first["id"] and again.json()["current"]["seed"] == first["seed"]
    at_once = await service.client.post("/funding-projects/RANK/allocation", headers=admin)
    assert at_once.status_code == 409  # nor by the synchronous route


async def test_only_an_admin_starts_an_allocation_and_only_of_a_closed_window(service: Service) -> None:
    await service.project("RANK", "1500.00", mode="window_then_rank")
    officer = await service.client.post("/funding-projects/RANK/allocations", headers=service.as_(*OFFICER))
    assert officer.status_code == 403
    open_window = await service.client.post("/funding-projects/RANK/allocations", headers=service.as_(*ADMIN))
    assert open_window.status_code == 409
    first_come = await service.client.post("/funding-projects/IMK/allocations", headers=service.as_(*ADMIN))
    assert first_come.status_code == 409
    unknown = await service.client.post("/funding-projects/NOPE/allocations", headers=service.as_(*ADMIN))
    assert unknown.status_code == 404


async def test_batches_decide_in_rank_order_as_one_allocation_would(service: Service) -> None:
    ids = await _closed_rank_project(service, 7, budget="2000.00")
    run = (await service.client.post("/funding-projects/RANK/allocations", headers=service.as_(*ADMIN))).json()
    await run_allocations(service.database, service.clock, batch=2)  # beside the service's own runner: never twice
    path = f"/funding-projects/RANK/allocations/{run['id']}"

    async def done() -> bool:
        return bool((await service.client.get(path, headers=service.as_(*OFFICER))).json()["done"])

    await eventually(done, timeout=20, interval=0.1)
    result = (await service.client.get(path, headers=service.as_(*OFFICER))).json()
    assert (result["ranked"], result["approved"], result["rejected"], result["total"]) == (7, 4, 3, 7)
    states = [
        (await service.client.get(f"/agency/applications/{i}", headers=service.as_(*OFFICER))).json()["state"]
        for i in ids
    ]
    assert sorted(states) == ["approved"] * 4 + ["rejected"] * 3
    ledger = (await service.client.get("/funding-projects/RANK/ledger", headers=service.as_(*OFFICER))).json()
    assert ledger["total"] == 4 and ledger["sums"]["reserve"] == "2000.00"
