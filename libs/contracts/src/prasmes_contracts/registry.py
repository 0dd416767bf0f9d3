"""The topic registry: every published topic, gathered from each owning service's contract module."""

from __future__ import annotations

from prasmes_contracts import accounts, calls, catalog
from prasmes_contracts.events import Event, Topic

__all__ = ["TOPICS", "Topic", "event_class", "topic_for", "topic_named"]


TOPICS: tuple[Topic, ...] = (*accounts.TOPICS, *catalog.TOPICS, *calls.TOPICS)

_BY_TYPE: dict[str, type[Event]] = {e.event_type(): e for t in TOPICS for e in t.events}
_TOPIC_OF: dict[type[Event], Topic] = {e: t for t in TOPICS for e in t.events}


def topic_for(event: type[Event]) -> Topic:
    try:
        return _TOPIC_OF[event]
    except KeyError:
        raise LookupError(f"{event.__name__} is not registered on any topic") from None


def event_class(event_type: str) -> type[Event] | None:
    return _BY_TYPE.get(event_type)


def topic_named(name: str) -> Topic:
    for topic in TOPICS:
        if topic.name == name:
            return topic
    raise LookupError(f"no topic named {name}")
