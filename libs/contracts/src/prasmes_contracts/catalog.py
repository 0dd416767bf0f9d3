"""Events published by the catalog service: providers, programmes, study groups, cost coefficients.

Institutions are organisations, not persons: their names may travel. A provider user appears only
as an opaque user id, never with a name or an e-mail.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from prasmes_contracts.events import Event, Topic


class _ProviderEvent(Event):
    service: ClassVar[str] = "catalog"
    key_field: ClassVar[str] = "institution_id"

    institution_id: UUID
    at: datetime


class ProviderRegistered(_ProviderEvent):
    """An education institution registered on the platform and awaits approval."""

    name: str
    register_number: str = Field(description="Its number in the register of education institutions.")
    registered_by: str | None = Field(
        default=None,
        description="The registering user's opaque id (token subject): they become its provider_admin once approved.",
    )


class ProviderApproved(_ProviderEvent):
    """The agency approved the institution's registration."""


class ProviderRejected(_ProviderEvent):
    """The agency rejected the institution's registration."""

    reason_code: str


class ProviderUserAdded(_ProviderEvent):
    """A user now acts for the institution."""

    user_id: str = Field(description="The user's opaque id (token subject).")
    role: Literal["provider_admin", "provider_staff"]


class ProviderUserRemoved(_ProviderEvent):
    """A user no longer acts for the institution."""

    user_id: str


class _ProgrammeEvent(Event):
    service: ClassVar[str] = "catalog"
    key_field: ClassVar[str] = "programme_id"

    programme_id: UUID
    institution_id: UUID
    at: datetime


class ProgrammeRegistered(_ProgrammeEvent):
    """A provider registered a programme (a draft, not public)."""

    title: dict[str, str] = Field(description="By language: lv, en.")
    licence_number: str | None = Field(default=None, description="Its licence in the register of programmes.")
    programme_group: str | None = Field(default=None, description="The programme group of the cost coefficients.")
    form: Literal["in_person", "remote", "hybrid"] | None = None
    digcomp_level: int | None = Field(default=None, description="DigComp proficiency level 1-8.")
    hours: int | None = None
    digital_share_percent: Decimal | None = Field(default=None, description="Share of digital skills, 0-100.")
    qualifications: list[str] | None = Field(
        default=None, description="Codes of the qualifications whose professional competences it targets."
    )
    cost_per_participant: Decimal | None = Field(default=None, description="EUR, computed by the platform.")
    coefficient_table_version: int | None = None


class ProgrammePublished(_ProgrammeEvent):
    """The programme is in the public catalogue: an offer with it was approved and the agreement signed."""

    title: dict[str, str]
    digcomp_level: int
    hours: int
    cost_per_participant: Decimal = Field(description="EUR, computed by the platform.")
    coefficient_table_version: int
    call_id: UUID | None = None
    form: Literal["in_person", "remote", "hybrid"] | None = None
    qualifications: list[str] | None = None
    offer_id: UUID | None = Field(default=None, description="The approved offer whose agreement published it.")
    institution_name: str | None = Field(default=None, description="The institution's name (an organisation).")


class ProgrammeWithdrawn(_ProgrammeEvent):
    """The programme left the public catalogue (its agreement ended)."""


class _GroupEvent(Event):
    service: ClassVar[str] = "catalog"
    key_field: ClassVar[str] = "group_id"

    group_id: UUID
    programme_id: UUID
    institution_id: UUID
    at: datetime
    capacity: int
    start_date: date
    end_date: date
    city: str
    language: str
    status: Literal["scheduled", "cancelled"] = "scheduled"
    location_id: UUID | None = Field(default=None, description="The implementation location (registered in VIIS).")
    entry_level: int | None = Field(default=None, description="The DigComp level a learner should have on entry.")


class GroupScheduled(_GroupEvent):
    """A provider scheduled a study group of a published programme."""


class GroupChanged(_GroupEvent):
    """A study group's dates, capacity, place or status changed (the full new state)."""


class CoefficientTableChanged(Event):
    """The agency published a new version of the programme-group cost coefficients."""

    service: ClassVar[str] = "catalog"
    key_field: ClassVar[str] = "table"

    table: Literal["cost_coefficients"] = "cost_coefficients"
    table_version: int
    hourly_rate: Decimal = Field(description="EUR per hour before the coefficient, e.g. 1.56.")
    coefficients: dict[str, Decimal] = Field(description="Programme group -> minimum cost coefficient.")
    valid_from: date
    at: datetime


TOPICS: tuple[Topic, ...] = (
    Topic(
        "catalog.providers",
        "catalog",
        "institution",
        (ProviderRegistered, ProviderApproved, ProviderRejected, ProviderUserAdded, ProviderUserRemoved),
        "Education institutions and who acts for them. Keyed by institution id.",
    ),
    Topic(
        "catalog.programmes",
        "catalog",
        "programme",
        (ProgrammeRegistered, ProgrammePublished, ProgrammeWithdrawn),
        "Programmes and their publication in the public catalogue. Keyed by programme id.",
    ),
    Topic(
        "catalog.groups",
        "catalog",
        "group",
        (GroupScheduled, GroupChanged),
        "Study groups of published programmes. Keyed by group id.",
    ),
    Topic(
        "catalog.coefficients",
        "catalog",
        "coefficient table",
        (CoefficientTableChanged,),
        "Versions of the cost coefficient table. Keyed by table name.",
    ),
)
