"""schemathesis against every service's OpenAPI document (and the gateway's own routes), in-process on SQLite.

Every operation is explored with the token of each role its route lets through (read from the route, as in the
access matrix; no token for a public route), as principal A, who owns the seeded objects: half the examples ask for
A's real objects in the path, the others for what schemathesis makes up. Positive and negative data, a bounded
number of examples, derandomised (the same requests every run). Asserted: no answer is a 5xx. Reported, not
asserted: answers that do not conform to the documented response schema or content type.

The requests go through schemathesis' own serialisation (`Case.call` with a requests session) and an adapter that
hands them to the app's in-process client on the test's event loop, where the services run with their lifespans.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import requests.adapters
import schemathesis
import urllib3
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.roles import ROLES
from prasmes_testing import samples
from prasmes_testing.access import RouteAccess
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.guards.world import World, platform, seed

EXAMPLES = {
    GenerationMode.POSITIVE: int(os.environ.get("GUARDS_POSITIVE_EXAMPLES", "6")),
    GenerationMode.NEGATIVE: int(os.environ.get("GUARDS_NEGATIVE_EXAMPLES", "3")),
}
"""Examples per operation, caller and mode: bounded so that the whole run stays within about 75 s on two cores (a
deeper run locally: GUARDS_POSITIVE_EXAMPLES=50 GUARDS_NEGATIVE_EXAMPLES=20)."""
UPLOADS = {
    "application/pdf": [samples.plain_pdf(), samples.pades_pdf(), samples.pades_pdf(timestamp="none"), b"%PDF-1.7\n"],
    "application/vnd.etsi.asic-e+zip": [
        samples.asice_container(),
        samples.asice_container(tamper=True),
        samples.asice_container(mimetype_first=False),
        b"PK\x03\x04",
    ],
}
"""What a document upload's body is made of: real and damaged files (schemathesis has no generator for them)."""
REQUEST_TIMEOUT = 30.0
SUMMARY = Path(__file__).resolve().parents[2] / "var" / "guards" / "schemathesis.txt"
EXPECTED_SERVICES = {"accounts", "catalog", "notifications"}
ANONYMOUS = "no token"


class InProcessAdapter(requests.adapters.HTTPAdapter):
    """A requests transport to the apps' in-process clients (the host names the service), run on `loop`."""

    def __init__(self, clients: Mapping[str, httpx.AsyncClient], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._clients = clients
        self._loop = loop

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        host = urllib3.util.parse_url(str(request.url)).host or ""
        body = request.body.encode() if isinstance(request.body, str) else request.body
        content = body if isinstance(body, bytes) and body else None
        headers = {k: v.decode("latin-1") if isinstance(v, bytes) else v for k, v in request.headers.items()}
        call = self._clients[host].request(str(request.method), request.path_url, headers=headers, content=content)
        answer = asyncio.run_coroutine_threadsafe(call, self._loop).result(REQUEST_TIMEOUT)
        kept = urllib3.HTTPHeaderDict()
        for name, value in answer.headers.multi_items():
            if name.lower() != "content-encoding":  # the client has decoded the body already
                kept.add(name, value)
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=kept,
            status=answer.status_code,
            reason=answer.reason_phrase,
            preload_content=False,
            decode_content=False,
            version=11,
            request_method=request.method,
        )
        return self.build_response(request, raw)


@dataclass
class Report:
    requests: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    nonconforming: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    not_generated: list[str] = field(default_factory=list)
    nothing_to_negate: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)
    explored: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        lines = [
            f"schemathesis: {len(self.explored)} operation x caller x mode runs, {self.requests} requests, "
            f"{self.seconds:.1f} s",
            "",
            "statuses per service:",
        ]
        lines += [f"  {service:14} {status}  x{n}" for (service, status), n in sorted(self.statuses.items())]
        lines += ["", f"SERVER ERRORS ({len(self.server_errors)})", *(f"  {e}" for e in self.server_errors)]
        lines += ["", f"not conforming to the documented responses ({len(self.nonconforming)} operation x check):"]
        for (operation, check), examples in sorted(self.nonconforming.items()):
            lines.append(f"  {operation} [{check}] x{len(examples)}: {examples[0]}")
        lines += ["", f"could not generate ({len(self.not_generated)}):", *(f"  {e}" for e in self.not_generated)]
        lines += ["", f"negative mode skipped, nothing to make invalid: {len(self.nothing_to_negate)} runs"]
        lines += ["", f"explored without a token, their route declaring no access rule ({len(self.undeclared)}):"]
        lines += [f"  {label}" for label in self.undeclared]
        return "\n".join(lines)


def _callers(route: RouteAccess, world: World) -> list[tuple[str, dict[str, str]]]:
    if route.public:
        return [(ANONYMOUS, {})]
    return [(role, world.as_owner(role)) for role in sorted(route.roles)]


