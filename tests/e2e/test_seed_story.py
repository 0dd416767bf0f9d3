"""The seed's story end to end (issue #13, item 5): the fourth call from its opening to the programmes in the public
catalogue, ten learners from their accounts to a completed programme and its survey, the public rating, the
dashboard, and every notice of it in its recipient's inbox and mailbox.

Every service runs as a process behind the gateway, on Kafka and PostgreSQL (one process per service, of role `all`:
its api, outbox relay, consumers and jobs; half the processes of the api/worker split that test_fourth_call and
test_learner_path run, and on two cores about twice as fast), driven over real HTTP with real tokens: the development
users' (the gateway's dev login) and, for the eight learners beyond Anna and Jānis, tokens the stack's identity key
signs. notifications mails to a real SMTP server (aiosmtpd on 127.0.0.1) and asks the gateway's directory for the
addresses.

The clocks. IMK-4's timeline lies in 2025: calls runs on a clock set by configuration (`CLOCK_START`), in the offer
window, then restarted alone into the evaluation period and into the decision phase (story_support). Every other
service stays on real time, so the learners' part happens today: the group starts today (catalog schedules no group
in the past), its start and completion are recorded today (accounts records nothing ahead), and the agreement runs
past today (IMK-4's own delivery period ended on 30 Apr 2026, and a group must end within its agreement). For the
same reason the learners' applications lie outside IMK-4's learners' application period (10-19 Sep 2025): the
dashboard counts them in the project's round "" (outside any call's period).

The story. Mārtiņš opens the call (calls' seed). Līga registers the Rīgas Datorikas mācību centrs, which Ilze sees
waiting and approves the same day, within the working day it is due by; Līga registers its three licensed programmes.
Criterion I4 counts the programmes the platform saw delivered: that past (two groups of ten completers in 2024) is
outside the platform's story and is put on the bus by hand, as accounts published it. Līga's offer fails one check
(P-2001's hours split), is fixed and submitted; after the deadline Ilze evaluates it, Mārtiņš approves it, makes and
signs the agreement, and the three programmes are public. Līga schedules a group of P-2001 (Cyber security basics,
240.00 EUR). Ten learners open their accounts and apply to IMK for IMK-4's approved learning need IMK4-CYBER; Ilze
grants each 500.00 EUR; they enrol in the group, Līga records their start and completion (240.00 EUR spent, 260.00
released), and each answers the completion survey the notice leads to. Until the tenth answer the catalogue shows no
rating; after it, the rating with its ten raters. The dashboard moves by exactly what the story did (read against
the figures before it began: a broker shared with other tests may hold their events), the public summary likewise.
Every notice the platform sends on this path is in its recipient's inbox, has its mail, and every mail whose
recipient the directory knows reached the SMTP server, to the directory's address, in the recipient's language.

The notices on this path (services/notifications/README.md): to Ilze, as every agency officer, `registration_waiting`
and, as the offer's evaluator, `offer_assigned`; to Līga, the institution's administrator, `provider_approved`,
`offer_received`, `offer_approved`, `agreement_signed` and a `programme_published` per programme; to each learner
`welcome`, `application_submitted`, `application_approved`, `enrolment_confirmed`, `grant_spent`, `grant_released`
and `survey_invited`; to Mārtiņš none. The directory knows the development users only (no store of its own yet), so
the eight other learners' mails are refused for want of an address: they are checked as written, not as delivered.
"""

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from gateway.identity import DEV_USERS
from prasmes_contracts.accounts import ApplicationSubmitted, ApplicationSubmittedV2, StudiesCompleted, StudiesStarted
from prasmes_devtools.devstack import Stack
from prasmes_runtime.workdays import next_working_day
from prasmes_testing.events import events_on
from prasmes_testing.smtp import MailServer
from prasmes_testing.support import personal_code
from prasmes_testing.waiting import processes_alive, until

