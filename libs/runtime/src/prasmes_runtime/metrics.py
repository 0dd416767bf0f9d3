"""Prometheus metrics of a service process, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

http_requests = Counter("prasmes_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
http_latency = Histogram("prasmes_http_request_duration_seconds", "HTTP request duration", ["method", "route"])
outbox_pending = Gauge("prasmes_outbox_pending", "Outbox rows not yet published (relay lag, rows)")
outbox_oldest_age = Gauge(
    "prasmes_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox row (relay lag, time)"
)
events_published = Counter("prasmes_events_published_total", "Events the relay published", ["topic"])
consumer_lag = Gauge("prasmes_consumer_lag", "Records on the bus not yet consumed", ["consumer", "topic", "partition"])
events_consumed = Counter("prasmes_events_consumed_total", "Events consumed", ["consumer", "type", "outcome"])
