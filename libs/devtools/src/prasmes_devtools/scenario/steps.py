"""What each person does, and what the setup makes, as requests through the gateway. Every step can be run again
for a person it has done (the state file lost it): it finds what the platform has and does only what is missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from prasmes_testing.support import personal_code

from prasmes_devtools import demo_catalog, devstack
from prasmes_devtools.scenario.driver import Api, NotYet, ScenarioError, current, patiently, rule
from prasmes_devtools.scenario.plan import (
    GROUP_CAPACITY,
    TERMS,
    Cohort,
    Decision,
    Plan,
    Season,
    Study,
    talak_budget,
)

ACCOUNTS = "/api/accounts"
OPEN_STATES = frozenset({"submitted", "approved", "enrolled", "studying"})
STUDYING_STATES = frozenset({"enrolled", "studying", "completed", "discontinued"})
TALAK_WINDOW_CLOSES = "2025-06-30T23:59:00+03:00"
"""TĀLĀK's window, closed (agency admin) after its applicants applied in June, so that it is allocated in September."""
OFFICER, ADMIN, PROVIDER = "ilze", "martins", "liga"
GROUP_LABEL = "Scenārija grupa"
"""How the scenario's groups are known again: their schedule starts with it, the season and their place."""
REJECTION = {"reason_code": "incomplete", "reason": "Pieteikumam trūka izglītības dokumenta kopijas."}


@dataclass(frozen=True)
class Application:
    id: str
    state: str


@dataclass
class World:
    """What the steps share: the client, the plan, what the setup made, IMK's learning needs once it has them."""

    api: Api
    plan: Plan
    made: dict[str, Any]
    needs: Mapping[str, Sequence[str]]


# --------------------------------------------------------------------------- the setup


def catalogue(gateway: str) -> dict[str, Any]:
    """Līga's institution and programme (catalog's demo data), published through calls' demonstration call: the
    one approved offer and signed agreement a programme needs, replayed on the call's own 2025 dates (so DEMO-2025
    and its learners' application period, 2-13 Jun 2025, exist). Blocking (a sync client, as the demo of `make run`)."""
    try:
        with httpx.Client(base_url=gateway, timeout=120) as client:
            ids = demo_catalog.seed_demo(client)
            devstack.replay_demonstration(client, ids["programme_id"])
            return ids
    except (httpx.HTTPError, RuntimeError, TimeoutError) as exc:  # e.g. slower than the demo waits, on a busy machine
        raise ScenarioError(f"the institution, its programme and the demonstration call: {exc!r}") from exc


async def programme_details(world: World) -> dict[str, Any]:
    institution, programme = world.made["institution_id"], world.made["programme_id"]
    found = await world.api.call("GET", f"/api/catalog/providers/{institution}/programmes/{programme}", PROVIDER)
    if found.status_code != 200:
        raise ScenarioError.of(found, "the programme")
    body: dict[str, Any] = found.json()
    return {"hours": body["total_hours"], "location_id": body["location_ids"][0]}


async def groups(world: World) -> dict[str, list[str]]:
    """The seasons' study groups (`Plan.groups` of each), scheduled by Līga unless they exist: season -> ids."""
    institution, programme = world.made["institution_id"], world.made["programme_id"]
    listed = await world.api.call("GET", f"/api/catalog/providers/{institution}/groups", PROVIDER)
    if listed.status_code != 200:
        raise ScenarioError.of(listed, "the institution's groups")
    existing = {g["schedule"]: g["id"] for g in listed.json()}
    made: dict[str, list[str]] = {}
    for season in Season:
        made[season.value] = []
        for place in range(world.plan.groups(season)):
            label = f"{GROUP_LABEL} {season.value} {place + 1}: pirmdienās un trešdienās 18:00–21:00"
            if label not in existing:
                existing[label] = await _schedule(world, institution, programme, season, label)
            made[season.value].append(existing[label])
    return made