def _short(text: str, limit: int = 400) -> str:
    return " ".join(text.split())[:limit]


def _examples(
    world: World,
    session: requests.Session,
    service: str,
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    route: RouteAccess,
    caller: str,
    headers: dict[str, str],
    mode: GenerationMode,
    cases: st.SearchStrategy[schemathesis.Case[Any]],
    report: Report,
) -> Callable[[], None]:
    """A hypothesis test of one operation for one caller and mode; it records instead of failing (no shrinking)."""
    checks: list[Callable[..., Any]] = [response_schema_conformance, content_type_conformance]
    label = f"{route.label} [{caller}, {mode.value}]"
    base_url = f"http://{service}"

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=cases, real=st.booleans())
    def one(case: schemathesis.Case[Any], real: bool) -> None:
        if real and case.path_parameters:
            known = {k: str(world.values[k]) for k in case.path_parameters if k in world.values}
            case.path_parameters = {**case.path_parameters, **known}
        response = case.call(base_url=base_url, session=session, headers=headers)
        report.requests += 1
        report.statuses[(service, response.status_code)] += 1
        if response.status_code >= 500:
            curl = case.as_curl_command(headers=headers, base_url=base_url)
            report.server_errors.append(f"{label} -> {response.status_code} {_short(response.text, 120)}\n    {curl}")
            return
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                report.nonconforming[(route.label, failure.title)].append(
                    f"{response.status_code} {_short(failure.message)}"
                )
        except Failure as failure:
            report.nonconforming[(route.label, failure.title)].append(
                f"{response.status_code} {_short(failure.message)}"
            )

    return one


def _explore(
    world: World,
    session: requests.Session,
    service: str,
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    route: RouteAccess,
    report: Report,
) -> None:
    # One strategy per mode for every caller: building one from the operation's schema costs more than its examples.
    strategies = {mode: operation.as_strategy(generation_mode=mode) for mode in EXAMPLES}
    for caller, headers in _callers(route, world):
        for mode, cases in strategies.items():
            label = f"{route.label} [{caller}, {mode.value}]"
            try:
                _examples(world, session, service, operation, route, caller, headers, mode, cases, report)()
            except Unsatisfiable:
                if mode is GenerationMode.NEGATIVE:
                    report.nothing_to_negate.append(label)  # no parameter or body that could be wrong
                else:
                    report.not_generated.append(f"{label}: no valid example could be generated")
            except Exception as exc:
                report.not_generated.append(f"{label}: {type(exc).__name__}: {_short(str(exc))}")
            report.explored.append(label)


def _fuzz(world: World, loop: asyncio.AbstractEventLoop) -> Report:
    report = Report()
    started = time.monotonic()
    session = requests.Session()
    adapter = InProcessAdapter({name: t.client for name, t in world.targets.items()}, loop)
    session.mount("http://", adapter)
    for name, target in world.targets.items():
        if not target.table.routes:
            continue
        schema = schemathesis.openapi.from_dict(target.app.openapi())
        routes = {(r.method, r.path): r for r in target.table.routes}
        # A route without an access rule (the access matrix fails on it) is still explored, as if public.
        for u in target.table.undeclared:
            routes.setdefault((u.method, u.path), RouteAccess(name, u.method, u.path, u.name, True, ROLES, ()))
            report.undeclared.append(str(u))
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                report.not_generated.append(f"{name}: the document does not load: {result.err()}")
                continue
            operation = result.ok()
            route = routes.get((operation.method.upper(), operation.path))
            if route is None:
                report.not_generated.append(f"{name} {operation.method} {operation.path}: no route has this operation")
                continue
            _explore(world, session, name, operation, route, report)
    report.seconds = time.monotonic() - started
    return report


@pytest.mark.timeout(600)
async def test_no_operation_of_any_service_answers_a_server_error(tmp_path: Path, token_issuer: TokenIssuer) -> None:
    for media_type, contents in UPLOADS.items():
        schemathesis.openapi.media_type(media_type, st.sampled_from(contents) | st.binary(max_size=256))
    async with platform(tmp_path, token_issuer) as world:
        await seed(world)
        report = await asyncio.to_thread(_fuzz, world, asyncio.get_running_loop())
    text = report.text()
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(text + "\n", encoding="utf-8")
    print(text)
    explored = {line.split(" ", 1)[0] for line in report.explored}
    assert explored >= EXPECTED_SERVICES, f"no operations explored on {EXPECTED_SERVICES - explored}"
    routes = {route.label for target in world.targets.values() for route in target.table.routes}
    unexplored = routes - {label.split(" [", 1)[0] for label in report.explored}
    assert not unexplored, f"operations schemathesis did not explore: {sorted(unexplored)}"
    assert report.requests > len(routes)
    assert not report.server_errors, f"{len(report.server_errors)} server errors (all in {SUMMARY}):\n" + "\n".join(
        report.server_errors
    )
