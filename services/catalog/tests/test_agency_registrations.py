"""The agency's list of registrations: paged, oldest first, each with what the register says of it now and what the
signature check found in its statement."""

from __future__ import annotations

from datetime import UTC, datetime

from .conftest import API, Catalog


async def test_registrations_are_paged_with_the_register_and_the_signature_checks(catalog: Catalog) -> None:
    officer = catalog.user("ilze", "agency_officer")
    catalog.clock.at = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
    first = (await catalog.register("liga")).json()
    catalog.clock.at = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    second = (await catalog.register("karlis", "3360800005")).json()

    page = await catalog.client.get(f"{API}/providers", params={"status": "pending", "limit": 1}, headers=officer)
    assert page.status_code == 200, page.text
    assert page.headers["X-Total-Count"] == "2"
    (oldest,) = page.json()
    assert oldest["id"] == first["id"]
    assert oldest["register_check"] == {
        "listed": True,
        "registered_name": "Rīgas Datorikas mācību centrs",
        "name_matches": True,
        "registration_date": oldest["register_check"]["registration_date"],
        "accredited": oldest["register_check"]["accredited"],
    }
    statement = oldest["statement"]
    assert statement["id"] == first["statement_document_id"]
    assert statement["signatures"] >= 1 and statement["timestamps"] >= 1 and statement["format"] == "asice"

    rest = await catalog.client.get(
        f"{API}/providers", params={"status": "pending", "limit": 1, "offset": 1}, headers=officer
    )
    assert [r["id"] for r in rest.json()] == [second["id"]] and rest.headers["X-Total-Count"] == "2"
    every = await catalog.client.get(f"{API}/providers", headers=officer)
    assert [r["id"] for r in every.json()] == [first["id"], second["id"]]  # without limit: every one, as before

    await catalog.client.post(f"{API}/providers/{first['id']}/approve", headers=officer)
    pending = await catalog.client.get(f"{API}/providers", params={"status": "pending"}, headers=officer)
    assert [r["id"] for r in pending.json()] == [second["id"]] and pending.headers["X-Total-Count"] == "1"
    refused = await catalog.client.get(f"{API}/providers", params={"limit": 0}, headers=officer)
    assert refused.status_code == 422
