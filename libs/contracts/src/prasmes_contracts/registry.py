"""The topic registry: one stream per owning service and aggregate, keyed by aggregate id."""

from __future__ import annotations

from dataclasses import dataclass

from prasmes_contracts.accounts import AccountOpened
from prasmes_contracts.events import Event


@dataclass(frozen=True)
class Topic:
    name: str
    owner: str
    aggregate: str
    events: tuple[type[Event], ...]
    description: str
    partner_readable: bool = True
    """Partner systems may subscribe. Such a topic never carries personal data."""

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlq"


TOPICS: tuple[Topic, ...] = (
    Topic(
        name="accounts.accounts",
        owner="accounts",
        aggregate="account",
        events=(AccountOpened,),
        description="Learning accounts: opened, closed. Keyed by account id.",
    ),
)

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
