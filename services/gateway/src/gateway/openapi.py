"""One OpenAPI 3.1 document for the whole platform: the gateway's routes plus every service's, prefixed."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from fastapi import APIRouter, Request

from gateway.proxy import METHODS
from gateway.settings import replica_urls

Json = dict[str, Any]
Clock = Callable[[], float]
BEARER = "bearerAuth"
OPERATIONS = frozenset(m.lower() for m in [*METHODS, "TRACE"])

router = APIRouter()


def merge(own: Json, services: Mapping[str, Json], unavailable: list[str]) -> Json:
    """The gateway's own document with each service's paths and components folded in."""
    merged = copy.deepcopy(own)
    merged["openapi"] = "3.1.0"
    merged.setdefault("info", {})["x-unavailable"] = sorted(unavailable)
    components = merged.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    merged["security"] = [{BEARER: []}]
    tags: list[Json] = merged.setdefault("tags", [])
    for service, document in sorted(services.items()):
        _fold_in(merged, service, rename_components(service, document))
        tags.append({"name": service, "description": str(document.get("info", {}).get("title", service))})
    return merged


def rename_components(service: str, document: Json) -> Json:
    """Prefixes every component name with `<service>__` and rewrites the references to match."""
    renamed: Json = _rewrite_refs(document, service)
    renamed["components"] = {
        kind: {f"{service}__{name}": item for name, item in items.items()}
        for kind, items in renamed.get("components", {}).items()
        if kind != "securitySchemes"  # the gateway's bearer scheme replaces the services' own
    }
    return renamed


def _rewrite_refs(node: Any, service: str) -> Any:
    if isinstance(node, list):
        return [_rewrite_refs(item, service) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite_refs(value, service) for key, value in node.items()}
    if isinstance(out.get("$ref"), str):
        out["$ref"] = _renamed_ref(out["$ref"], service)
    discriminator = out.get("discriminator")
    if isinstance(discriminator, dict) and isinstance(discriminator.get("mapping"), dict):
        mapping = {key: _renamed_ref(str(ref), service) for key, ref in discriminator["mapping"].items()}
        out["discriminator"] = {**discriminator, "mapping": mapping}
    return out


def _renamed_ref(ref: str, service: str) -> str:
    parts = ref.split("/", 3)
    if len(parts) != 4 or parts[:2] != ["#", "components"]:
        return ref
    return f"#/components/{parts[2]}/{service}__{parts[3]}"


def _fold_in(merged: Json, service: str, document: Json) -> None:
    for path, item in document.get("paths", {}).items():
        merged.setdefault("paths", {})[f"/api/{service}{path}"] = _tagged(item, service)
    for kind, items in document.get("components", {}).items():
        merged["components"].setdefault(kind, {}).update(items)


def _tagged(path_item: Json, service: str) -> Json:
    item = dict(path_item)
    for method in OPERATIONS.intersection(item):
        operation = dict(item[method])
        operation["tags"] = [service]
        if "operationId" in operation:
            operation["operationId"] = f"{service}__{operation['operationId']}"
        if operation.get("security"):
            operation["security"] = [{BEARER: []}]
        item[method] = operation
    return item


class MergedOpenApi:
    """Fetches the services' documents concurrently and keeps the merged result for `ttl` seconds."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        service_urls: Mapping[str, str | Sequence[str]],
        own: Callable[[], Json],
        *,
        timeout: float = 3.0,
        ttl: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._client = client
        self._service_urls = {name: replica_urls(urls) for name, urls in service_urls.items()}
        self._own = own
        self._timeout = timeout
        self._ttl = ttl
        self._clock = clock
        self._cached: tuple[float, Json] | None = None
        self._lock = asyncio.Lock()

    async def document(self) -> Json:
        async with self._lock:  # one refresh at a time; the waiters then find it cached
            if self._cached is None or self._clock() - self._cached[0] >= self._ttl:
                self._cached = (self._clock(), await self._build())
            return self._cached[1]

    async def _build(self) -> Json:
        names = sorted(self._service_urls)
        fetched = await asyncio.gather(*(self._fetch(name) for name in names))
        documents = {name: doc for name, doc in zip(names, fetched, strict=True) if doc is not None}
        unavailable = [name for name in names if name not in documents]
        return merge(self._own(), documents, unavailable)

    async def _fetch(self, service: str) -> Json | None:
        """The service's document from the first of its replicas that gives one (they run the same code)."""
        for base in self._service_urls[service]:
            document = await self._fetch_from(base)
            if document is not None:
                return document
        return None

    async def _fetch_from(self, base: str) -> Json | None:
        try:
            response = await self._client.get(f"{base.rstrip('/')}/openapi.json", timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        return document if isinstance(document, dict) else None


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> Json:
    merged: MergedOpenApi = request.app.state.openapi
    return await merged.document()