from tests.e2e import story_support as story
from tests.e2e.leak_check import stack_bus
from tests.e2e.story_support import (
    CALLS,
    CATALOG,
    COMPLETERS_BEFORE,
    DECISION,
    DELIVERED_BEFORE,
    EVALUATION,
    INSTITUTION_NAME,
    OFFER_WINDOW,
    RIGA,
    Users,
    login,
    ok,
)

pytestmark = pytest.mark.e2e
SERVICES = ("gateway", "accounts", "catalog", "calls", "surveys", "notifications", "statistics")
STARTUP = 180
"""Seconds for a service to be ready: seven processes start at once, on two cores that other work shares."""
WAIT = 90
"""Seconds for an event to take effect in another service (a consumer that has just started may take a while to be
given its partitions on a loaded machine): an upper bound, never a pause."""
ACCOUNTS, NOTIFICATIONS, SURVEYS, STATISTICS = "/api/accounts", "/api/notifications", "/api/surveys", "/api/statistics"
TODAY = datetime.now(UTC).astimezone(RIGA).date()
GROUP_ENDS = TODAY + timedelta(days=60)
AGREEMENT = {"number": "IMK-4/2025/001", "valid_from": "2025-11-10", "valid_until": f"{TODAY + timedelta(days=365)}"}
"""From IMK-4's agreements phase until after the group's last day (the call lets it run past its delivery end)."""
STUDIED = "P-2001"
"""Cyber security basics: 120 h at 2.00 EUR/h (1.56 x 1.28, ICT), the programme whose check failed and was fixed."""
COST, GRANT = Decimal("240.00"), Decimal("500.00")
NEED = "IMK4-CYBER"
"""IMK-4's approved learning need the learners apply for (calls/data/calls.json)."""
WORDS = "Gribu prast aizsargāt sava uzņēmuma datus"
DEV_LEARNERS = ("anna", "janis")
"""The directory's learners (it knows the development users only): the other eight have minted tokens."""
LEARNERS = 10
ASPECTS = ("knowledge_skills", "content_quality", "teacher", "learning_process")
STARS = [dict(zip(ASPECTS, (5, 4, 5, 4), strict=True))] * 6 + [dict(zip(ASPECTS, (4, 5, 4, 4), strict=True))] * 4
"""Each learner's stars, in order: no programme quality flag (a mean of 4.4, every description as described)."""
CHECKS = {"description_matched": True, "prior_knowledge_right": True, "equipment_right": True}
TENTH = Decimal("0.1")
NO_ADDRESS = "the recipient has no e-mail address in the directory"


@dataclass
class Person:
    """Someone of the story: their headers and subject; `username` for the development users, whose address and
    language the directory knows."""

    headers: dict[str, str]
    subject: str
    username: str | None = None
    application_id: str = ""
    enrolment_id: str = ""
    survey_id: str = ""
    expected: list[tuple[str, str | None]] = field(default_factory=list)
    """The notices they must have: kind and the id of what it is about (none for a notice about nothing to open)."""

    @property
    def language(self) -> str:
        assert self.username is not None
        return DEV_USERS[self.username].language


@pytest.fixture(scope="module")
def mail_server() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mail_server: MailServer
) -> Iterator[Stack]:
    service_env = {
        "calls": {"CLOCK_START": OFFER_WINDOW.isoformat()},
        "notifications": {"SMTP_HOST": mail_server.host, "SMTP_PORT": str(mail_server.port)},
    }
    var_dir = tmp_path_factory.mktemp("seed-story")
    running = story.running_stack(request, var_dir, "kafka", SERVICES, "seed", service_env, STARTUP, split_roles=False)
    with running as stack:
        yield stack


