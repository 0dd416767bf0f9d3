"""Every route's access rule, read from the route itself, and requests built from the route's own declaration.

A route declares who may call it with a dependency that `prasmes_runtime.auth.access_rule` can read (`authenticated`:
any signed-in caller; `require_role(...)`: those roles), or with `openapi_extra=PUBLIC` (anyone, no token). The
runtime's own probes, metrics and docs (`INFRASTRUCTURE`) are no service's API. `read_routes` lists an app's
routes with their rules and the routes that declare none; `RequestPlan` fills a route's path parameters, required
query parameters and body from the route's OpenAPI operation, with real values where the caller knows them.

    table = read_routes("accounts", app)
    assert not table.undeclared
    for route in table.routes:
        request = RequestPlan(app.openapi(), values).request(route)
        response = await client.request(request.method, request.url, **request.send_kwargs())
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from prasmes_runtime.auth import access_rule, is_public
from prasmes_runtime.roles import ROLES

INFRASTRUCTURE: frozenset[str] = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/docs/assets", "/docs/oauth2-redirect", "/openapi.json"}
)
"""The runtime's (and the framework's) own paths in every app: probes, the scrape endpoint (with its own credential),
the API docs and their document. Listed explicitly: any other route must declare an access rule."""

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class RouteAccess:
    """One operation (method and path) of a service and who may call it."""

    service: str
    method: str
    path: str
    name: str
    public: bool
    roles: frozenset[str]
    """The roles let through (every role for a public or a signed-in route)."""
    path_params: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    def allows(self, role: str) -> bool:
        return self.public or role in self.roles


@dataclass(frozen=True)
class Undeclared:
    service: str
    method: str
    path: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path} ({self.name}): {self.reason}"


@dataclass(frozen=True)
class RouteTable:
    service: str
    routes: tuple[RouteAccess, ...]
    infrastructure: tuple[str, ...]
    exempt: tuple[str, ...]
    undeclared: tuple[Undeclared, ...]


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _route_contexts(app: FastAPI) -> Iterator[Any]:
    """Every route of the app as it is served (included routers' prefixes and dependencies applied)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    if iterate is None:  # a FastAPI that flattens included routers into app.routes
        yield from app.routes
        return
    yield from iterate(app.routes)


def rule_of(dependant: Dependant, openapi_extra: Mapping[str, Any] | None) -> tuple[bool, frozenset[str]] | str:
    """(public, roles) of a route, or why it has no readable rule."""
    role_sets = [rule for d in _dependants(dependant) if d.call is not None and (rule := access_rule(d.call))]
    public = is_public(dict(openapi_extra) if openapi_extra is not None else None)
    if public and role_sets:
        return "marked PUBLIC but depends on a token as well"
    if public:
        return True, frozenset(ROLES)
    if not role_sets:
        return "declares no access rule: neither a role dependency (authenticated/require_role) nor PUBLIC"
    allowed = frozenset(ROLES).intersection(*role_sets)
    if not allowed:
        return "its role dependencies together let no role through"
    return False, allowed


def read_routes(service: str, app: FastAPI, exempt: Mapping[str, str] | None = None) -> RouteTable:
    """The app's routes with their access rules. `exempt`: path -> why it has no rule of its own (e.g. the gateway's
    proxy, whose upstream decides); every exemption must match a route."""
    exempt = dict(exempt or {})
    routes: list[RouteAccess] = []
    infrastructure: list[str] = []
    exempted: list[str] = []
    undeclared: list[Undeclared] = []
    for context in _route_contexts(app):
        original = getattr(context, "original_route", context)
        path = str(getattr(context, "path_format", None) or getattr(context, "path", ""))
        if path in INFRASTRUCTURE or str(getattr(context, "path", "")) in INFRASTRUCTURE:
            infrastructure.append(path)
            continue
        if path in exempt:
            exempted.append(f"{path}: {exempt[path]}")
            continue
        if not isinstance(original, APIRoute):
            kind = type(original).__name__
            undeclared.append(Undeclared(service, "*", path, kind, "not a FastAPI route: no access rule can be read"))
            continue
        name = str(context.name)
        for method in sorted(context.methods or ()):
            rule = rule_of(context.dependant, context.openapi_extra)
            if isinstance(rule, str):
                undeclared.append(Undeclared(service, method, path, name, rule))
                continue
            public, allowed = rule
            params = tuple(_PARAM.findall(path))
            routes.append(RouteAccess(service, method, path, name, public, allowed, params))
    unmatched = sorted(set(exempt) - {e.split(": ", 1)[0] for e in exempted})
    undeclared += [
        Undeclared(service, "*", p, "-", "exempted, but no such route: drop the exemption") for p in unmatched
    ]
    return RouteTable(service, tuple(routes), tuple(infrastructure), tuple(exempted), tuple(undeclared))


def find_route(table: RouteTable, name: str) -> RouteAccess:
    """The one operation of a route by its name (the endpoint function's, unless the route names itself)."""
    found = [route for route in table.routes if route.name == name]
    if len(found) != 1:
        raise LookupError(f"{table.service} has {len(found)} operations named {name!r}")
    return found[0]


# --------------------------------------------------------------------------- requests built from the routes


@dataclass
class PlannedRequest:
    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    filled: dict[str, str] = field(default_factory=dict)
    """Path parameter -> how it was filled: "known" (a real value) or "unknown" (made up: nothing has that id)."""
    body: str = "none"
    """How the body was made: "none", "known" (from the caller's table) or "generated" (from the schema)."""

    def send_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": self.params, "headers": self.headers}
        if self.content is not None:
            kwargs["content"] = self.content
        elif self.json is not None:
            kwargs["json"] = self.json
        return kwargs

    @property
    def unknown(self) -> list[str]:
        return [name for name, how in self.filled.items() if how == "unknown"]


BodyFactory = Callable[[], "Body"]


@dataclass(frozen=True)
class Body:
    """A request body a caller knows is valid: JSON, or raw content with its media type and query parameters."""

    json: Any = None
    content: bytes | None = None
    media_type: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


class RequestPlan:
    """Requests for the routes of one OpenAPI document: path parameters and fields named like a known value get it
    (`values`: name -> value, e.g. application_id), the rest the smallest value its schema allows (its example,
    enum, format, bounds). `bodies`: route name -> a factory of a body known to be valid for it."""

    def __init__(
        self,
        document: Mapping[str, Any],
        values: Mapping[str, Any],
        bodies: Mapping[str, BodyFactory] | None = None,
    ) -> None:
        self._document = document
        self._components: Mapping[str, Any] = document.get("components", {})
        self._values = values
        self._bodies = dict(bodies or {})

    def operation(self, route: RouteAccess) -> Mapping[str, Any]:
        operation: Mapping[str, Any] = self._document.get("paths", {}).get(route.path, {}).get(route.method.lower(), {})
        return operation

    def request(self, route: RouteAccess, overrides: Mapping[str, Any] | None = None) -> PlannedRequest:
        """The request for a route; `overrides`: values used before `values` (e.g. another institution's id)."""
        values = {**self._values, **(overrides or {})}
        operation = self.operation(route)
        parameters = {(p.get("in"), p.get("name")): p for p in operation.get("parameters", [])}
        filled: dict[str, str] = {}

        def path_value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                filled[name] = "known"
                return quote(str(values[name]), safe="")
            filled[name] = "unknown"
            schema = self._resolve(parameters.get(("path", name), {}).get("schema", {}))
            made_up = str(uuid.uuid4()) if schema.get("format") == "uuid" else f"unknown-{uuid.uuid4().hex[:8]}"
            return quote(made_up, safe="")

        url = _PARAM.sub(path_value, route.path)
        query = {
            str(p["name"]): self._value(p.get("schema", {}), str(p["name"]), values)
            for (where, _), p in parameters.items()
            if where == "query" and p.get("required")
        }
        planned = PlannedRequest(route.method, url, params=query, filled=filled)
        factory = self._bodies.get(route.name)
        if factory is not None:
            body = factory()
            planned.body = "known"
            planned.params |= dict(body.params)
            if body.content is not None:
                planned.content = body.content
                planned.headers["Content-Type"] = body.media_type or "application/octet-stream"
            else:
                planned.json = body.json
            return planned
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            planned.json = self._value(content["application/json"].get("schema", {}), "", values)
            planned.body = "generated"
        elif content:
            media_type = next(iter(content))
            planned.content = b""
            planned.headers["Content-Type"] = media_type
            planned.body = "generated"
        return planned

    # ----------------------------------------------------------------------- the smallest valid value of a schema

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 20:
            kind, name = str(schema["$ref"]).split("/")[-2:]
            schema = self._components.get(kind, {}).get(name, {})
            seen += 1
        return schema

    def _value(self, schema: Mapping[str, Any], name: str, values: Mapping[str, Any]) -> Any:
        if name and name in values:
            return values[name]
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if schema.get("examples"):
            examples = schema["examples"]
            return examples[0] if isinstance(examples, list) else next(iter(examples.values()))
        if "example" in schema:
            return schema["example"]
        for combinator in ("anyOf", "oneOf", "allOf"):
            options = [self._resolve(o) for o in schema.get(combinator, [])]
            options = [o for o in options if o.get("type") != "null"] or options
            if options:
                return self._value(options[0], name, values)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            properties: Mapping[str, Any] = schema.get("properties", {})
            return {key: self._value(properties[key], key, values) for key in schema.get("required", [])}
        if kind == "array":
            count = int(schema.get("minItems", 0))
            return [self._value(schema.get("items", {}), "", values) for _ in range(count)]
        if kind == "integer" or kind == "number":
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return _string(schema)


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    value: float = max(1, low + (1 if "exclusiveMinimum" in schema else 0))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if high is not None and value > high:
        value = high
    return int(value) if integer else value


def _string(schema: Mapping[str, Any]) -> str:
    formats = {
        "uuid": str(uuid.uuid4()),
        "date": "2026-03-16",
        "date-time": "2026-03-02T09:00:00+00:00",
        "email": "someone@example.lv",
        "binary": "",
    }
    form = schema.get("format")
    if form in formats:
        return formats[form]
    length = max(1, int(schema.get("minLength", 1)))
    return "x" * min(length, int(schema.get("maxLength", length)))
