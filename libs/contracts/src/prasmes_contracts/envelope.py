"""CloudEvents 1.0 envelope and its Kafka binary-mode binding.

Binary mode: the attributes travel as `ce_*` headers, the data as the JSON value, the
partition key as the Kafka key. W3C trace context rides along as `traceparent`/`tracestate`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
_TRACE_HEADERS = ("traceparent", "tracestate")


class EnvelopeError(ValueError):
    """A Kafka record that is not a well-formed CloudEvent."""


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    specversion: str = SPEC_VERSION
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = CONTENT_TYPE
    data: dict[str, Any]
    traceparent: str | None = None
    tracestate: str | None = None


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode()
        return None


def to_kafka(event: CloudEvent, key: str | None) -> KafkaRecord:
    headers = [
        ("ce_id", event.id),
        ("ce_source", event.source),
        ("ce_type", event.type),
        ("ce_specversion", event.specversion),
        ("ce_time", event.time.isoformat()),
        ("content-type", event.datacontenttype),
    ]
    if event.subject is not None:
        headers.append(("ce_subject", event.subject))
    headers += [(name, value) for name in _TRACE_HEADERS if (value := getattr(event, name))]
    return KafkaRecord(
        key=key.encode() if key is not None else None,
        value=json.dumps(event.data, separators=(",", ":"), default=str).encode(),
        headers=[(name, value.encode()) for name, value in headers],
    )


def from_kafka(record: KafkaRecord) -> CloudEvent:
    missing = [h for h in ("ce_id", "ce_source", "ce_type", "ce_specversion") if record.header(h) is None]
    if missing:
        raise EnvelopeError(f"not a CloudEvent: missing headers {', '.join(missing)}")
    try:
        data = json.loads(record.value)
    except ValueError as exc:
        raise EnvelopeError(f"event data is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("event data must be a JSON object")
    time_header = record.header("ce_time")
    return CloudEvent(
        id=record.header("ce_id") or "",
        source=record.header("ce_source") or "",
        type=record.header("ce_type") or "",
        specversion=record.header("ce_specversion") or SPEC_VERSION,
        time=datetime.fromisoformat(time_header) if time_header else datetime.now(UTC),
        subject=record.header("ce_subject"),
        datacontenttype=record.header("content-type") or CONTENT_TYPE,
        data=data,
        traceparent=record.header("traceparent"),
        tracestate=record.header("tracestate"),
    )
