"""A notice for every holder of an agency role: work waiting for the agency as a whole (a registration to approve,
a programme flagged by its surveys). Pure Python.

Kept as one row when its event is handled, and made into one notice per officer once the identity provider's
directory names them: the event is handled whether or not the directory answers at that moment."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from notifications.domain.notices import Notice, Reference, notice_of


@dataclass(frozen=True)
class StaffNotice:
    id: uuid.UUID
    role: str
    """The agency role whose every holder is told (`agency_officer`)."""
    kind: str
    created_at: datetime
    cause_event_id: str
    reference: Reference | None = None
    values: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def of(
        role: str,
        kind: str,
        values: Mapping[str, str],
        at: datetime,
        cause_event_id: str,
        reference: Reference | None = None,
    ) -> StaffNotice:
        """Raises `KeyError` as `notice_of` does: a notice that could not be written is refused now, not later."""
        staff_notice = StaffNotice(uuid.uuid4(), role, kind, at, cause_event_id, reference, dict(values))
        staff_notice.to("")
        return staff_notice

    def to(self, recipient_id: str) -> Notice:
        """The holder's own notice, as of when the event was handled."""
        return notice_of(self.kind, recipient_id, self.values, self.created_at, self.cause_event_id, self.reference)
