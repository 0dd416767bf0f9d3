"""The platform in-process for the guards: every service of the registry on SQLite, the gateway, and a world of
objects that belong to a first set of principals ("A"), made through the services' own APIs and events.

Principal A of each role owns the objects: learner A an account, an application (approved, enrolled in a group)
and a notice; provider admin A an approved institution with a location, a draft and a published programme, a
group and a staff member (provider staff A); their documents. Principal B of each role owns nothing of A's:
provider admin B and provider staff B have an approved institution of their own. Routes are found by their names,
paths taken from the routes themselves, so a changed prefix changes nothing here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import itertools
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from prasmes_contracts.accounts import AccountOpened
from prasmes_contracts.calls import CooperationAgreementSigned
from prasmes_contracts.catalog import GroupScheduled, ProgrammePublished, ProviderUserAdded
from prasmes_runtime import roles
from prasmes_runtime.auth import TokenIssuer, TokenVerifier
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.registry import SERVICES, ServiceEntry
from prasmes_runtime.service import ServiceDefinition
from prasmes_testing import samples
from prasmes_testing.access import Body, BodyFactory, RouteTable, find_route, read_routes
from prasmes_testing.harness import ServiceHarness, harness, local_settings, running
from prasmes_testing.support import personal_code

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday: inside the seeded funding projects' window, before the group starts and the publication ends."""
ADDRESS_A = "Brīvības iela 100, Rīga, LV-1001"
"""Registered in VIIS for institution A's register number (samples.GOOD_REGISTER_NUMBER)."""
REGISTER_NUMBER_B = "3360800005"
"""The seeded register's second institution that passes every rule."""
EXEMPT: Mapping[str, Mapping[str, str]] = {
    "gateway": {"/api/{service}/{path}": "the proxy: the service behind it checks the token and the role"},
}
"""Routes without an access rule of their own, each with its reason (the runtime's probes and docs aside)."""
ROLES = sorted(roles.ROLES)
GUARD_CLIENT, GUARD_SECRET = "guards", "the-guards-own-client-secret"
"""A platform service the gateway knows (SERVICE_CLIENTS), so that its token route answers the guards' request."""


def owner(role: str) -> str:
    """The subject of principal A with this role (the one whose objects the world holds)."""
    return f"{role}-a"


def other(role: str) -> str:
    """The subject of principal B with this role."""
    return f"{role}-b"


@dataclass(frozen=True)
class _Person:
    subject: str
    username: str
    display_name: str
    email: str | None = None


@dataclass
class FakeDirectory:
    """The identity provider's user directory in memory: it knows every principal of the world by subject."""

    people: dict[str, _Person] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for subject in [*map(owner, ROLES), *map(other, ROLES), "newcomer"]:
            self.people[subject] = _Person(subject, subject, subject.replace("-", " ").title(), f"{subject}@example.lv")

    async def find(self, username: str | None, email: str | None, token: str) -> _Person | None:
        wanted = (email or "").strip().lower()
        return next((p for p in self.people.values() if p.username == username or (wanted and p.email == wanted)), None)

    async def names(self, subjects: Sequence[str], token: str) -> dict[str, str]:
        return {s: self.people[s].display_name for s in subjects if s in self.people}


def _adapters(definition: ServiceDefinition, settings: Any) -> object:
    """The service's own adapters, with an in-memory directory where it asks the identity provider for people."""
    adapters = definition.adapters(settings)
    if dataclasses.is_dataclass(adapters) and "directory" in {f.name for f in dataclasses.fields(adapters)}:
        return dataclasses.replace(adapters, directory=FakeDirectory())  # type: ignore[type-var]
    return adapters


