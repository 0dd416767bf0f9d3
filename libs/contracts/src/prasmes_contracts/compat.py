"""Compatibility of a published event's JSON Schema: within a version only additive changes.

Breaking: a property removed, a property's type changed, a property newly required.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _resolve(schema: Schema, root: Schema) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return schema


def _type_signature(schema: Schema, root: Schema) -> Any:
    """What a consumer relies on: JSON types, formats, enums, and nested shapes."""
    schema = _resolve(schema, root)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return sorted(repr(_type_signature(s, root)) for s in schema[combinator])
    if schema.get("type") == "array":
        return ("array", _type_signature(schema.get("items", {}), root))
    if schema.get("type") == "object" and "properties" in schema:
        return ("object", {k: _type_signature(v, root) for k, v in schema["properties"].items()})
    return (schema.get("type"), schema.get("format"), tuple(schema.get("enum", ())))


def breaking_changes(old: Schema, new: Schema, path: str = "") -> list[str]:
    """The reasons a consumer of `old` would break on data valid under `new`."""
    problems: list[str] = []
    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    for name, old_prop in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed")
        elif _type_signature(old_prop, old) != _type_signature(new_props[name], new):
            problems.append(f"{where}: type changed")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems += [f"{path}{name}: newly required" for name in sorted(newly_required)]
    return problems