async def _schedule(world: World, institution: str, programme: str, season: Season, label: str) -> str:
    term = TERMS[season]
    body = {
        "location_id": world.made["location_id"],
        "start_date": term.starts_on.isoformat(),
        "end_date": term.ends_on.isoformat(),
        "schedule": label,
        "capacity": GROUP_CAPACITY,
        "language": "lv",
        "entry_level": 3,
    }
    path = f"/api/catalog/providers/{institution}/programmes/{programme}/groups"
    made = await world.api.call("POST", path, PROVIDER, json=body)
    if made.status_code != 201:
        raise ScenarioError.of(made, f"scheduling {label}")
    group_id: str = made.json()["id"]
    return group_id


async def budgets(world: World) -> None:
    """Each project's budget holds the grants the plan makes (raised where it would not); TĀLĀK's is the seeded one
    scaled, and its window closes at the end of June."""
    listed = await world.api.call("GET", f"{ACCOUNTS}/funding-projects")
    if listed.status_code != 200:
        raise ScenarioError.of(listed, "the funding projects")
    projects = {p["code"]: p for p in listed.json()}
    for code, grants in world.plan.budgets().items():
        needed = Decimal(projects[code]["grant_per_person"]) * grants
        if Decimal(projects[code]["budget"]["budget"]) < needed:
            await _change_project(world, code, {"budget": str(needed)})
    talak = {"budget": str(talak_budget(world.plan.scale)), "window_closes_at": TALAK_WINDOW_CLOSES}
    await _change_project(world, "TALAK", talak)


async def _change_project(world: World, code: str, changes: dict[str, str]) -> None:
    changed = await world.api.call("PATCH", f"{ACCOUNTS}/funding-projects/{code}", ADMIN, json=changes)
    if changed.status_code != 200:
        raise ScenarioError.of(changed, f"changing {code}")


async def open_round_2(world: World) -> list[str]:
    """Calls opens its seeded fourth call (IMK-4, learning needs approved) unless it exists; once accounts has
    learned the call's needs from its events, their codes (what IMK's applications name from then on)."""
    seeded = await world.api.call("POST", "/api/calls/calls/seed", ADMIN)
    if seeded.status_code != 200:
        raise ScenarioError.of(seeded, "seeding IMK-4")

    async def needs() -> list[str]:
        project = await world.api.call("GET", f"{ACCOUNTS}/funding-projects/IMK")
        codes = [n["code"] for n in project.json()["learning_needs"]]
        if not codes:
            raise NotYet("accounts has not learned IMK-4's learning needs")
        return codes

    return await patiently(needs, "IMK's learning needs")


async def allocate(world: World) -> None:
    """TĀLĀK's closed window, ranked and granted while its budget lasts (once: a second time is a 409)."""
    done = await world.api.call("POST", f"{ACCOUNTS}/funding-projects/TALAK/allocation", ADMIN)
    if done.status_code not in (200, 409):
        raise ScenarioError.of(done, "allocating TALAK")


# --------------------------------------------------------------------------- a person's steps


async def open_account(world: World, person: int) -> None:
    opened = await world.api.call("POST", f"{ACCOUNTS}/accounts", person, json={"personal_code": personal_code(person)})
    if opened.status_code not in (201, 409):  # 409: the account is open already
        raise ScenarioError.of(opened, "opening an account")


async def applications(world: World, person: int, project: str) -> list[Application]:
    """The person's applications to the project, oldest first."""
    mine = await world.api.call("GET", f"{ACCOUNTS}/applications", person)
    if mine.status_code != 200:
        raise ScenarioError.of(mine, "a learner's applications")
    found = sorted((a for a in mine.json() if a["project_code"] == project), key=lambda a: a["submitted_at"])
    return [Application(a["id"], a["state"]) for a in found]


def _open(found: Sequence[Application]) -> Application | None:
    return next((a for a in found if a.state in OPEN_STATES), None)


