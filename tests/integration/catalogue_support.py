"""What the integration tests that start in catalog share: a call through a service's HTTP API that must succeed,
and Līga's institution, approved by Ilze, with its Rīga location and a programme, made through catalog's API."""

from __future__ import annotations

from typing import Any

from prasmes_testing import samples
from prasmes_testing.harness import ServiceHarness

Who = tuple[str, str]
"""(subject, role) of a token."""
LIGA: Who = ("liga", "provider_admin")
ILZE: Who = ("ilze", "agency_officer")


async def ok(svc: ServiceHarness, method: str, path: str, who: Who, **kw: Any) -> Any:
    """The JSON answer of a call that must succeed."""
    response = await svc.client.request(method, path, headers={**svc.as_(*who), **kw.pop("headers", {})}, **kw)
    assert response.is_success, f"{method} {path}: {response.text}"
    return response.json()


async def institution_with_a_programme(catalog: ServiceHarness) -> tuple[str, dict[str, Any]]:
    """In catalog: Līga's institution, approved by Ilze, with its Rīga location and a programme (a draft)."""
    upload = {"content": samples.asice_container(), "headers": {"Content-Type": "application/octet-stream"}}
    statement = await ok(
        catalog, "POST", "/documents", LIGA, params={"purpose": "statement", "filename": "a.edoc"}, **upload
    )
    institution = await ok(catalog, "POST", "/providers", LIGA, json=samples.registration_payload(statement["id"]))
    await ok(catalog, "POST", f"/providers/{institution['id']}/approve", ILZE)
    base = f"/providers/{institution['id']}"
    location = await ok(
        catalog, "POST", f"{base}/locations", LIGA, json={"address": "Brīvības iela 100, Rīga, LV-1001"}
    )
    curriculum = await ok(
        catalog,
        "POST",
        "/documents",
        LIGA,
        params={"purpose": "curriculum", "filename": "p.pdf"},
        content=samples.plain_pdf(),
        headers={"Content-Type": "application/octet-stream"},
    )
    payload = samples.programme_payload([location["id"]], curriculum["id"])
    programme = await ok(catalog, "POST", f"{base}/programmes", LIGA, json=payload)
    return institution["id"], programme