async def test_the_seed_story_end_to_end(stack: Stack, mail_server: MailServer) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        (liga, liga_id), (ilze, ilze_id), (martins, martins_id) = [
            await login(client, u) for u in ("liga", "ilze", "martins")
        ]
        users = Users(liga, ilze, ilze_id, martins)
        staff = [Person(liga, liga_id, "liga"), Person(ilze, ilze_id, "ilze"), Person(martins, martins_id, "martins")]
        learners = await _learners(stack, client)
        before = await _before(stack, client, ilze, learners)

        # The agency opens the fourth call; an institution registers and is approved within a working day.
        (call,) = ok(await client.post(f"{CALLS}/calls/seed", headers=martins))
        assert (call["code"], call["phase"]) == ("IMK-4", "offers")  # calls' clock is in IMK-4's offer window
        institution_id, location_id = await _registered_and_approved(stack, client, users, staff[1])
        # Its offer of three programmes: one fails the checks and is fixed; evaluated, approved, signed, published.
        programmes = await story.programmes(client, liga, institution_id, location_id)
        await story.publish_history(stack, institution_id, programmes)
        offer_id = await story.offer_checked_fixed_and_submitted(stack, client, users, call["id"], programmes)
        story.restart_calls(stack, EVALUATION, STARTUP)
        await story.late_and_evaluated(client, users, offer_id)
        story.restart_calls(stack, DECISION, STARTUP)
        await story.approved_and_signed(client, users, offer_id, programmes, AGREEMENT)
        public = await story.public(stack, client, programmes)
        assert {public[p["id"]]["rating"]["raters"] for p in programmes.values()} == {0}
        staff[0].expected += [
            ("provider_approved", institution_id),
            *((kind, offer_id) for kind in ("offer_received", "offer_approved", "agreement_signed")),
            *(("programme_published", p["id"]) for p in programmes.values()),
        ]
        staff[1].expected += [("registration_waiting", institution_id), ("offer_assigned", offer_id)]

        # Ten learners: account, application, 500 EUR, a place in the group, start, completion, the survey.
        programme_id = programmes[STUDIED]["id"]
        group_id = await _group(client, liga, institution_id, location_id, programme_id)
        await _granted(stack, client, ilze, learners)
        await _enrolled(stack, client, learners, group_id)
        await _studied(stack, client, liga, learners)
        # After ten completers the rating appears in the public catalogue.
        await _rated_after_ten(stack, client, ilze, learners, programme_id)
        page = ok(await client.get(f"{CATALOG}/public/programmes/{programme_id}"))
        (group,) = page["groups"]
        assert (group["id"], group["capacity"], group["free_places"]) == (group_id, 12, 12 - LEARNERS)
        # the group's ten and 2024's ten (a completion counts as a start too: catalog never undoes a step)
        ended = LEARNERS + COMPLETERS_BEFORE
        outcomes = {"started": ended, "completed": ended, "discontinued": 0, "completion_rate": "100.0"}
        assert page["outcomes"] == {**outcomes, "dropout_rate": "0.0"}, page["outcomes"]

        # The dashboard counts all of it; every notice reached its recipient, in the app and by e-mail.
        await _dashboard_counts_it(stack, client, ilze, before)
        people = [*staff, *learners]
        notices = await _in_the_inboxes(stack, client, people)
        await _mailed(stack, client, martins, mail_server, people, notices)


async def _registered_and_approved(
    stack: Stack, client: httpx.AsyncClient, users: Users, officer: Person
) -> tuple[str, str]:
    """Līga registers; the registration is due by the end of the next Latvian working day, and Ilze, told of it in
    her inbox with that day, approves it the same day: within the working day."""
    registration = await story.register(client, users.liga)
    institution_id: str = registration["id"]
    registered_on = datetime.fromisoformat(registration["registered_at"]).astimezone(RIGA).date()
    due = next_working_day(registered_on)
    assert (registration["status"], registration["decision_due_on"], registration["overdue"]) == (
        "pending",
        due.isoformat(),
        False,
    )
    (waiting,) = await _notices_until(stack, client, officer, "registration_waiting", institution_id)
    assert INSTITUTION_NAME in waiting["body"]["lv"] and f"{due:%d.%m.%Y}." in waiting["body"]["lv"]
    approved, location_id = await story.approve_and_locate(client, users.liga, users.ilze, institution_id)
    assert approved["status"] == "approved" and not approved["overdue"]
    assert datetime.fromisoformat(approved["decided_at"]).astimezone(RIGA).date() <= due
    overdue = ok(await client.get(f"{CATALOG}/providers", params={"overdue": "true"}, headers=users.ilze))
    assert institution_id not in {p["id"] for p in overdue}
    return institution_id, location_id