async def apply(world: World, cohort: Cohort, person: int, resuming: bool) -> None:
    """The person applies and is decided as their cohort is; one who is rejected first applies again. A person
    whose step may have begun before (`resuming`), or whose path has a rejection (after which applying again makes
    a second application), is asked first what they have."""
    found = await applications(world, person, cohort.project) if resuming or cohort.rejects_first else []
    application = _open(found)
    if cohort.rejects_first and not any(a.state == "rejected" for a in found):
        await _reject(world, application or await _submit(world, cohort, person))
        application = None
    if cohort.decision is Decision.REJECTED:
        return
    application = application or await _submit(world, cohort, person)
    if cohort.decision in (Decision.GRANTED, Decision.REJECTED_THEN_GRANTED):
        await _approve(world, application)


async def _submit(world: World, cohort: Cohort, person: int) -> Application:
    body: dict[str, str] = {"project_code": cohort.project, "learning_need": "Digitālās prasmes darbam"}
    needs = world.needs.get(cohort.project)
    if needs:
        body["learning_need_code"] = needs[person % len(needs)]
    submitted = await world.api.call("POST", f"{ACCOUNTS}/applications", person, json=body)
    if submitted.status_code == 201:
        return Application(submitted.json()["id"], "submitted")
    if submitted.status_code == 409 and current(submitted).get("application_id"):  # already has an open one
        return Application(current(submitted)["application_id"], current(submitted)["state"])
    raise ScenarioError.of(submitted, f"applying to {cohort.project}")


async def _approve(world: World, application: Application) -> None:
    if application.state != "submitted":
        return
    path = f"{ACCOUNTS}/agency/applications/{application.id}/approval"
    approved = await world.api.call("POST", path, OFFICER)
    if approved.status_code == 200 or (approved.status_code == 409 and current(approved).get("state") != "submitted"):
        return
    raise ScenarioError.of(approved, "approving")  # e.g. the budget is exhausted


async def _reject(world: World, application: Application) -> None:
    if application.state != "submitted":
        raise ScenarioError(f"application {application.id} is {application.state}: the plan rejects it first")
    rejected = await world.api.call(
        "POST", f"{ACCOUNTS}/agency/applications/{application.id}/rejection", OFFICER, json=REJECTION
    )
    if rejected.status_code == 200 or (rejected.status_code == 409 and current(rejected).get("state") == "rejected"):
        return
    raise ScenarioError.of(rejected, "rejecting")


async def granted(world: World, project: str, person: int) -> bool:
    """Whether the person's (latest) application to the project is granted, whatever followed."""
    found = await applications(world, person, project)
    return bool(found) and found[-1].state in {"approved", *STUDYING_STATES}


async def study(world: World, what: Study) -> None:
    """Enrolment in the season's group, the start on its first day, and the end the plan gives (completion on the
    group's last day, or discontinuation), each recorded by Līga."""
    found = [a for a in await applications(world, what.person, what.project) if a.state != "rejected"]
    if not found:
        raise ScenarioError(f"person {what.person} has no granted application to {what.project}")
    application = found[-1]
    if application.state == "approved":
        enrolment = await _enrol(world, what, application)
    else:
        enrolment = await _enrolment_of(world, what.person, application)
    term = TERMS[what.season]
    if enrolment["state"] == "enrolled":
        enrolment = await _record(world, enrolment, "start", {"started_on": term.starts_on.isoformat()})
    if enrolment["state"] != "studying" or what.outcome is None:
        return
    if what.outcome == "completed":
        body: dict[str, Any] = {
            "completed_on": term.ends_on.isoformat(),
            "hours_attended": world.made["hours"],
            "result": "passed",
        }
        await _record(world, enrolment, "completion", body)
    else:
        await _record(world, enrolment, "discontinuation", {"discontinued_on": term.discontinued_on.isoformat()})


