"""What every catalog router shares: who may call (the role groups, persons but not partner systems), the query
parameters a route knows, the catalog's settings and adapters. The routers have no prefix: the service's paths
start at its root (the gateway adds `/api/catalog`)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from prasmes_runtime import roles
from prasmes_runtime.auth import CurrentUser, Principal, require_role
from prasmes_runtime.dependencies import ContextDep
from prasmes_runtime.errors import Forbidden, InvalidInput, Violation
from prasmes_runtime.schemas import StrictModel
from pydantic import AfterValidator, BaseModel, field_validator
from pydantic_core import PydanticCustomError

from catalog.adapters.directory import Directory
from catalog.adapters.registers import Registers
from catalog.settings import CatalogAdapters, CatalogSettings

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""What no text of catalog holds: C0 control characters but tab and line breaks (PostgreSQL keeps no NUL)."""


def _texts(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value, *value.values()]
    return list(value) if isinstance(value, list | tuple) else [value]


def _printable(value: Any) -> Any:
    """`value` (a text, or a list or mapping of them) unless some text in it holds a control character."""
    if any(isinstance(t, str) and CONTROL_CHARACTERS.search(t) for t in _texts(value)):
        raise PydanticCustomError("characters", "must not contain control characters (such as NUL)")
    return value


Text = Annotated[str, AfterValidator(_printable)]
"""A text query or path parameter: no control characters (a 422 `characters`)."""


class CatalogIn(StrictModel):
    """A request body of catalog: unknown fields are refused, and so is a control character in any text."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return value if isinstance(value, BaseModel) else _printable(value)


def _declared_query(dependant: Dependant) -> set[str]:
    """The query parameters of a route, its dependencies' included (a handful: read on every request)."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query(sub)
    return names


async def _refuse_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _declared_query(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        takes = f"this path takes {', '.join(sorted(known))}" if known else "this path takes none"
        raise InvalidInput(*(Violation(name, "extra_forbidden", f"not a query parameter: {takes}") for name in unknown))


StrictQuery = Annotated[None, Depends(_refuse_unknown_query)]
"""Declared by every route that takes query parameters, after the caller's dependency (so that a 401 or 403 comes
first): a query parameter the route does not take is a 422 naming it. A typo would otherwise be
ignored — a search with `digcomp=5` would answer every programme."""


def _refuse_partners(principal: Principal) -> Principal:
    if principal.has_any((roles.PARTNER,)):
        raise Forbidden("partner systems have no provider or learner actions: they follow the public events")
    return principal


async def _person(principal: CurrentUser) -> Principal:
    return _refuse_partners(principal)


def _register_reader(
    principal: Annotated[Principal, Depends(require_role(*roles.AGENCY, *roles.PROVIDER))],
) -> Principal:
    return _refuse_partners(principal)


PERSONS = frozenset(roles.ROLES - {roles.PARTNER})
_person.allowed_roles = PERSONS  # type: ignore[attr-defined]  # the access rule, as `auth.access_rule` reads it
_register_reader.allowed_roles = frozenset(roles.AGENCY + roles.PROVIDER)  # type: ignore[attr-defined]

Person = Annotated[Principal, Depends(_person)]
"""A signed-in person (learner, provider or agency staff): partner systems are machine clients and are refused."""
Agency = Annotated[Principal, Depends(require_role(*roles.AGENCY))]
"""Agency staff (officer or admin): approvals, any programme, any document."""
AgencyAdmin = Annotated[Principal, Depends(require_role(*roles.AGENCY_ADMINS))]
RegisterReader = Annotated[Principal, Depends(_register_reader)]


def is_agency(principal: Principal) -> bool:
    return principal.has_any(roles.AGENCY)


def _bearer_token(request: Request, _: Person) -> str:
    """The caller's own token, forwarded to the identity provider (who decides what it answers them)."""
    return request.headers.get("authorization", "").partition(" ")[2].strip()


def _adapters(context: ContextDep) -> CatalogAdapters:
    adapters: CatalogAdapters = context.adapters
    return adapters


def _registers(adapters: Annotated[CatalogAdapters, Depends(_adapters)]) -> Registers:
    return adapters.registers


def _directory(adapters: Annotated[CatalogAdapters, Depends(_adapters)]) -> Directory:
    return adapters.directory


def _settings(context: ContextDep) -> CatalogSettings:
    settings: CatalogSettings = context.settings  # type: ignore[assignment]
    return settings


BearerToken = Annotated[str, Depends(_bearer_token)]
RegistersDep = Annotated[Registers, Depends(_registers)]
DirectoryDep = Annotated[Directory, Depends(_directory)]
SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