async def _group(
    client: httpx.AsyncClient, liga: dict[str, str], institution_id: str, location_id: str, programme_id: str
) -> str:
    """Līga schedules a group of the public programme: from today (catalog's today) for two months, 12 places."""
    form = {
        "location_id": location_id,
        "start_date": TODAY.isoformat(),
        "end_date": GROUP_ENDS.isoformat(),
        "schedule": "Otrdienās un ceturtdienās 18:00–21:00",
        "capacity": 12,
        "language": "lv",
        "entry_level": 3,
    }
    path = f"{CATALOG}/providers/{institution_id}/programmes/{programme_id}/groups"
    group_id: str = ok(await client.post(path, json=form, headers=liga), 201)["id"]
    return group_id


async def _learners(stack: Stack, client: httpx.AsyncClient) -> list[Person]:
    """Anna and Jānis (dev login) and eight more learners, with tokens signed by the stack's identity key."""
    learners = [Person(*(await login(client, name)), name) for name in DEV_LEARNERS]
    issuer = stack.token_issuer()
    for _ in range(LEARNERS - len(learners)):
        subject = str(uuid.uuid4())
        learners.append(Person({"Authorization": f"Bearer {issuer.issue(subject, ['learner'])}"}, subject))
    return learners


async def _granted(stack: Stack, client: httpx.AsyncClient, ilze: dict[str, str], learners: list[Person]) -> None:
    """Once accounts lists IMK-4's approved needs for IMK (calls' LearningNeedsApproved): each learner opens an
    account and applies for IMK4-CYBER, and Ilze approves: 500.00 EUR reserved."""

    async def need_listed() -> bool:
        project = ok(await client.get(f"{ACCOUNTS}/funding-projects/IMK"))
        return NEED in {n["code"] for n in project["learning_needs"]}

    await until(need_listed, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes), what="IMK4-CYBER")
    for n, learner in enumerate(learners):
        code = personal_code(72_000 + n)
        ok(await client.post(f"{ACCOUNTS}/accounts", json={"personal_code": code}, headers=learner.headers), 201)
        application = {"project_code": "IMK", "learning_need_code": NEED, "learning_need": WORDS}
        applied = ok(await client.post(f"{ACCOUNTS}/applications", json=application, headers=learner.headers), 201)
        assert (applied["state"], applied["learning_need_code"]) == ("submitted", NEED)
        learner.application_id = applied["id"]
        approval = f"{ACCOUNTS}/agency/applications/{learner.application_id}/approval"
        assert ok(await client.post(approval, headers=ilze))["state"] == "approved"
        grant = ok(await client.get(f"{ACCOUNTS}/accounts/me/grant", headers=learner.headers))
        assert (Decimal(grant["reserved"]), Decimal(grant["available"])) == (GRANT, GRANT)


async def _enrolled(stack: Stack, client: httpx.AsyncClient, learners: list[Person], group_id: str) -> None:
    """Each takes a place in the group, once accounts knows it (catalog's GroupScheduled)."""
    for learner in learners:
        path = f"{ACCOUNTS}/applications/{learner.application_id}/enrolment"

        async def enrolled(path: str = path, learner: Person = learner) -> bool:
            response = await client.post(path, json={"group_id": group_id}, headers=learner.headers)
            if response.status_code == 201:
                learner.enrolment_id = response.json()["id"]
            return response.status_code == 201

        await until(enrolled, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes), what="enrolled")