async def _enrol(world: World, what: Study, application: Application) -> dict[str, Any]:
    group = world.made["groups"][what.season.value][what.group]
    path = f"{ACCOUNTS}/applications/{application.id}/enrolment"
    enrolled = await world.api.call("POST", path, what.person, json={"group_id": group})
    if enrolled.status_code == 201:
        body: dict[str, Any] = enrolled.json()
        return body
    if enrolled.status_code == 422 and rule(enrolled) & {"scheduled_group", "published_programme"}:
        raise NotYet("accounts has not learned the study group or its programme from catalog's events")
    if enrolled.status_code == 409:  # enrolled meanwhile
        return await _enrolment_of(world, what.person, application)
    raise ScenarioError.of(enrolled, "enrolling")


async def _enrolment_of(world: World, person: int, application: Application) -> dict[str, Any]:
    history = await world.api.call("GET", f"{ACCOUNTS}/accounts/me/studies", person)
    if history.status_code != 200:
        raise ScenarioError.of(history, "a learner's studies")
    for item in history.json():
        if item["enrolment"]["application_id"] == application.id:
            enrolment: dict[str, Any] = item["enrolment"]
            return enrolment
    raise ScenarioError(f"application {application.id} is {application.state} but has no enrolment")


async def _record(world: World, enrolment: dict[str, Any], step: str, body: dict[str, Any]) -> dict[str, Any]:
    """Līga records a step of the study record; the enrolment as it then is."""
    path = f"{ACCOUNTS}/provider/enrolments/{enrolment['id']}/{step}"
    recorded = await world.api.call("POST", path, PROVIDER, json=body)
    if recorded.status_code == 200:
        changed: dict[str, Any] = recorded.json()
        return changed
    if recorded.status_code == 404:
        raise NotYet("accounts does not know Līga as a member of the institution yet")
    if recorded.status_code == 409:  # recorded before: the enrolment's state says how far it is
        return {**enrolment, "state": current(recorded).get("state", enrolment["state"])}
    raise ScenarioError.of(recorded, f"recording the {step}")


async def seed_answers(world: World) -> dict[str, list[dict[str, Any]]]:
    """Surveys' seed answers for the plan's answerers: the seed's stars and reasons, as many as there are."""
    params = {kind: str(n) for kind, n in world.plan.answers.items()}
    found = await world.api.call("GET", "/api/surveys/dev/seed-answers", ADMIN, params=params)
    if found.status_code != 200:
        raise ScenarioError.of(found, "the seed's survey answers")
    answers: dict[str, list[dict[str, Any]]] = found.json()
    return answers


async def answer(world: World, kind: str, person: int, answers: dict[str, Any]) -> None:
    """The person answers the survey surveys sent them when their studies ended."""
    mine = await world.api.call("GET", "/api/surveys/surveys/mine", person)
    if mine.status_code != 200:
        raise ScenarioError.of(mine, "a learner's surveys")
    survey = next((s for s in mine.json()["items"] if s["kind"] == kind), None)
    if survey is None:
        raise NotYet("surveys has not invited the learner yet")
    if survey["status"] == "submitted":
        return
    path = f"/api/surveys/surveys/{survey['id']}/submission"
    submitted = await world.api.call("POST", path, person, json={"answers": answers})
    if submitted.status_code == 200 or (
        submitted.status_code == 409 and current(submitted).get("status") == "submitted"
    ):
        return
    raise ScenarioError.of(submitted, "answering a survey")


# --------------------------------------------------------------------------- the dashboard


async def statistics_caught_up(world: World) -> bool:
    """Statistics' projection has read every record of its topics (its rebuild status, of the current generation)."""
    status = await world.api.call("GET", "/api/statistics/rebuilds/current", OFFICER)
    if status.status_code != 200:
        raise ScenarioError.of(status, "statistics' progress")
    return bool(status.json()["done"])


async def dashboard(world: World) -> dict[str, Any]:
    found = await world.api.call("GET", "/api/statistics/dashboard", OFFICER)
    if found.status_code != 200:
        raise ScenarioError.of(found, "the dashboard")
    body: dict[str, Any] = found.json()
    return body
