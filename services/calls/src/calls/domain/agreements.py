"""The cooperation agreement of an approved offer: a record (number, dates) made once, then signed with its signed
document; signing publishes the offer's programmes (catalog follows `CooperationAgreementSigned`), and the day after
its last valid day it ends, its programmes leaving the catalogue (`CooperationAgreementEnded`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from prasmes_runtime.errors import Conflict, InvalidInput, Violation

from calls.domain.calls import Call


@dataclass(frozen=True)
class Agreement:
    offer_id: uuid.UUID
    number: str
    valid_from: date
    valid_until: date
    programme_ids: tuple[uuid.UUID, ...]
    created_at: datetime
    signed_at: datetime | None = None
    document_sha256: str | None = None
    document_filename: str | None = None
    document_media_type: str | None = None
    ended_at: datetime | None = None

    def over_by(self, today: date) -> bool:
        """Signed, not yet ended, and past its last valid day (`today` in Riga)."""
        return self.signed_at is not None and self.ended_at is None and today > self.valid_until

    def current(self) -> dict[str, object]:
        return {
            "offer_id": str(self.offer_id),
            "number": self.number,
            "signed_at": None if self.signed_at is None else self.signed_at.isoformat(),
        }

    def require_unsigned(self) -> None:
        if self.signed_at is not None:
            raise Conflict("the agreement is signed", self.current())


def check_dates(call: Call, valid_from: date, valid_until: date) -> None:
    """From the call's agreements phase on, until no earlier than it starts; the offer's programmes are
    delivered under it, so it lasts at least until the call's delivery ends."""
    violations = []
    if valid_from < call.timeline.agreements_from:
        violations.append(
            Violation("valid_from", "order", f"on or after the call's agreements day {call.timeline.agreements_from}")
        )
    if valid_until < valid_from:
        violations.append(Violation("valid_until", "order", "on or after valid_from"))
    elif valid_until < call.timeline.delivery_ends_on:
        violations.append(
            Violation("valid_until", "order", f"on or after the call's delivery end {call.timeline.delivery_ends_on}")
        )
    if violations:
        raise InvalidInput(*violations)
