"""OpenTelemetry tracing: one provider per process, W3C trace context carried through Kafka headers."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from prasmes_runtime.settings import Settings


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans as JSON lines to a file (one file may be shared by several processes)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(_span_record(span)) + "\n" for span in spans]
        with self._lock, self._path.open("a") as out:
            out.write("".join(lines))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def _span_record(span: ReadableSpan) -> dict[str, object]:
    ctx = span.get_span_context()
    parent = span.parent
    return {
        "name": span.name,
        "service": span.resource.attributes.get("service.name"),
        "trace_id": format(ctx.trace_id, "032x") if ctx else None,
        "span_id": format(ctx.span_id, "016x") if ctx else None,
        "parent_span_id": format(parent.span_id, "016x") if parent else None,
        "kind": span.kind.name,
        "attributes": {k: str(v) for k, v in (span.attributes or {}).items()},
    }


def configure_tracing(settings: Settings) -> TracerProvider | None:
    """Install this process's tracer provider. Call once, from the composition root.

    Returns the SDK provider this process's spans go to: the one installed here, or one installed before (a test's,
    an operator's own setup); None when there is none. With no exporter (`traces_exporter="none"`, the default)
    nothing would read a span, so none is installed, and the caller installs no instrumentation either: an incoming
    W3C trace context still travels, through HTTP calls and events (`prasmes_runtime.http.TraceContextMiddleware`).
    """
    if settings.traces_exporter != "none":
        provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
        if settings.traces_exporter == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif settings.traces_exporter == "file":
            path = settings.traces_file or settings.var_dir / "traces.jsonl"
            provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
        elif settings.traces_exporter == "otlp":
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
        trace.set_tracer_provider(provider)
    return recording_provider()


def recording_provider() -> TracerProvider | None:
    """The SDK tracer provider installed in this process, if any: without one every span is a no-op."""
    provider = trace.get_tracer_provider()
    return provider if isinstance(provider, TracerProvider) else None


def tracer() -> trace.Tracer:
    return trace.get_tracer("prasmes")


def _otlp_exporter() -> SpanExporter:
    # Imported here: only a process that exports over OTLP pays for the protobuf modules.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: the standard OTEL_EXPORTER_OTLP_* variables


_ids = RandomIdGenerator()


def fresh_trace_context() -> otel_context.Context:
    """A context with a new trace, for work that no caller's trace reached (a request without `traceparent`, a
    periodic job) in a process that records no spans: its events still carry a trace id that everything they cause
    joins. Flagged sampled, so that a service that does export spans records its part of the trace."""
    span = SpanContext(_ids.generate_trace_id(), _ids.generate_span_id(), False, TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(span))


def current_trace_headers() -> dict[str, str]:
    """The W3C trace context of the current span, to store beside an outgoing event; a new trace's where there is
    none, so that every event carries a `traceparent`."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if "traceparent" not in carrier:
        propagate.inject(carrier, context=fresh_trace_context())
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> otel_context.Context:
    return propagate.extract(headers)
