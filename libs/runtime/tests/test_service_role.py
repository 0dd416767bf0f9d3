"""The `service` role: a platform service's token is let in only by the routes that name the role, and refused
(403) by every other route: a learner's, a person's action, any signed-in caller's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from prasmes_runtime import roles
from prasmes_runtime.auth import (
    SERVICE_REFUSED,
    CurrentUser,
    Principal,
    TokenIssuer,
    TokenVerifier,
    access_rule,
    authenticated,
    require_person,
    require_role,
)
from prasmes_runtime.http import install_error_handlers

Learner = Annotated[Principal, Depends(require_role(roles.LEARNER))]
Person = Annotated[Principal, Depends(require_person())]
Staff = Annotated[Principal, Depends(require_person(*roles.AGENCY))]
StaffOrService = Annotated[Principal, Depends(require_role(*roles.AGENCY, roles.SERVICE))]


def _app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/learner")
    async def learner(user: Learner) -> dict[str, str]:
        return {"subject": user.subject}

    @app.get("/person")
    async def person(user: Person) -> dict[str, str]:
        return {"subject": user.subject}

    @app.get("/staff")
    async def staff(user: Staff) -> dict[str, str]:
        return {"subject": user.subject}

    @app.get("/anyone")
    async def anyone(user: CurrentUser) -> dict[str, str]:
        return {"subject": user.subject}

    @app.get("/contact")
    async def contact(user: StaffOrService) -> dict[str, str]:
        return {"subject": user.subject}

    return app


@pytest.fixture
async def client(token_verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(token_verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as c:
        yield c


def _as(issuer: TokenIssuer, subject: str, *held: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.issue(subject, held)}"}


async def test_a_service_token_is_refused_by_every_route_that_does_not_name_the_role(
    client: httpx.AsyncClient, token_issuer: TokenIssuer
) -> None:
    service = _as(token_issuer, "service:notifications", roles.SERVICE)
    for path in ("/learner", "/person", "/staff", "/anyone"):
        refused = await client.get(path, headers=service)
        assert refused.status_code == 403, path
        assert refused.json()["error"] == "forbidden"
    assert (await client.get("/anyone", headers=service)).json()["message"] == SERVICE_REFUSED
    allowed = await client.get("/contact", headers=service)
    assert allowed.status_code == 200 and allowed.json() == {"subject": "service:notifications"}


async def test_a_token_holding_service_with_a_persons_role_is_still_no_person(
    client: httpx.AsyncClient, token_issuer: TokenIssuer
) -> None:
    """The identity provider never issues such a token; were one signed, it would act as a service only."""
    mixed = _as(token_issuer, "service:odd", roles.SERVICE, roles.LEARNER, roles.AGENCY_ADMIN)
    for path in ("/learner", "/person", "/staff", "/anyone"):
        assert (await client.get(path, headers=mixed)).status_code == 403, path
    assert (await client.get("/contact", headers=mixed)).status_code == 200


async def test_people_keep_their_routes_and_are_not_let_in_by_the_service_role(
    client: httpx.AsyncClient, token_issuer: TokenIssuer
) -> None:
    learner = _as(token_issuer, "anna", roles.LEARNER)
    assert (await client.get("/learner", headers=learner)).status_code == 200
    assert (await client.get("/person", headers=learner)).status_code == 200
    assert (await client.get("/anyone", headers=learner)).status_code == 200
    assert (await client.get("/contact", headers=learner)).status_code == 403
    officer = _as(token_issuer, "ilze", roles.AGENCY_OFFICER)
    assert (await client.get("/contact", headers=officer)).status_code == 200
    assert (await client.get("/contact")).status_code == 401


def test_the_declared_rules_leave_the_service_role_out_unless_named() -> None:
    assert roles.SERVICE in roles.ROLES
    assert access_rule(authenticated) == roles.ROLES - {roles.SERVICE}
    assert access_rule(require_person()) == roles.ROLES - {roles.SERVICE, roles.PARTNER}
    assert access_rule(require_role(roles.LEARNER)) == {roles.LEARNER}
    assert access_rule(require_role(*roles.AGENCY, roles.SERVICE)) == {*roles.AGENCY, roles.SERVICE}
    with pytest.raises(AssertionError, match="platform services"):
        require_person(roles.SERVICE)
