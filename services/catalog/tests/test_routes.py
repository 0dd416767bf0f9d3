"""The catalog's routes as a whole: one prefix (the service's routes start at its root, the gateway adds
`/api/catalog`), and partner systems, being machine clients, get no provider or learner action."""

from __future__ import annotations

import re
import uuid

from catalog.api import ROUTERS
from fastapi.routing import APIRoute
from prasmes_testing import samples

from .conftest import API, Catalog

PATH_VALUES = {"register_number": samples.GOOD_REGISTER_NUMBER, "user_id": "peteris"}


def _routes() -> list[tuple[str, str, bool]]:
    """(method, path, public) of every catalog route."""
    found = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            public = (route.openapi_extra or {}).get("security") == []
            found += [(method, route.path, public) for method in sorted(route.methods or ())]
    return found


def _filled(path: str, institution_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return institution_id if name == "institution_id" else PATH_VALUES.get(name, str(uuid.uuid4()))

    return re.sub(r"\{(\w+)\}", value, path)


async def test_the_service_routes_start_at_its_root(catalog: Catalog) -> None:
    paths = {path for _, path, _ in _routes()}
    assert {"/providers", "/programmes/{programme_id}", "/public/programmes", "/documents", "/coefficients"} <= paths
    assert {"/registers/institutions/{register_number}"} <= paths
    assert not [p for p in paths if p.startswith("/catalog")]
    assert (await catalog.client.get("/public/programmes")).status_code == 200
    assert (await catalog.client.get("/catalog/public/programmes")).status_code == 404
    documented = (await catalog.client.get("/openapi.json")).json()["paths"]
    assert "/public/programmes" in documented and not [p for p in documented if p.startswith("/catalog")]


async def test_partners_get_no_provider_or_learner_action(catalog: Catalog) -> None:
    institution_id = await catalog.approved_institution("liga")
    partners = {
        "partner": catalog.user("partner-nva", "partner"),
        "partner with a provider role": catalog.user("partner-x", "partner", "provider_admin"),
    }
    for who, headers in partners.items():
        for method, path, public in _routes():
            if public:
                continue
            response = await catalog.client.request(
                method, _filled(path, institution_id), headers=headers, params={"purpose": "statement"}
            )
            assert response.status_code == 403, (who, method, path, response.text)


async def test_a_partner_cannot_register_an_institution_and_become_its_admin(catalog: Catalog) -> None:
    partner = catalog.user("partner-nva", "partner")
    upload = await catalog.client.post(
        f"{API}/documents",
        params={"purpose": "statement", "filename": "apliecinajums.edoc"},
        content=samples.asice_container(),
        headers=partner,
    )
    assert upload.status_code == 403
    statement = await catalog.upload("liga", "statement", samples.asice_container(), "apliecinajums.edoc")
    payload = samples.registration_payload(statement.json()["id"])
    registered = await catalog.client.post(f"{API}/providers", json=payload, headers=partner)
    assert registered.status_code == 403
    assert registered.json()["error"] == "forbidden"
    assert (await catalog.client.get(f"{API}/providers/me", headers=partner)).status_code == 403
    # The registrant is untouched: the statement is still theirs to use.
    assert (await catalog.register("liga")).status_code == 201
    # Partners still read what the public reads.
    assert (await catalog.client.get(f"{API}/public/programmes", headers=partner)).status_code == 200
