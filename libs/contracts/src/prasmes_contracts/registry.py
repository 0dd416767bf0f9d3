"""The topic registry: every published topic, gathered from each owning service's contract module."""

from __future__ import annotations

from prasmes_contracts import accounts, calls, catalog, surveys
from prasmes_contracts.events import Event, Topic

__all__ = ["TOPICS", "Topic", "event_class", "topic_for", "topic_named"]


TOPICS: tuple[Topic, ...] = (*accounts.TOPICS, *catalog.TOPICS, *calls.TOPICS, *surveys.TOPICS)


def _by_type(topics: tuple[Topic, ...]) -> dict[str, type[Event]]:
    """Every event class by its type; two classes of one type (a version declared twice) are a mistake."""
    by_type: dict[str, type[Event]] = {}
    for event in (e for t in topics for e in t.events):
        if event.event_type() in by_type:
            raise TypeError(
                f"{event.__name__} and {by_type[event.event_type()].__name__} are both {event.event_type()}"
            )
        by_type[event.event_type()] = event
    return by_type


_BY_TYPE: dict[str, type[Event]] = _by_type(TOPICS)
_TOPIC_OF: dict[type[Event], Topic] = {e: t for t in TOPICS for e in t.events}


def topic_for(event: type[Event]) -> Topic:
    try:
        return _TOPIC_OF[event]
    except KeyError:
        raise LookupError(f"{event.__name__} is not registered on any topic") from None


def event_class(event_type: str) -> type[Event] | None:
    """The model of an event type, every version that was ever published (e.g. `...ApplicationSubmitted.v1` and
    `.v2`), so that old events on a topic and replayed dead letters stay readable."""
    return _BY_TYPE.get(event_type)


def topic_named(name: str) -> Topic:
    for topic in TOPICS:
        if topic.name == name:
            return topic
    raise LookupError(f"no topic named {name}")
