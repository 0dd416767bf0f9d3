"""The authorisation matrix, read from the routes themselves: every route of every service of the registry (and the
gateway's own) × no token and every role × another person's or institution's objects.

- Every route declares its access rule (a role dependency, or PUBLIC); one that declares none fails here.
- Without a token a route that is not public answers 401; with a role it does not allow, 403. The `service` role (a
  platform service's own token) is one of the roles: every route that does not name it must refuse it.
- With an allowed role, on objects that belong to someone else (principal A's, asked for by principal B), a learner,
  a provider user or a partner gets 404 or 403: never 2xx with A's data, never a 409 that shows A's object's state.
  A provider user also asks for A's objects under their own institution (B's), which must not find them either.
  Agency staff see every object by their role (docs/roles.md): their answers need only not be a 5xx.
- An answer to B that is not about A's objects (B's own list, the public catalogue) carries none of A's private ids.
- No answer is a 5xx.

The summary (routes × callers, outcomes, the 422s that stopped a check before the object was looked up) is printed
and kept in var/guards/access-matrix.txt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prasmes_runtime import roles
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.access import PlannedRequest, RequestPlan, RouteAccess, read_routes

from tests.guards.world import EXEMPT, ROLES, Target, World, all_apps, other, platform, seed

ANONYMOUS = "no token"
NARROWED = frozenset({roles.LEARNER, *roles.PROVIDER, roles.PARTNER})
"""Roles whose objects membership narrows (docs/roles.md); agency staff are not narrowed to objects."""
SUMMARY = Path(__file__).resolve().parents[2] / "var" / "guards" / "access-matrix.txt"
EXPECTED_SERVICES = {"accounts", "catalog", "notifications", "gateway"}
"""Services that have API routes today: each must contribute checks (the registry may add more)."""


@dataclass(frozen=True)
class Check:
    target: Target
    route: RouteAccess
    caller: str
    """ANONYMOUS or a role (principal B's)."""
    variant: str


@dataclass
class Outcome:
    check: Check
    request: PlannedRequest
    status: int
    excerpt: str
    verdict: str
    """"ok", "unverified" (a 422 before the object was looked up) or why it fails."""

    def line(self) -> str:
        c = self.check
        unknown = f" made-up {','.join(self.request.unknown)}" if self.request.unknown else ""
        return (
            f"{c.route.label} [{c.caller}, {c.variant}{unknown}] -> {self.status} ({self.verdict}): "
            f"{self.request.method} {self.request.url} :: {self.excerpt}"
        )


def variants(route: RouteAccess, role: str, owned: frozenset[str]) -> list[str]:
    """What a caller with `role` is checked for on `route`."""
    if not route.allows(role):
        return ["role not allowed"]
    about_a = not route.public and any(p in owned for p in route.path_params)
    found = ["another's objects" if about_a else "own scope"]
    nested = [p for p in route.path_params if p in owned and p != "institution_id"]
    if role in roles.PROVIDER and "institution_id" in route.path_params and nested and not route.public:
        found.append("A's objects under B's institution")
    return found


def plan_checks(world: World) -> list[Check]:
    """Side-effect-free checks first (no token, a refused role), then the allowed roles, agency staff last (they
    may change A's objects)."""
    first: list[Check] = []
    narrowed: list[Check] = []
    agency: list[Check] = []
    for target in world.targets.values():
        for route in target.table.routes:
            first.append(Check(target, route, ANONYMOUS, ANONYMOUS))
            for role in ROLES:
                for variant in variants(route, role, world.owned):
                    check = Check(target, route, role, variant)
                    if variant == "role not allowed":
                        first.append(check)
                    else:
                        (narrowed if role in NARROWED else agency).append(check)
    return first + narrowed + agency


def implied_count(world: World) -> int:
    """How many checks the routes imply: per route, no token plus every role, plus, for a provider role allowed on
    an institution's nested object, the same object under its own institution."""
    total = 0
    for target in world.targets.values():
        for route in target.table.routes:
            total += 1 + len(ROLES)
            nested = [p for p in route.path_params if p in world.owned and p != "institution_id"]
            if "institution_id" in route.path_params and nested and not route.public:
                total += sum(1 for role in roles.PROVIDER if route.allows(role))
    return total


def leaked(world: World, response: httpx.Response) -> list[str]:
    return [what for what, value in world.private.items() if value and value in response.text]


def judge(world: World, check: Check, request: PlannedRequest, response: httpx.Response) -> str:
    status, route = response.status_code, check.route
    if status >= 500:
        return "FAIL: a server error"
    if check.caller == ANONYMOUS:
        if route.public:
            return "ok" if status not in (401, 403) else "FAIL: a public route refused a caller without a token"
        return "ok" if status == 401 else "FAIL: not 401 without a token"
    if check.variant == "role not allowed":
        return "ok" if status == 403 else f"FAIL: not 403 for {check.caller}, which the route does not allow"
    if route.public and status in (401, 403):
        return "FAIL: a public route refused a signed-in caller"
    if request.unknown:
        if status in (403, 404):
            return "ok"
        return "unverified" if status == 422 else "FAIL: an id nothing has was not a 404/403/422"
    narrowed = check.caller in NARROWED
    about_a = not route.public and any(p in world.owned for p in route.path_params)
    if narrowed and about_a:
        if status in (403, 404):
            return "ok"
        if status == 422:
            return "unverified"
        return "FAIL: another's object answered other than 404/403"
    if narrowed and response.is_success and (what := leaked(world, response)):
        return f"FAIL: the answer carries {', '.join(what)}"
    return "unverified" if status == 422 else "ok"


async def run(world: World, plans: dict[str, RequestPlan], check: Check) -> Outcome:
    headers = {} if check.caller == ANONYMOUS else world.headers(other(check.caller), check.caller)
    overrides = world.others if check.variant == "A's objects under B's institution" else None
    request = plans[check.target.name].request(check.route, overrides)
    request.headers |= headers
    response = await check.target.client.request(request.method, request.url, **request.send_kwargs())
    excerpt = excerpt_of(response)
    return Outcome(check, request, response.status_code, excerpt, judge(world, check, request, response))


def excerpt_of(response: httpx.Response, limit: int = 300) -> str:
    media_type = response.headers.get("content-type", "")
    if media_type.startswith(("application/json", "text/")) or not response.content:
        return " ".join(response.text.split())[:limit]
    return f"<{len(response.content)} bytes of {media_type}>"


def summary(world: World, outcomes: list[Outcome], implied: int) -> str:
    lines = [f"access matrix: {implied} checks implied by the routes, {len(outcomes)} run", ""]
    for name, target in world.targets.items():
        table = target.table
        mine = [o for o in outcomes if o.check.target is target]
        public = sum(1 for r in table.routes if r.public)
        lines.append(
            f"{name}: {len(table.routes)} operations ({public} public), {len(mine)} checks; "
            f"infrastructure {sorted(set(table.infrastructure))}; exempt {list(table.exempt)}"
        )
    lines += ["", f"roles: {', '.join(ROLES)} (and {ANONYMOUS!r})", "", "outcomes by variant and status:"]
    counts = Counter((o.check.variant, o.status, o.verdict.split(":")[0]) for o in outcomes)
    lines += [f"  {variant:34} {status}  {verdict:10} x{n}" for (variant, status, verdict), n in sorted(counts.items())]
    failures = [o for o in outcomes if o.verdict.startswith("FAIL")]
    unverified = [o for o in outcomes if o.verdict == "unverified"]
    refused = [o for o in outcomes if o.status == 403 and o.check.variant == "own scope" and not o.request.unknown]
    agency_read = [
        o for o in outcomes if o.check.caller not in NARROWED | {ANONYMOUS} and o.check.variant == "another's objects"
    ]
    agency_read = [o for o in agency_read if 200 <= o.status < 300]
    partner_writes = sorted(
        {
            r.label
            for t in world.targets.values()
            for r in t.table.routes
            if not r.public and r.method != "GET" and roles.PARTNER in r.roles
        }
    )
    sections = [
        (f"FAILURES ({len(failures)})", failures),
        (f"422 before the check could reach the object ({len(unverified)}): counted, not passed", unverified),
        (f"403 although the declared rule allows the role ({len(refused)}): a rule the routes do not show", refused),
        (f"agency staff answered 2xx on A's objects ({len(agency_read)}): by their role, for review", agency_read),
    ]
    for title, items in sections:
        lines += ["", title]
        lines += [f"  {o.line()}" for o in items]
    lines += ["", f"non-GET routes whose declared rule lets a partner system in ({len(partner_writes)}):"]
    lines += [f"  {label}" for label in partner_writes]
    return "\n".join(lines)


def test_every_route_of_every_service_declares_its_access_rule(tmp_path: Path) -> None:
    apps = all_apps(tmp_path)
    tables = [read_routes(name, app, EXEMPT.get(name)) for name, app in apps.items()]
    undeclared = [str(u) for table in tables for u in table.undeclared]
    assert not undeclared, "routes that declare no access rule:\n" + "\n".join(undeclared)
    with_routes = {table.service for table in tables if table.routes}
    assert with_routes >= EXPECTED_SERVICES, f"no routes read from {EXPECTED_SERVICES - with_routes}"


@pytest.mark.timeout(300)
async def test_the_authorisation_matrix_holds_for_every_route_role_and_anothers_object(
    tmp_path: Path, token_issuer: TokenIssuer
) -> None:
    async with platform(tmp_path, token_issuer) as world:
        await seed(world)
        plans = {name: RequestPlan(t.app.openapi(), world.values, world.bodies()) for name, t in world.targets.items()}
        checks = plan_checks(world)
        outcomes = [await run(world, plans, check) for check in checks]
    implied = implied_count(world)
    report = summary(world, outcomes, implied)
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(report + "\n", encoding="utf-8")
    print(report)
    services = {o.check.target.name for o in outcomes}
    assert services >= EXPECTED_SERVICES, f"no checks ran on {EXPECTED_SERVICES - services}"
    assert len(outcomes) == implied > 0, f"{len(outcomes)} checks ran, the routes imply {implied}"
    failures = [o.line() for o in outcomes if o.verdict.startswith("FAIL")]
    assert not failures, f"{len(failures)} checks failed (summary in {SUMMARY}):\n" + "\n".join(failures)
