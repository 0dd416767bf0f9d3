"""Who evaluates an offer, as notifications needs to know it: the read model of calls' `EvaluatorAssigned`
(internal topic `calls.assignments`), to tell the agency officer of the offer assigned to them and of the
institution's answers to its clarifications. Pure Python.

Only the officer's opaque user id, the offer's id and its call's code: no names, no contacts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OfferEvaluator:
    """The officer assigned to evaluate an offer (the latest `EvaluatorAssigned` of it)."""

    offer_id: uuid.UUID
    evaluator_id: str
    call_code: str
    assigned_at: datetime

    def replaced_by(self, later: OfferEvaluator) -> bool:
        """Whether `later` is the offer's assignment now: the latest wins (one older than what is kept, arriving
        late, changes nothing)."""
        return later.assigned_at >= self.assigned_at