async def _studied(stack: Stack, client: httpx.AsyncClient, liga: dict[str, str], learners: list[Person]) -> None:
    """Līga records each learner's start and completion today: the cost spent from the grant, the rest released."""
    listed = ok(await client.get(f"{ACCOUNTS}/provider/enrolments", params={"limit": 50}, headers=liga))
    assert {e["id"] for e in listed["items"]} == {learner.enrolment_id for learner in learners}
    for learner in learners:
        path = f"{ACCOUNTS}/provider/enrolments/{learner.enrolment_id}"
        ok(await client.post(f"{path}/start", json={"started_on": TODAY.isoformat()}, headers=liga))
        completion = {"completed_on": TODAY.isoformat(), "hours_attended": 120, "result": "passed"}
        assert ok(await client.post(f"{path}/completion", json=completion, headers=liga))["state"] == "completed"
        grant = ok(await client.get(f"{ACCOUNTS}/accounts/me/grant", headers=learner.headers))
        assert [Decimal(grant[k]) for k in ("spent", "released", "available")] == [COST, GRANT - COST, 0]
        learner.expected += [
            ("welcome", None),
            ("application_submitted", learner.application_id),
            ("application_approved", None),
            ("enrolment_confirmed", learner.application_id),
            ("grant_spent", None),
            ("grant_released", None),
        ]


async def _rated_after_ten(
    stack: Stack, client: httpx.AsyncClient, ilze: dict[str, str], learners: list[Person], programme_id: str
) -> None:
    """Each learner follows the survey's notice and answers it. With nine answers counted the public catalogue shows
    no rating; the tenth makes it public, with its ten raters."""
    results = f"{SURVEYS}/survey-results/programmes/{programme_id}"
    programme_page = f"{CATALOG}/public/programmes/{programme_id}"
    for n, (learner, stars) in enumerate(zip(learners, STARS, strict=True), start=1):
        (notice,) = await _notices_until(stack, client, learner, "survey_invited")
        reference = notice["reference"]
        assert reference["type"] == "survey" and reference["path"] == f"/surveys/{reference['id']}"
        learner.survey_id = reference["id"]
        learner.expected.append(("survey_invited", learner.survey_id))
        url = f"{SURVEYS}{reference['path']}"
        survey = ok(await client.get(url, headers=learner.headers))
        assert (survey["kind"], survey["programme_id"], survey["status"]) == ("completion", programme_id, "open")
        answers = {**stars, **CHECKS, "digcomp_after": 5}
        ok(await client.post(f"{url}/submission", json={"answers": answers}, headers=learner.headers))
        if n == LEARNERS - 1:

            async def nine_counted() -> bool:
                answered: int = ok(await client.get(results, headers=ilze))["answered"]["completion"]
                return answered == LEARNERS - 1

            await until(nine_counted, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes))
            unrated = ok(await client.get(programme_page))["rating"]
            assert unrated == {"raters": 0, "shown": False, "averages": None, "overall": None}, unrated

    rating: dict[str, Any] = {}

    async def rated() -> bool:
        rating.update(ok(await client.get(programme_page))["rating"])
        return bool(rating["raters"])

    await until(rated, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes), what="the public rating")
    means = {a: Decimal(sum(s[a] for s in STARS)) / LEARNERS for a in ASPECTS}
    overall = _tenth(sum(means.values(), Decimal(0)) / len(ASPECTS))  # of the exact means: 4.4
    assert (rating["raters"], rating["shown"]) == (LEARNERS, True)
    assert {a: Decimal(v) for a, v in rating["averages"].items()} == {a: _tenth(m) for a, m in means.items()}
    assert Decimal(rating["overall"]) == overall


def _tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


