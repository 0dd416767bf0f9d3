"""Published events change only additively within a version."""

import json
from typing import Any

import pytest
from prasmes_contracts import TOPICS
from prasmes_contracts.compat import breaking_changes
from prasmes_contracts.generate import ASYNCAPI_FILE, asyncapi_document, problems, schema_files

BASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "account_id": {"type": "string", "format": "uuid"},
        "opened_at": {"type": "string", "format": "date-time"},
        "hours": {"type": "integer"},
    },
    "required": ["account_id", "opened_at"],
}


def _changed(**changes: Any) -> dict[str, Any]:
    schema = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        schema[key] = value
    return schema


def test_the_committed_schemas_and_asyncapi_match_the_models() -> None:
    assert problems() == []


def test_an_optional_field_added_is_compatible() -> None:
    new = _changed(properties={**BASE["properties"], "note": {"type": "string"}})
    assert breaking_changes(BASE, new) == []


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (_changed(properties={k: v for k, v in BASE["properties"].items() if k != "hours"}), "hours: removed"),
        (_changed(properties={**BASE["properties"], "hours": {"type": "string"}}), "hours: type changed"),
        (
            _changed(properties={**BASE["properties"], "opened_at": {"type": "string", "format": "date"}}),
            "opened_at: type changed",
        ),
        (_changed(required=["account_id", "opened_at", "hours"]), "hours: newly required"),
    ],
)
def test_breaking_changes_are_caught(new: dict[str, Any], expected: str) -> None:
    assert expected in breaking_changes(BASE, new)


def test_a_committed_schema_edited_incompatibly_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Simulate the model losing a field against the committed (published) schema."""
    path = next(iter(schema_files()))
    published = json.loads(path.read_text())
    published["properties"]["retired_field"] = {"type": "string"}
    copy = tmp_path / path.name
    copy.write_text(json.dumps(published))
    monkeypatch.setattr("prasmes_contracts.generate.SCHEMA_DIR", tmp_path)
    assert any("retired_field: removed" in p for p in problems())


def test_every_event_type_carries_its_version_and_every_topic_its_owner() -> None:
    for topic in TOPICS:
        assert topic.name.startswith(f"{topic.owner}.")
        for event in topic.events:
            assert event.event_type() == f"lv.prasmes.{topic.owner}.{event.event_name}.v{event.version}"
            # a later version's class is named for its version beside the first: ApplicationSubmittedV2
            assert event.__name__ == (event.event_name if event.version == 1 else f"{event.event_name}V{event.version}")


def test_asyncapi_lists_every_partner_topic() -> None:
    document = json.loads(ASYNCAPI_FILE.read_text())
    assert document == asyncapi_document()
    assert document["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {t.name for t in TOPICS if t.partner_readable}
