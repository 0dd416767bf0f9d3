"""Demo data through the gateway, as clients would enter it (called from devstack's seed).

Līga registers Rīgas Datorikas mācību centrs with a signed statement, Ilze approves it, Līga adds the
Rīga location and registers the programme "Datu analīze ar Python" (a draft: the signed agreement of
calls' demonstration call publishes it, see devstack's seed). Safe to run again: what exists already is
found and reused.
"""

from __future__ import annotations

from typing import Any

import httpx
from prasmes_testing import samples

API = "/api/catalog"


def _login(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/auth/dev-login", json={"username": username})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _upload(client: httpx.Client, headers: dict[str, str], purpose: str, content: bytes, filename: str) -> str:
    response = client.post(
        f"{API}/documents",
        params={"purpose": purpose, "filename": filename},
        content=content,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    response.raise_for_status()
    document_id: str = response.json()["id"]
    return document_id


def _institution(client: httpx.Client, liga: dict[str, str]) -> dict[str, Any]:
    mine = client.get(f"{API}/providers/me", headers=liga)
    if mine.status_code == 200:
        institution: dict[str, Any] = mine.json()["institution"]
        return institution
    statement = _upload(client, liga, "statement", samples.asice_container(), "apliecinajums.edoc")
    registered = client.post(f"{API}/providers", json=samples.registration_payload(statement), headers=liga)
    registered.raise_for_status()
    created: dict[str, Any] = registered.json()
    return created


def _location(client: httpx.Client, liga: dict[str, str], institution_id: str) -> str:
    base = f"{API}/providers/{institution_id}/locations"
    added = client.post(base, json={"address": "Brīvības iela 100, Rīga, LV-1001"}, headers=liga)
    if added.status_code == 409:
        location_id: str = added.json()["current"]["location_id"]
        return location_id
    added.raise_for_status()
    created: str = added.json()["id"]
    return created


def seed_demo(client: httpx.Client) -> dict[str, Any]:
    """`client` points at the gateway. Returns the ids it created or found."""
    liga, ilze = _login(client, "liga"), _login(client, "ilze")
    institution = _institution(client, liga)
    institution_id = institution["id"]
    if institution["status"] == "pending":
        approved = client.post(f"{API}/providers/{institution_id}/approve", headers=ilze)
        if approved.status_code != 409:
            approved.raise_for_status()
    location_id = _location(client, liga, institution_id)
    programmes = client.get(f"{API}/providers/{institution_id}/programmes", headers=liga)
    programmes.raise_for_status()
    if programmes.json():
        return {"institution_id": institution_id, "programme_id": programmes.json()[0]["id"]}
    curriculum = _upload(client, liga, "curriculum", samples.plain_pdf(), "macibu-plans.pdf")
    payload = samples.programme_payload([location_id], curriculum)
    programme = client.post(f"{API}/providers/{institution_id}/programmes", json=payload, headers=liga)
    programme.raise_for_status()
    return {"institution_id": institution_id, "programme_id": programme.json()["id"]}