async def _notices_until(
    stack: Stack, client: httpx.AsyncClient, person: Person, kind: str, about: str | None = None
) -> list[dict[str, Any]]:
    """The person's notices of a kind (about one thing, when given), once there is one."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        found[:] = [
            n
            for n in await _inbox(client, person)
            if n["kind"] == kind and (about is None or (n["reference"] or {}).get("id") == about)
        ]
        return bool(found)

    await until(arrived, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes), what=f"a {kind} notice")
    return found


async def _inbox(client: httpx.AsyncClient, person: Person) -> list[dict[str, Any]]:
    page = ok(await client.get(f"{NOTIFICATIONS}/notifications", params={"limit": 200}, headers=person.headers))
    assert page["total"] <= 200, page["total"]
    items: list[dict[str, Any]] = page["items"]
    return items


# --------------------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Figures:
    dashboard: dict[str, Any]
    summary: dict[str, int]

    def project(self, code: str) -> dict[str, Any]:
        return next((p for p in self.dashboard["projects"] if p["project_code"] == code), {"figures": {}, "rounds": {}})

    def call(self, code: str) -> dict[str, Any]:
        return next((c for c in self.dashboard["calls"] if c["code"] == code), {"figures": {}, "phase": None})


async def _figures(client: httpx.AsyncClient, ilze: dict[str, str]) -> Figures:
    dashboard = ok(await client.get(f"{STATISTICS}/dashboard", headers=ilze))
    summary = ok(await client.get(f"{STATISTICS}/summary"))  # anyone: no token
    return Figures(dashboard, summary["figures"])


async def _settled_figures(stack: Stack, client: httpx.AsyncClient, ilze: dict[str, str]) -> Figures:
    """The figures once statistics has read every record on its topics (its rebuild status: done)."""

    async def read_everything() -> bool:
        return bool(ok(await client.get(f"{STATISTICS}/rebuilds/current", headers=ilze))["done"])

    await until(read_everything, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes))
    return await _figures(client, ilze)


def _moved(after: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Decimal]:
    return {k: Decimal(str(v)) - Decimal(str(before.get(k, 0))) for k, v in after.items()}


def _stars(surveys: Mapping[str, Any]) -> dict[str, dict[int, int]]:
    return {a: {int(s): n for s, n in by_stars.items()} for a, by_stars in surveys["stars"].items()}


@dataclass(frozen=True)
class Before:
    """The figures before the story, and how many of its ten learners each person figure will count anew: on a
    broker shared with other tests' stacks, statistics (a new consumer group, reading every topic from its start)
    may have counted a development learner's earlier application, start or completion there, and a person counts
    once. On a broker of its own: all ten."""

    figures: Figures
    anew: dict[str, int]


async def _before(stack: Stack, client: httpx.AsyncClient, ilze: dict[str, str], learners: list[Person]) -> Before:
    figures = await _settled_figures(stack, client, ilze)
    bus = stack_bus(stack)
    applied = {ApplicationSubmitted.event_type(), ApplicationSubmittedV2.event_type()}
    seen: dict[str, set[str]] = {"applicants": set(), "started": set(), "completed": set()}
    for event in await events_on(bus, "accounts.applications"):
        if event.type in applied and event.data["project_code"] == "IMK":
            seen["applicants"].add(event.data["learner_id"])
    for event in await events_on(bus, "accounts.studies"):
        for figure, kind in (("started", StudiesStarted), ("completed", StudiesCompleted)):
            if event.type == kind.event_type() and event.data["project_code"] == "IMK":
                seen[figure].add(event.data["learner_id"])
    subjects = {learner.subject for learner in learners}
    return Before(figures, {figure: len(subjects - counted) for figure, counted in seen.items()})


async def _dashboard_counts_it(stack: Stack, client: httpx.AsyncClient, ilze: dict[str, str], before: Before) -> None:
    """Figure by figure, what the story did: ten accounts, applicants and grants, ten starts and completions (and
    the twenty completers of 2024 put on the bus for I4), 10 x 500.00 EUR reserved, 10 x 240.00 spent and the rest
    released, IMK-4's offer submitted and approved, ten completion answers; the public summary likewise."""
    then, anew = before.figures, before.anew
    history = len(DELIVERED_BEFORE) * COMPLETERS_BEFORE
    summary_moved = {
        "accounts_opened": LEARNERS,
        "applications": anew["applicants"],
        "granted": LEARNERS,
        "started": anew["started"],
        "discontinued": 0,
        "completed": anew["completed"] + history,
        "survey_answers": LEARNERS,
    }
    after: list[Figures] = []

    async def counted() -> bool:
        after[:] = [await _settled_figures(stack, client, ilze)]
        return _moved(after[0].summary, then.summary) == summary_moved

    try:
        await until(counted, timeout=WAIT, interval=1, healthy=processes_alive(stack.processes), what="the figures")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {_moved(after[0].summary, then.summary)} != {summary_moved}") from exc
    now = after[0]
    assert now.dashboard["accounts_opened"] - then.dashboard["accounts_opened"] == LEARNERS
    assert now.dashboard["applications_total"] - then.dashboard["applications_total"] == anew["applicants"]

    imk, imk_before = now.project("IMK"), then.project("IMK")
    assert _moved(imk["figures"], imk_before["figures"]) == {
        "applicants": anew["applicants"],
        "applications_submitted": LEARNERS,
        "granted": LEARNERS,
        "rejected": 0,
        "withdrawn": 0,
        "lapsed": 0,
        "pending": 0,
        "started": anew["started"],
        "discontinued": 0,
        "completed": anew["completed"] + history,
        "reserved": LEARNERS * GRANT,
        "released": LEARNERS * (GRANT - COST),
        "spent": LEARNERS * COST,
        "outstanding": 0,
    }
    rounds = {r: _moved(figures, imk_before["rounds"].get(r, {})) for r, figures in imk["rounds"].items()}
    assert {r: moved for r, moved in rounds.items() if any(moved.values())} == {  # applied today: outside IMK-4's
        "": {
            "applicants": anew["applicants"],
            "granted": LEARNERS,
            "started": anew["started"],
            "completed": anew["completed"],  # the 2024 completers have no application here: in no round
        }
    }

    imk4 = now.call("IMK-4")
    assert imk4["project_code"] == "IMK"
    # calls' clock is past 10 Nov 2025: decision, agreements and delivery began then, announced at one instant
    assert imk4["phase"] == "delivery", f"statistics reads the phase {imk4['phase']!r} of the phases of that instant"
    assert _moved(imk4["figures"], then.call("IMK-4")["figures"]) == {
        "offers_submitted": 1,
        "offers_withdrawn": 0,
        "offers_approved": 1,
        "offers_rejected": 0,
    }

    completers = {  # who completed by now, whom the response rates are of: all, and IMK's
        "": then.summary["completed"] + summary_moved["completed"],
        "IMK": imk["figures"]["completed"],
    }
    _check_surveys(now.dashboard["surveys"], then.dashboard["surveys"], completers[""])
    imk_surveys = then.dashboard["surveys_by_project"].get("IMK")
    _check_surveys(now.dashboard["surveys_by_project"]["IMK"], imk_surveys, completers["IMK"])


