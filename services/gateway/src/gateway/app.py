"""The gateway's composition root: settings, identity (with the OpenID Connect provider), limiter, proxy, merged
OpenAPI, telemetry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence

import httpx
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.utils import suppress_http_instrumentation
from prasmes_runtime.auth import TokenVerifier
from prasmes_runtime.docs import install_docs
from prasmes_runtime.http import UNTRACED_URLS, ReadinessCheck, install_common
from prasmes_runtime.logging import configure_logging
from prasmes_runtime.service import settle_heap, settled
from prasmes_runtime.telemetry import configure_tracing

from gateway import directory, identity, oidc, oidc_provider, openapi, proxy, service_tokens
from gateway.ratelimit import ClientKey, RateLimitMiddleware, TokenBucketLimiter
from gateway.settings import GatewaySettings

HEALTH_TIMEOUT = 2.0
RATE_LIMITED = ("/api/", "/auth/", "/oidc/")


# Anchored: the services' own /healthz behind /api/<service>/ is still traced.
def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    traced = configure_tracing(settings) is not None
    issuer = identity.build_issuer(settings)
    client = proxy.build_upstream_client(settings)
    upstreams = proxy.Upstreams.of(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settle_heap(app)
        yield
        await upstreams.pool.aclose()
        await client.aclose()

    # The framework's own /openapi.json and /docs are replaced by the merged document's, served without a CDN.
    app = FastAPI(
        title="Prasmes API", version="0.1.0", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.token_issuer = issuer
    app.state.token_verifier = TokenVerifier(
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks=issuer.jwks()
    )
    app.state.oidc = oidc_provider.build(settings, issuer)
    app.state.upstream_client = client
    app.state.upstreams = upstreams
    app.state.openapi = openapi.MergedOpenApi(
        client,
        settings.service_replicas(),
        app.openapi,
        timeout=settings.openapi_timeout,
        ttl=settings.openapi_cache_seconds,
    )
    app.state.limiter = TokenBucketLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    # Added before install_common, so it runs inside the request-id middleware: a 429 gets an id too.
    app.add_middleware(
        RateLimitMiddleware,
        limiter=app.state.limiter,
        client_key=ClientKey(settings.trusted_proxies),
        prefixes=RATE_LIMITED,
    )
    install_common(app, upstream_readiness(client, settings.service_replicas()), settings)
    install_docs(app, title=f"{app.title} — API")  # over the merged document at /openapi.json
    app.router.routes.insert(0, proxy.ProxyRoute())
    for router in (identity.router, oidc.router, service_tokens.router, directory.router, openapi.router):
        app.include_router(router)
    if traced:  # no instrumentation when no span would be recorded; install_common still continues a caller's trace
        FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_URLS)
        HTTPXClientInstrumentor.instrument_client(client)  # the proxy's own client spans: proxy._exchange
    return app


def app_factory() -> FastAPI:
    """For `uvicorn --factory gateway.app:app_factory`: settings are read when the server starts."""
    return settled(create_app())


def upstream_readiness(client: httpx.AsyncClient, service_urls: Mapping[str, Sequence[str]]) -> ReadinessCheck:
    """Each upstream replica's /healthz: a service is "ok" when every replica answers. The gateway stays ready while
    any replica of any service answers: the runtime's /readyz accepts only "ok" and "degraded", so a service with a
    replica down (or all of them) is "degraded" unless nothing answers at all ("unreachable")."""
    probes = [(name, url) for name in sorted(service_urls) for url in service_urls[name]]

    async def readiness() -> dict[str, str]:
        answers = await asyncio.gather(*(_healthy(client, url) for _, url in probes))
        down = "degraded" if any(answers) else "unreachable"
        checks = dict.fromkeys(sorted(service_urls), "ok")
        for (name, _), healthy in zip(probes, answers, strict=True):
            if not healthy:
                checks[name] = down
        return checks

    return readiness


async def _healthy(client: httpx.AsyncClient, base: str) -> bool:
    try:
        # Probes every few seconds would each start a trace of their own: noise, not signal.
        with suppress_http_instrumentation():
            response = await client.get(f"{base.rstrip('/')}/healthz", timeout=HEALTH_TIMEOUT)
    except httpx.HTTPError:
        return False
    return response.is_success
