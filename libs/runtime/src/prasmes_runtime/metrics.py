"""Prometheus metrics of a service process, served at /metrics."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

http_requests = Counter("prasmes_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
http_latency = Histogram("prasmes_http_request_duration_seconds", "HTTP request duration", ["method", "route"])
outbox_pending = Gauge("prasmes_outbox_pending", "Outbox rows not yet published (relay lag, rows)")
outbox_oldest_age = Gauge(
    "prasmes_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox row (relay lag, time)"
)
events_published = Counter("prasmes_events_published_total", "Events the relay published", ["topic"])
consumer_lag = Gauge("prasmes_consumer_lag", "Records on the bus not yet consumed", ["consumer", "topic", "partition"])
events_consumed = Counter("prasmes_events_consumed_total", "Events consumed", ["consumer", "type", "outcome"])


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # a scrape every few seconds is no news


def _metrics_only(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        return app(environ, start_response)

    return serve


def serve_apart(host: str, port: int) -> Callable[[], None]:
    """Serves /metrics (and nothing else) on its own listener, from a daemon thread, so that a scrape never waits
    on the event loop; returns what stops it."""
    server = make_server(host, port, _metrics_only(make_wsgi_app()), ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-listener", daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop
