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
    return binary_record(
        key=key,
        id=event.id,
        source=event.source,
        type=event.type,
        time=event.time,
        subject=event.subject,
        data=encode_data(event.data),
        traceparent=event.traceparent,
        tracestate=event.tracestate,
        specversion=event.specversion,
        content_type=event.datacontenttype,
    )


def encode_data(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=False)


def binary_record(
    *,
    key: str | None,
    id: str,
    source: str,
    type: str,
    time: datetime,
    subject: str | None,
    data: str,
    traceparent: str | None = None,
    tracestate: str | None = None,
    specversion: str = SPEC_VERSION,
    content_type: str = CONTENT_TYPE,
) -> KafkaRecord:
    """The binary-mode record of an event whose data is already encoded JSON (the outbox stores it so)."""
    headers = [
        ("ce_id", id),
        ("ce_source", source),
        ("ce_type", type),
        ("ce_specversion", specversion),
        ("ce_time", time.isoformat()),
        ("content-type", content_type),
    ]
    if subject is not None:
        headers.append(("ce_subject", subject))
    headers += [(name, value) for name, value in (("traceparent", traceparent), ("tracestate", tracestate)) if value]
    return KafkaRecord(
        key=key.encode() if key is not None else None,
        value=data.encode(),
        headers=[(name, value.encode()) for name, value in headers],
    )


def from_kafka(record: KafkaRecord) -> CloudEvent:
    """The record's CloudEvent (binary mode); its headers are read once (a consumer's hot path)."""
    headers = _headers(record)
    missing = [h for h in ("ce_id", "ce_source", "ce_type", "ce_specversion") if h not in headers]
    if missing:
        raise EnvelopeError(f"not a CloudEvent: missing headers {', '.join(missing)}")
    try:
        data = json.loads(record.value)
    except ValueError as exc:
        raise EnvelopeError(f"event data is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvelopeError("event data must be a JSON object")
    time_header = headers.get("ce_time")
    at = datetime.fromisoformat(time_header) if time_header else datetime.now(UTC)
    return CloudEvent(
        id=headers["ce_id"],
        source=headers["ce_source"],
        type=headers["ce_type"],
        specversion=headers["ce_specversion"],
        time=at,
        subject=headers.get("ce_subject"),
        datacontenttype=headers.get("content-type", CONTENT_TYPE),
        data=data,
        traceparent=headers.get("traceparent"),
        tracestate=headers.get("tracestate"),
    )


def _headers(record: KafkaRecord) -> dict[str, str]:
    """The record's headers by name, decoded; the first of a name, as `KafkaRecord.header` finds it."""
    found: dict[str, str] = {}
    for name, value in record.headers:
        if name not in found:
            found[name] = value.decode()
    return found