def _check_surveys(surveys: Mapping[str, Any], earlier: Mapping[str, Any] | None, completers: int) -> None:
    """Ten completion answers more; the response rate over everyone who completed (the 2024 completers too, who
    were invited when their completions reached surveys, and did not answer); the stars and their means with the
    ten learners' ones; no discontinuation reason."""
    earlier = earlier or {"answers": {}, "stars": {}, "reasons": {}}
    assert _moved(surveys["answers"], earlier["answers"]) == {"completion": LEARNERS, "discontinuation": 0}
    answered = surveys["answers"]["completion"]
    assert Decimal(surveys["response_rate"]["completion"]) == _tenth(Decimal(100 * answered) / completers)
    stars = _stars(earlier)
    for given in STARS:
        for aspect, n in given.items():
            stars.setdefault(aspect, {})[n] = stars.get(aspect, {}).get(n, 0) + 1
    assert _stars(surveys) == stars
    means = {a: _tenth(Decimal(sum(s * n for s, n in d.items())) / sum(d.values())) for a, d in stars.items()}
    assert {a: Decimal(m) for a, m in surveys["mean_rating"].items()} == means
    assert surveys["reasons"] == earlier["reasons"]


# --------------------------------------------------------------------------- the notices


async def _in_the_inboxes(
    stack: Stack, client: httpx.AsyncClient, people: Sequence[Person]
) -> dict[str, list[dict[str, Any]]]:
    """Each person's inbox holds exactly the notices of the story, each about what it should be: by subject."""
    inboxes: dict[str, list[dict[str, Any]]] = {}

    def kinds(notices: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        return sorted((n["kind"], (n["reference"] or {}).get("id")) for n in notices)

    async def all_there() -> bool:
        for person in people:
            inboxes[person.subject] = await _inbox(client, person)
        return all(kinds(inboxes[p.subject]) == sorted(p.expected) for p in people)

    try:
        await until(all_there, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes), what="notices")
    except AssertionError as exc:
        wrong = {p.username or p.subject: kinds(inboxes[p.subject]) for p in people}
        raise AssertionError(f"{exc}: {wrong}") from exc
    return inboxes


