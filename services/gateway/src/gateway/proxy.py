"""`/api/{service}/{path}`: forwards a request to the owning service and passes its answer back.

Only the API: a service's internal endpoints (`prasmes_runtime.http.INTERNAL_PATHS`: its probes, its metrics, its
own docs and OpenAPI document) answer a 404 here, as an unknown route does, whatever the method or the encoding of
the path. The merged document at the gateway's /openapi.json reads each service's directly, not through here."""

from __future__ import annotations

from urllib.parse import quote, unquote

import httpx
from fastapi import APIRouter, Request, Response
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from prasmes_runtime.errors import DomainError, NotFound
from prasmes_runtime.http import INTERNAL_PATHS, NOTHING_HERE, REQUEST_ID, request_id_of
from prasmes_runtime.logging import get_logger

from gateway.settings import GatewaySettings

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
FORWARDED_HEADERS = frozenset(
    {
        "authorization",
        "content-type",
        "content-encoding",
        "accept",
        "accept-language",
        "accept-encoding",
        "if-match",
        "if-none-match",
    }
)
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The gateway's server writes its own; the upstream's would be duplicates.
OWN_RESPONSE_HEADERS = frozenset({"date", "server", "content-length"})
_PCHAR_SAFE = "/:@!$&'()*+,;=-._~"

log = get_logger(__name__)
router = APIRouter()


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service

    def body(self) -> dict[str, str]:
        return {"error": self.code, "service": self.service, "message": self.message}


def build_upstream_client(settings: GatewaySettings) -> httpx.AsyncClient:
    """One keep-alive pool for all upstream calls, sized for about 200 requests in flight."""
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.upstream_timeout, connect=min(5.0, settings.upstream_timeout)),
        # Shorter than the services' keep-alive (devstack: 75 s; uvicorn's default 5 s is too short for a pool),
        # so the gateway never sends on a connection the service has just closed.
        limits=httpx.Limits(max_connections=256, max_keepalive_connections=200, keepalive_expiry=60),
        trust_env=False,  # upstreams are internal: never route them through an HTTP(S)_PROXY
        headers={"user-agent": "prasmes-gateway"},
    )
    HTTPXClientInstrumentor.instrument_client(client)
    return client


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
async def proxy(service: str, path: str, request: Request) -> Response:
    settings: GatewaySettings = request.app.state.settings
    base = settings.service_urls.get(service)
    if base is None:
        raise NotFound(f"unknown service {service!r}")
    url = _upstream_url(base, request, service, path)
    body = await _read_body(request, settings.max_body_bytes)
    client: httpx.AsyncClient = request.app.state.upstream_client
    outgoing = client.build_request(request.method, url, headers=_forward_headers(request), content=body or None)
    status, headers, content = await _exchange(client, outgoing, service)
    return _response(status, headers, content, head=request.method == "HEAD")


def _upstream_url(base: str, request: Request, service: str, path: str) -> str:
    rest = _raw_rest(request, service) or quote(path, safe=_PCHAR_SAFE)
    if any(unquote(segment) in (".", "..") for segment in rest.split("/")):
        raise NotFound("dot segments are not allowed in a service path")
    if is_internal(rest) or is_internal(path):
        raise NotFound(NOTHING_HERE)
    url = f"{base.rstrip('/')}/{rest}"
    query = request.scope.get("query_string", b"")
    return f"{url}?{query.decode('latin-1')}" if query else url


def is_internal(rest: str) -> bool:
    """Whether a service path (as sent, maybe percent-encoded) names one of the services' internal endpoints.
    Compared on its first non-empty segment, decoded and in any case: `metrics`, `/metrics/`, `%6Detrics`, `METRICS`
    are all refused (an upstream would route some of them to the endpoint, and none of them is API)."""
    first = next((segment for segment in unquote(rest).split("/") if segment), "")
    return first.lower() in INTERNAL_PATHS


def _raw_rest(request: Request, service: str) -> str | None:
    """The path after /api/<service>/ exactly as the client encoded it (keeps %2F inside a segment)."""
    raw: bytes | None = request.scope.get("raw_path")
    if not raw:
        return None
    parts = raw.decode("latin-1").split("/", 3)
    if len(parts) != 4 or unquote(parts[2]) != service:
        return None
    return parts[3]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _forward_headers(request: Request) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in request.headers.items() if k in FORWARDED_HEADERS and k != REQUEST_ID]
    if "accept-encoding" not in request.headers:
        # The body goes back byte for byte, so the upstream may only compress what the client accepts.
        headers.append(("accept-encoding", "identity"))
    headers.append((REQUEST_ID, request_id(request)))
    return headers


def request_id(request: Request) -> str:
    """The id the runtime's request middleware answers with, so that the upstream logs the same one."""
    return request_id_of(request)


async def _exchange(
    client: httpx.AsyncClient, outgoing: httpx.Request, service: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    try:
        upstream = await client.send(outgoing, stream=True)
        try:
            # Raw: the body keeps its content-encoding, which is passed back unchanged.
            content = b"".join([chunk async for chunk in upstream.aiter_raw()])
        finally:
            await upstream.aclose()
    except httpx.TransportError as exc:
        log.warning("proxy.upstream_unavailable", upstream=service, error=type(exc).__name__)
        raise ServiceUnavailable(service, f"service {service} is unavailable ({type(exc).__name__})") from exc
    return upstream.status_code, upstream.headers.raw, content


def _response(status: int, upstream_headers: list[tuple[bytes, bytes]], content: bytes, *, head: bool) -> Response:
    response = Response(content=content, status_code=status)
    drop = HOP_BY_HOP | _connection_tokens(upstream_headers) | OWN_RESPONSE_HEADERS
    if head:
        drop -= {"content-length"}  # a HEAD answer describes the body it did not send
    kept = [(k.lower(), v) for k, v in upstream_headers if k.lower().decode("latin-1") not in drop]
    computed = [] if head else [(k, v) for k, v in response.raw_headers if k == b"content-length"]
    response.raw_headers = kept + computed
    return response


def _connection_tokens(headers: list[tuple[bytes, bytes]]) -> set[str]:
    values = [v.decode("latin-1") for k, v in headers if k.lower() == b"connection"]
    return {token.strip().lower() for value in values for token in value.split(",") if token.strip()}
