"""Base class of every published event's data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "lv.prasmes"


class Event(BaseModel):
    """The `data` of a CloudEvent. Consumers ignore fields they do not know (additive evolution)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    service: ClassVar[str]
    version: ClassVar[int] = 1
    event_name: ClassVar[str] = ""
    """The event's name in its type: the class's name unless the class states it. A later version lives beside the
    earlier one as a class of its own, named for its version, that states the event's name and its version:
    `class ApplicationSubmittedV2(...)` with `event_name = "ApplicationSubmitted"` and `version = 2`."""
    key_field: ClassVar[str]
    """The aggregate id this event is keyed by: all events of one aggregate stay in order."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_name" not in vars(cls):
            cls.event_name = cls.__name__

    @classmethod
    def event_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.service}.{cls.event_name}.v{cls.version}"

    @classmethod
    def source(cls) -> str:
        """The CloudEvents `source`: the owning service."""
        return f"/prasmes/{cls.service}"

    def partition_key(self) -> str:
        return str(getattr(self, self.key_field))

    def subject(self) -> str:
        """The CloudEvents `subject`: the aggregate the event is about (its partition key)."""
        return self.partition_key()


@dataclass(frozen=True)
class Topic:
    """One stream per owning service and aggregate, keyed by the aggregate's id."""

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