async def _mails(client: httpx.AsyncClient, martins: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every mail notifications wrote, by the notice it is of (the operators' view: no address in it)."""
    found: dict[str, dict[str, Any]] = {}
    states = ["queued", "sending", "sent", "failed", "in_doubt"]
    while True:
        params: dict[str, Any] = {"state": states, "limit": 200, "offset": len(found)}
        page = ok(await client.get(f"{NOTIFICATIONS}/notifications/mails", params=params, headers=martins))
        found.update({m["notice_id"]: m for m in page["items"]})
        if not page["items"] or len(found) >= page["total"]:
            return found


async def _mailed(
    stack: Stack,
    client: httpx.AsyncClient,
    martins: dict[str, str],
    server: MailServer,
    people: Sequence[Person],
    notices: Mapping[str, list[dict[str, Any]]],
) -> None:
    """Every notice has its mail. Each of a person the directory knows was sent, and reached the SMTP server once:
    to the directory's address, with the notice's title in the person's language as its subject. The others
    (learners the directory does not know: the eight minted ones, and the 2024 completers invited to their surveys)
    are refused for the address, and no mail failed for any other reason or is in doubt."""
    known = [p for p in people if p.username is not None]
    mails: dict[str, dict[str, Any]] = {}

    async def settled() -> bool:
        mails.update(await _mails(client, martins))
        ours = [n["id"] for p in people for n in notices[p.subject]]
        done = all(m["state"] in ("sent", "failed", "in_doubt") for m in mails.values())
        return (
            done
            and set(ours) <= set(mails)
            and all(mails[n["id"]]["state"] == "sent" for p in known for n in notices[p.subject])
        )

    await until(settled, timeout=WAIT, interval=0.5, healthy=processes_alive(stack.processes), what="mails sent")
    by_message_id = {m["Message-ID"]: m for m in server.messages}
    assert len(by_message_id) == len(server.messages), "a mail arrived twice"
    for person in known:
        assert person.username is not None
        for notice in notices[person.subject]:
            sent = by_message_id[mails[notice["id"]]["message_id"]]
            assert sent["To"] == DEV_USERS[person.username].email, notice["kind"]
            assert sent["Subject"] == notice["title"][person.language], notice["kind"]
            assert sent["Content-Language"] == person.language, notice["kind"]
    assert len(server.messages) == sum(len(notices[p.subject]) for p in known), [m["Subject"] for m in server.messages]
    directory = {u.subject for u in DEV_USERS.values()}
    refused = [m for m in mails.values() if m["state"] != "sent"]
    assert all(m["state"] == "failed" and m["last_error"] == NO_ADDRESS for m in refused), refused
    assert not {m["recipient_id"] for m in refused} & directory, refused
