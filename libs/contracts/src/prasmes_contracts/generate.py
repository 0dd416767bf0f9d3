"""Generate the committed JSON Schemas and the AsyncAPI document, or check they are current.

prasmes-contracts generate   # refuses to write a breaking change within a version
prasmes-contracts check      # exit 1 when the committed files differ or a change is breaking
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from prasmes_contracts.compat import breaking_changes
from prasmes_contracts.events import Event
from prasmes_contracts.registry import TOPICS

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = PACKAGE_ROOT / "schemas"
ASYNCAPI_FILE = PACKAGE_ROOT / "asyncapi.json"


def event_schema(event: type[Event]) -> dict[str, Any]:
    schema = event.model_json_schema(mode="serialization")
    schema["title"] = event.event_name  # the event's, not its class's (ApplicationSubmittedV2)
    schema["$id"] = f"urn:{event.event_type()}"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def schema_files() -> dict[Path, dict[str, Any]]:
    return {
        SCHEMA_DIR / f"{event.event_type()}.json": event_schema(event) for topic in TOPICS for event in topic.events
    }


def _message(event: type[Event]) -> dict[str, Any]:
    return {
        "name": event.event_type(),
        "title": event.event_name if event.version == 1 else f"{event.event_name} (version {event.version})",
        "summary": (event.__doc__ or "").strip(),
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
        "payload": {"$ref": f"./schemas/{event.event_type()}.json"},
        "bindings": {"kafka": {"key": {"type": "string", "description": f"{event.key_field}"}}},
    }


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in TOPICS:
        if not topic.partner_readable:
            continue
        channel_id = topic.name.replace(".", "_")
        refs = {}
        for event in topic.events:
            messages[event.event_type()] = _message(event)
            refs[event.__name__] = {"$ref": f"#/components/messages/{event.event_type()}"}
        channels[channel_id] = {"address": topic.name, "description": topic.description, "messages": refs}
        operations[f"receive_{channel_id}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Events of the {topic.aggregate} aggregate, published by {topic.owner}.",
        }
    ce_headers = {
        "type": "object",
        "required": ["ce_id", "ce_source", "ce_type", "ce_specversion"],
        "properties": {
            name: {"type": "string"}
            for name in (
                "ce_id",
                "ce_source",
                "ce_type",
                "ce_specversion",
                "ce_time",
                "ce_subject",
                "content-type",
                "traceparent",
                "tracestate",
            )
        },
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Prasmes platform events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode. Only additive changes within a version.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventHeaders": ce_headers}},
    }


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def problems() -> list[str]:
    """Breaking changes against the committed schemas, and files that are out of date."""
    found: list[str] = []
    for path, schema in schema_files().items():
        if not path.exists():
            found.append(f"{path.name}: not generated")
            continue
        committed = json.loads(path.read_text())
        found += [f"{path.name}: {p}" for p in breaking_changes(committed, schema)]
        if committed != schema:
            found.append(f"{path.name}: out of date, run `make contracts`")
    if not ASYNCAPI_FILE.exists() or json.loads(ASYNCAPI_FILE.read_text()) != asyncapi_document():
        found.append(f"{ASYNCAPI_FILE.name}: out of date, run `make contracts`")
    return found


def generate() -> list[str]:
    """Write the files; refuse a breaking change within a version (bump the version instead)."""
    breaking: list[str] = []
    for path, schema in schema_files().items():
        if path.exists():
            breaking += [f"{path.name}: {p}" for p in breaking_changes(json.loads(path.read_text()), schema)]
    if breaking:
        return breaking
    SCHEMA_DIR.mkdir(exist_ok=True)
    for path, schema in schema_files().items():
        path.write_text(_dump(schema))
    ASYNCAPI_FILE.write_text(_dump(asyncapi_document()))
    return []


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    found = generate() if command == "generate" else problems()
    for line in found:
        print(line, file=sys.stderr)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