@dataclass
class Target:
    """One app of the platform running in-process, and its routes with their access rules."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    table: RouteTable
    service: ServiceHarness | None = None
    """None for the gateway (no database, no bus)."""


def definition_of(entry: ServiceEntry) -> ServiceDefinition:
    definition: ServiceDefinition = importlib.import_module(f"{entry.package}.app").DEFINITION
    return definition


def create_gateway(var_dir: Path) -> FastAPI:
    from gateway.app import create_app
    from gateway.settings import GatewaySettings

    settings = GatewaySettings(
        var_dir=var_dir,
        dev_mode=True,
        service_urls={},
        log_level="WARNING",
        rate_limit_per_minute=10_000_000,
        rate_limit_burst=1_000_000,
        service_clients={GUARD_CLIENT: hashlib.sha256(GUARD_SECRET.encode()).hexdigest()},
    )
    return create_app(settings)


API_SERVICES = tuple(s for s in SERVICES if not s.front)
"""The gateway and the backends: the API's routes. A web front end's pages have no token rules to read: who may
see each page is checked by services/web/tests/test_access.py."""


def edge_entry() -> ServiceEntry:
    (edge,) = [s for s in SERVICES if s.edge]
    assert edge.name == "gateway", f"the registry's edge is {edge.name!r}: teach tests/guards/world.py to start it"
    return edge


def all_apps(tmp_path: Path) -> dict[str, FastAPI]:
    """Every app of the registry, not started (enough to read their routes)."""
    apps: dict[str, FastAPI] = {}
    for entry in API_SERVICES:
        var_dir = tmp_path / f"apps-{entry.name}"
        var_dir.mkdir(parents=True, exist_ok=True)
        if entry.edge:
            apps[entry.name] = create_gateway(var_dir)
            continue
        definition = definition_of(entry)
        settings = local_settings(definition, f"sqlite+aiosqlite:///{var_dir / 'service.db'}", var_dir)
        apps[entry.name] = definition.create_app(settings, FixedClock(NOW), _adapters(definition, settings))
    return apps


@dataclass
class World:
    issuer: TokenIssuer
    targets: dict[str, Target]
    values: dict[str, Any] = field(default_factory=dict)
    """Path parameter (and body field) name -> A's object of that name."""
    others: dict[str, Any] = field(default_factory=dict)
    """Name -> B's own object (provider B's institution): to ask for A's objects under B's own."""
    private: dict[str, str] = field(default_factory=dict)
    """What of A's must never be in an answer to B (unless B is agency staff): ids and subjects."""
    owned: frozenset[str] = frozenset()
    """Path parameters that name an object someone owns (the rest name reference data, e.g. a project's code)."""
    _codes: Any = field(default_factory=lambda: itertools.count(500))

    def headers(self, subject: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(subject, [role])}"}

    def as_owner(self, role: str) -> dict[str, str]:
        return self.headers(owner(role), role)

    def next_personal_code(self) -> str:
        return personal_code(next(self._codes))

    async def call(
        self,
        service: str,
        name: str,
        caller: dict[str, str],
        *,
        path: Mapping[str, Any] | None = None,
        expect: tuple[int, ...] = (200, 201),
        **kwargs: Any,
    ) -> Any:
        """Call a route by its name, as `caller`; the answer's JSON (seeding: anything but `expect` fails)."""
        target = self.targets[service]
        route = find_route(target.table, name)
        values = dict(path or {})
        url = re.sub(r"\{([^}:]+)(?::[^}]*)?\}", lambda m: quote(str(values[m.group(1)]), safe=""), route.path)
        response = await target.client.request(route.method, url, headers=caller, **kwargs)
        assert response.status_code in expect, f"seeding {route.label}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None

    def bodies(self) -> dict[str, BodyFactory]:
        """Route name -> a body known to be valid for it (the rest are generated from their schemas)."""
        v = self.values
        group = {
            "location_id": v["location_id"],
            "start_date": "2026-03-16",
            "end_date": "2026-05-29",
            "schedule": "Otrdienās un ceturtdienās 18:00-21:00",
            "capacity": 3,
            "language": "lv",
            "entry_level": 3,
        }
        project = {
            "name": "Guard project",
            "budget": "10000.00",
            "grant_per_person": "500.00",
            "window_opens_at": "2026-01-01T00:00:00+00:00",
            "window_closes_at": "2026-12-31T00:00:00+00:00",
            "enrolment_deadline": "2027-03-31",
        }
        coefficients = {
            "hourly_rate": "1.56",
            "coefficients": {"Datorsistēmas, datubāzes un datortīkli": "1.28"},
            "valid_from": "2026-04-01",
        }
        return {
            "open_account": lambda: Body(json={"personal_code": self.next_personal_code()}),
            "upload_document": lambda: Body(
                content=samples.asice_container(),
                media_type="application/vnd.etsi.asic-e+zip",
                params={"purpose": "statement", "filename": "apliecinajums.edoc"},
            ),
            "register_provider": lambda: Body(json=samples.registration_payload(str(v["statement_document_id"]))),
            "register_programme": lambda: Body(
                json=samples.programme_payload([str(v["location_id"])], str(v["curriculum_document_id"]))
            ),
            "schedule_group": lambda: Body(json=group),
            "add_location": lambda: Body(json={"address": ADDRESS_A}),
            "add_user": lambda: Body(json=self.staff_body("newcomer")),
            "create_project": lambda: Body(json={"code": f"G{uuid.uuid4().hex[:6].upper()}", **project}),
            "publish_coefficients": lambda: Body(json=coefficients),
            # By subject: the one query every caller the route admits may make (a service asks by subject only).
            "find_users": lambda: Body(params={"subject": owner(roles.LEARNER)}),
            "service_token": lambda: Body(json={"client_id": GUARD_CLIENT, "client_secret": GUARD_SECRET}),
        }

    def staff_body(self, subject: str) -> dict[str, str]:
        """An invitation of a person to an institution, in the shape the route takes (user name or user id)."""
        document = self.targets["catalog"].app.openapi()
        route = find_route(self.targets["catalog"].table, "add_user")
        body = document["paths"][route.path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        while "$ref" in body:
            body = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        names = set(body.get("properties", {}))
        key = next(k for k in ("username", "user_id", "email") if k in names)
        return {key: subject if key != "email" else f"{subject}@example.lv"}


@asynccontextmanager
async def platform(tmp_path: Path, issuer: TokenIssuer) -> AsyncIterator[World]:
    """Every service of the registry and the gateway running in-process (not yet seeded)."""
    clock = FixedClock(NOW)
    verifier = TokenVerifier(issuer=issuer.issuer, audience=issuer.audience, jwks=issuer.jwks())
    async with AsyncExitStack() as stack:
        targets: dict[str, Target] = {}
        for entry in API_SERVICES:
            var_dir = tmp_path / entry.name
            var_dir.mkdir(parents=True, exist_ok=True)
            if entry.edge:
                edge_entry()
                app = create_gateway(var_dir)
                client = await stack.enter_async_context(running(app, verifier))
                targets[entry.name] = Target(
                    entry.name, app, client, read_routes(entry.name, app, EXEMPT.get(entry.name))
                )
                continue
            definition = definition_of(entry)
            settings = local_settings(
                definition,
                f"sqlite+aiosqlite:///{var_dir / 'service.db'}",
                var_dir,
                log_level="WARNING",
            )
            service = await stack.enter_async_context(
                harness(definition, settings, issuer, clock, _adapters(definition, settings))
            )
            table = read_routes(entry.name, service.app, EXEMPT.get(entry.name))
            targets[entry.name] = Target(entry.name, service.app, service.client, table, service)
        yield World(issuer, targets)


async def seed(world: World) -> None:
    """A's objects in every service that has them, B's institution, and the values naming them."""
    await _seed_catalog(world)
    await _seed_accounts(world)
    await _seed_notifications(world)
    v = world.values
    v |= {"code": "IMK", "register_number": samples.GOOD_REGISTER_NUMBER}
    world.owned = frozenset(set(v) - {"code", "register_number", "statement_document_id", "curriculum_document_id"})
    world.private |= {f"subject of {owner(r)}": owner(r) for r in (roles.LEARNER, *roles.PROVIDER)}


async def _seed_catalog(world: World) -> None:
    if "catalog" not in world.targets:
        return
    admin, officer = world.as_owner(roles.PROVIDER_ADMIN), world.as_owner(roles.AGENCY_OFFICER)

    async def document(caller: dict[str, str], purpose: str, content: bytes, media_type: str) -> str:
        params = {"purpose": purpose, "filename": "apliecinajums.edoc" if purpose == "statement" else "plans.pdf"}
        headers = {**caller, "Content-Type": media_type}
        answer = await world.call("catalog", "upload_document", headers, params=params, content=content)
        return str(answer["id"])

    async def institution(caller: dict[str, str], number: str) -> tuple[str, str]:
        statement = await document(caller, "statement", samples.asice_container(), "application/vnd.etsi.asic-e+zip")
        payload = samples.registration_payload(statement, number)
        registered = await world.call("catalog", "register_provider", caller, json=payload)
        await world.call("catalog", "approve_provider", officer, path={"institution_id": registered["id"]})
        return str(registered["id"]), statement

    a, statement = await institution(admin, samples.GOOD_REGISTER_NUMBER)
    location = await world.call(
        "catalog", "add_location", admin, path={"institution_id": a}, json={"address": ADDRESS_A}
    )
    curriculum = await document(admin, "curriculum", samples.plain_pdf(), "application/pdf")
    at = {"institution_id": a}
    draft = await world.call(
        "catalog", "register_programme", admin, path=at, json=samples.programme_payload([location["id"]], curriculum)
    )
    title: dict[str, object] = {"title": {"lv": "Publicētā programma", "en": "The published programme"}}
    title |= {"licence_number": "P-3003", "licence_date": "2021-02-15", "theory_hours": 60, "practice_hours": 100}
    published = await world.call(
        "catalog",
        "register_programme",
        admin,
        path=at,
        json=samples.programme_payload([location["id"]], curriculum, **title),
    )
    catalog = world.targets["catalog"].service
    assert catalog is not None
    agreement = CooperationAgreementSigned(
        offer_id=uuid.uuid4(),
        call_id=uuid.uuid4(),
        institution_id=uuid.UUID(a),
        programme_ids=[uuid.UUID(published["id"])],
        at=NOW,
        valid_until=date(2026, 6, 30),
    )
    await catalog.deliver(agreement)
    world.values |= {"location_id": location["id"], "statement_document_id": statement}
    world.values |= {"curriculum_document_id": curriculum}
    group = await world.call(
        "catalog",
        "schedule_group",
        admin,
        path={**at, "programme_id": published["id"]},
        json=world.bodies()["schedule_group"]().json,
    )
    staff = owner(roles.PROVIDER_STAFF)
    await world.call("catalog", "add_user", admin, path=at, json=world.staff_body(staff))

    admin_b = world.headers(other(roles.PROVIDER_ADMIN), roles.PROVIDER_ADMIN)
    b, _ = await institution(admin_b, REGISTER_NUMBER_B)
    await world.call(
        "catalog", "add_user", admin_b, path={"institution_id": b}, json=world.staff_body(other(roles.PROVIDER_STAFF))
    )

    world.values |= {
        "institution_id": a,
        "programme_id": published["id"],
        "group_id": group["id"],
        "document_id": statement,
        "user_id": staff,
    }
    world.others |= {"institution_id": b}
    world.private |= {
        "A's draft programme": draft["id"],
        "A's location": location["id"],
        "A's statement": statement,
        "A's curriculum": curriculum,
    }


def _catalog_facts(world: World) -> list[Any]:
    """What accounts learns from catalog's events: the institutions' users, the published programme, its group."""
    v, b = world.values, world.others
    institution, programme = uuid.UUID(v["institution_id"]), uuid.UUID(v["programme_id"])
    members = [(institution, owner), (uuid.UUID(b["institution_id"]), other)]
    events: list[Any] = [
        ProviderUserAdded(institution_id=i, at=NOW, user_id=who(role), role=role)
        for i, who in members
        for role in roles.PROVIDER
    ]
    events.append(
        ProgrammePublished(
            programme_id=programme,
            institution_id=institution,
            at=NOW,
            title={"lv": "Publicētā programma", "en": "The published programme"},
            digcomp_level=5,
            hours=160,
            cost_per_participant=Decimal("320.00"),
            coefficient_table_version=1,
        )
    )
    events.append(
        GroupScheduled(
            group_id=uuid.UUID(v["group_id"]),
            programme_id=programme,
            institution_id=institution,
            at=NOW,
            capacity=3,
            start_date=date(2026, 3, 16),
            end_date=date(2026, 5, 29),
            city="Rīga",
            language="lv",
        )
    )
    return events


async def _seed_accounts(world: World) -> None:
    accounts = world.targets.get("accounts")
    if accounts is None or accounts.service is None:
        return
    if "group_id" in world.values:
        await accounts.service.deliver(*_catalog_facts(world))
    learner, officer = world.as_owner(roles.LEARNER), world.as_owner(roles.AGENCY_OFFICER)
    account = await world.call("accounts", "open_account", learner, json={"personal_code": world.next_personal_code()})
    application = await world.call("accounts", "apply", learner, json={"project_code": "IMK"})
    at = {"application_id": application["id"]}
    await world.call("accounts", "approve", officer, path=at)
    world.values |= {"account_id": account["id"], "application_id": application["id"]}
    world.private |= {"A's account": account["id"], "A's application": application["id"]}
    if "group_id" in world.values:
        body = {"group_id": world.values["group_id"]}
        enrolment = await world.call("accounts", "enrol", learner, path=at, json=body)
        world.values["enrolment_id"] = enrolment["id"]
        world.private["A's enrolment"] = enrolment["id"]


async def _seed_notifications(world: World) -> None:
    notifications = world.targets.get("notifications")
    if notifications is None or notifications.service is None:
        return
    account = uuid.UUID(world.values.get("account_id", str(uuid.uuid4())))
    await notifications.service.deliver(
        AccountOpened(account_id=account, learner_id=owner(roles.LEARNER), opened_at=NOW)
    )
    page = await world.call("notifications", "my_notices", world.as_owner(roles.LEARNER))
    (notice,) = page["items"]
    world.values["notice_id"] = notice["id"]
    world.private["A's notice"] = notice["id"]
