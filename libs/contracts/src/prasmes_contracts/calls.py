"""Events published by the calls service: calls to institutions, offers and their outcome.

Only the events other services already rely on are defined here; the calls issue adds the rest.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from prasmes_contracts.events import Event, Topic


class _AgreementEvent(Event):
    service: ClassVar[str] = "calls"
    key_field: ClassVar[str] = "offer_id"

    offer_id: UUID
    call_id: UUID
    institution_id: UUID
    programme_ids: list[UUID]
    at: datetime


class CooperationAgreementSigned(_AgreementEvent):
    """An approved offer's cooperation agreement was signed: its programmes may be published."""

    valid_until: date


class CooperationAgreementEnded(_AgreementEvent):
    """The cooperation agreement ended: its programmes leave the public catalogue."""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "calls.offers",
        "calls",
        "offer",
        (CooperationAgreementSigned, CooperationAgreementEnded),
        "Offers of institutions to the agency's calls and their agreements. Keyed by offer id.",
    ),
)
