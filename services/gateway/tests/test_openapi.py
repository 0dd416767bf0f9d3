"""The merged OpenAPI document."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from gateway.openapi import MergedOpenApi, merge, rename_components

SERVICE_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Catalog", "version": "1"},
    "paths": {
        "/programmes": {
            "parameters": [{"$ref": "#/components/parameters/Page"}],
            "get": {
                "operationId": "list_programmes",
                "tags": ["programmes"],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Programme"}}
                            }
                        }
                    }
                },
            },
            "post": {
                "operationId": "create_programme",
                "security": [{"HTTPBearer": []}],
                "requestBody": {"$ref": "#/components/requestBodies/NewProgramme"},
                "responses": {"201": {"description": "created"}},
            },
        },
    },
    "components": {
        "schemas": {
            "Programme": {
                "type": "object",
                "properties": {
                    "kind": {"$ref": "#/components/schemas/Kind"},
                    "$ref": {"type": "string"},
                },
            },
            "Kind": {
                "oneOf": [{"$ref": "#/components/schemas/Kind~1Short"}],
                "discriminator": {"propertyName": "t", "mapping": {"s": "#/components/schemas/Kind~1Short"}},
            },
            "Kind/Short": {"type": "object"},
        },
        "parameters": {"Page": {"name": "page", "in": "query", "schema": {"type": "integer"}}},
        "requestBodies": {
            "NewProgramme": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Programme"}}}}
        },
        "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
    },
}
OWN: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Prasmes API", "version": "0.1.0"},
    "paths": {"/auth/me": {"get": {"responses": {}}}},
}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        discriminator = node.get("discriminator")
        if isinstance(discriminator, dict):
            yield from discriminator.get("mapping", {}).values()
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolves(document: dict[str, Any], ref: str) -> bool:
    _, _, kind, name = ref.split("/", 3)
    return name.replace("~1", "/").replace("~0", "~") in document["components"][kind]


def test_components_are_renamed_and_every_ref_follows() -> None:
    renamed = rename_components("catalog", SERVICE_DOCUMENT)

    assert set(renamed["components"]["schemas"]) == {"catalog__Programme", "catalog__Kind", "catalog__Kind/Short"}
    assert "securitySchemes" not in renamed["components"]
    assert all(ref.startswith("#/components/") and "/catalog__" in ref for ref in refs(renamed))
    assert all(resolves(renamed, ref) for ref in refs(renamed))
    programme = renamed["components"]["schemas"]["catalog__Programme"]
    assert programme["properties"]["$ref"] == {"type": "string"}  # a property named $ref is not a reference
    assert SERVICE_DOCUMENT["components"]["schemas"]["Programme"]["properties"]["kind"] == {
        "$ref": "#/components/schemas/Kind"
    }  # the input is left alone


def test_merge_prefixes_paths_tags_operations_and_sets_bearer_auth() -> None:
    merged = merge(OWN, {"catalog": SERVICE_DOCUMENT}, ["surveys"])

    assert set(merged["paths"]) == {"/auth/me", "/api/catalog/programmes"}
    item = merged["paths"]["/api/catalog/programmes"]
    assert item["get"]["tags"] == ["catalog"] and item["post"]["tags"] == ["catalog"]
    assert item["get"]["operationId"] == "catalog__list_programmes"
    assert item["post"]["security"] == [{"bearerAuth": []}]
    assert item["parameters"] == [{"$ref": "#/components/parameters/catalog__Page"}]
    assert merged["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    assert merged["security"] == [{"bearerAuth": []}]
    assert merged["info"]["x-unavailable"] == ["surveys"]
    assert {"name": "catalog", "description": "Catalog"} in merged["tags"]
    assert all(resolves(merged, ref) for ref in refs(merged))
    assert "components" not in OWN


async def test_the_gateway_serves_the_merged_document(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/openapi.json")

    document = response.json()
    assert response.status_code == 200
    assert document["openapi"].startswith("3.1")
    assert {
        "/api/echo/programmes",
        "/api/echo/programmes/{programme_id}",
        "/auth/dev-login",
        "/auth/me",
        "/.well-known/jwks.json",
    } <= set(document["paths"])
    assert not any(path.startswith("/api/{service}") for path in document["paths"])
    schemas = document["components"]["schemas"]
    assert {"echo__Programme", "echo__Tag"} <= set(schemas)
    tags = schemas["echo__Programme"]["properties"]["tags"]
    assert tags["items"] == {"$ref": "#/components/schemas/echo__Tag"}
    assert all(resolves(document, ref) for ref in refs(document))
    assert document["paths"]["/api/echo/programmes"]["post"]["tags"] == ["echo"]
    assert document["paths"]["/auth/dev-login"]["post"]["security"] == []
    assert document["info"]["x-unavailable"] == ["down"]


async def test_the_merged_document_survives_every_service_being_down(make_gateway: Callable[..., Any]) -> None:
    _, client = make_gateway(service_urls={"accounts": "http://127.0.0.1:9"})

    document = (await client.get("/openapi.json")).json()

    assert document["info"]["x-unavailable"] == ["accounts"]
    assert "/auth/me" in document["paths"]


async def test_docs_point_at_the_merged_document(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/docs")

    assert response.status_code == 200
    assert "/openapi.json" in response.text


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_documents_are_fetched_concurrently_and_cached() -> None:
    hits: list[str] = []
    both_asked = asyncio.Barrier(2)

    async def answer(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.host)
        await asyncio.wait_for(both_asked.wait(), timeout=5)  # only passes when asked side by side
        if request.url.host == "broken":
            return httpx.Response(500)
        return httpx.Response(200, json=SERVICE_DOCUMENT)

    clock = Clock()
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        merged = MergedOpenApi(
            client, {"catalog": "http://catalog", "calls": "http://broken"}, lambda: dict(OWN), ttl=30, clock=clock
        )
        first = await merged.document()
        clock.now = 29
        second = await merged.document()
        clock.now = 30
        await merged.document()

    assert first is second
    assert first["info"]["x-unavailable"] == ["calls"]
    assert "/api/catalog/programmes" in first["paths"]
    assert sorted(hits) == ["broken", "broken", "catalog", "catalog"]


def test_own_document_is_the_gateway_app(gateway_app: FastAPI) -> None:
    own = gateway_app.openapi()

    assert "/auth/me" in own["paths"]
    assert not any(p.startswith("/api/") for p in own["paths"])
