"""Two versions of one event live side by side: each keeps its type, both stay readable, no type is declared twice."""

import json
import uuid
from typing import ClassVar

import pytest
from prasmes_contracts import TOPICS, event_class, topic_for
from prasmes_contracts.accounts import ApplicationSubmitted, ApplicationSubmittedV2, _ApplicationEvent
from prasmes_contracts.generate import SCHEMA_DIR, asyncapi_document
from prasmes_contracts.registry import _by_type

V1 = "lv.prasmes.accounts.ApplicationSubmitted.v1"
V2 = "lv.prasmes.accounts.ApplicationSubmitted.v2"
ABOUT = {"application_id": str(uuid.uuid4()), "learner_id": "anna", "project_code": "IMK", "at": "2026-11-30T10:00:00Z"}


def test_both_versions_resolve_to_their_own_model_on_one_topic() -> None:
    assert (ApplicationSubmitted.event_type(), ApplicationSubmittedV2.event_type()) == (V1, V2)
    assert (event_class(V1), event_class(V2)) == (ApplicationSubmitted, ApplicationSubmittedV2)
    assert topic_for(ApplicationSubmitted) is topic_for(ApplicationSubmittedV2)
    assert topic_for(ApplicationSubmittedV2).name == "accounts.applications"


def test_an_old_version_1_event_is_still_parsed_with_its_free_text() -> None:
    """What is already on the topic, or comes back from a dead-letter replay, was published as version 1."""
    model = event_class(V1)
    assert model is not None
    old = model.model_validate({**ABOUT, "learning_need": "datu analīze", "programme_id": None})
    assert isinstance(old, ApplicationSubmitted) and old.learning_need == "datu analīze"


def test_version_2_carries_the_code_and_has_no_free_text() -> None:
    fields = set(ApplicationSubmittedV2.model_fields)
    assert "learning_need_code" in fields and "learning_need" not in fields
    event = ApplicationSubmittedV2.model_validate({**ABOUT, "learning_need_code": "IMK4-CYBER"})
    assert event.learning_need_code == "IMK4-CYBER"
    assert "learning_need" not in event.model_dump()
    schema = json.loads((SCHEMA_DIR / f"{V2}.json").read_text())
    assert "learning_need" not in schema["properties"] and schema["title"] == "ApplicationSubmitted"


def test_asyncapi_offers_both_versions_on_the_applications_channel() -> None:
    document = asyncapi_document()
    refs = {r["$ref"] for r in document["channels"]["accounts_applications"]["messages"].values()}
    assert {f"#/components/messages/{V1}", f"#/components/messages/{V2}"} <= refs
    assert document["components"]["messages"][V2]["title"] == "ApplicationSubmitted (version 2)"


def test_every_event_type_is_declared_once() -> None:
    types = [e.event_type() for t in TOPICS for e in t.events]
    assert len(types) == len(set(types))


def test_a_version_declared_twice_is_refused() -> None:
    class ApplicationSubmittedAgain(_ApplicationEvent):
        event_name: ClassVar[str] = "ApplicationSubmitted"
        version: ClassVar[int] = 2

    topic = topic_for(ApplicationSubmittedV2)
    twice = type(topic)(topic.name, topic.owner, topic.aggregate, (*topic.events, ApplicationSubmittedAgain), "")
    with pytest.raises(TypeError, match=V2):
        _by_type((twice,))


def test_a_class_that_states_no_name_is_named_by_its_class() -> None:
    class Something(_ApplicationEvent):
        pass

    assert Something.event_type() == "lv.prasmes.accounts.Something.v1"
