"""What accounts knows of catalog's offer: published programmes and their study groups, as catalog's events
told it (read models: accounts never asks catalog's database)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from prasmes_runtime.errors import InvalidInput

SCHEDULED = "scheduled"
"""The status of a group that takes enrolments."""


@dataclass(frozen=True)
class Programme:
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str | None
    title: dict[str, str]
    """By language: lv and en."""
    hours: int
    cost_per_participant: Decimal
    published: bool = True
    digcomp_level: int | None = None
    """The DigComp proficiency level (1-8) the programme leads to; None for one published before accounts kept it."""


@dataclass(frozen=True)
class StudyGroup:
    id: uuid.UUID
    programme_id: uuid.UUID
    institution_id: uuid.UUID
    capacity: int
    start_date: date
    end_date: date
    city: str
    status: str
    taken: int = 0
    """The places taken by accounts' enrolments: counted here, never told by catalog."""

    def current(self) -> dict[str, object]:
        return {"group_id": str(self.id), "capacity": self.capacity, "taken": self.taken}


def open_for_enrolment(group_id: uuid.UUID, group: StudyGroup | None, programme: Programme | None) -> StudyGroup:
    """The group, when it is scheduled and its programme is in the catalogue; raise InvalidInput otherwise."""
    if group is None or group.status != SCHEDULED:
        raise InvalidInput.of("group_id", "scheduled_group", f"there is no scheduled study group {group_id}")
    if programme is None or not programme.published:
        raise InvalidInput.of("group_id", "published_programme", "the group's programme is not in the catalogue")
    return group
