"""What the agency's officers are told about the offers they evaluate, and the read model of who evaluates which.

Every use case runs in the consumer's transaction beside the event's inbox row: once per event."""

from __future__ import annotations

from prasmes_contracts.calls import ClarificationAnswered, EvaluatorAssigned
from prasmes_runtime.context import EventContext

from notifications.db import evaluators as db
from notifications.domain.evaluators import OfferEvaluator
from notifications.domain.notices import Notice, Reference, notice_of
from notifications.service.notices import keep


async def _tell(ctx: EventContext, kind: str, assigned: OfferEvaluator) -> Notice:
    reference = Reference("offer", str(assigned.offer_id))
    values = {"call": assigned.call_code}
    notice = notice_of(kind, assigned.evaluator_id, values, ctx.clock.now(), ctx.envelope.id, reference)
    await keep(ctx, notice)
    return notice


async def evaluator_assigned(ctx: EventContext, event: EvaluatorAssigned) -> Notice | None:
    """The offer's evaluator kept (the latest wins) and told the offer is theirs to evaluate. calls publishes on
    each change of evaluator, so a reassigned offer's new officer is told too."""
    assigned = OfferEvaluator(event.offer_id, event.evaluator_id, event.call_code, event.at)
    known = await db.evaluator_of(ctx.session, event.offer_id)
    if known is not None and not known.replaced_by(assigned):
        return None
    await db.save_evaluator(ctx.session, assigned)
    if known is not None and known.evaluator_id == assigned.evaluator_id:
        return None
    return await _tell(ctx, "offer_assigned", assigned)


async def clarification_answered(ctx: EventContext, event: ClarificationAnswered) -> Notice | None:
    """The offer's current evaluator is told the institution answered; an offer with no evaluator known tells
    nobody."""
    assigned = await db.evaluator_of(ctx.session, event.offer_id)
    if assigned is None:
        return None
    return await _tell(ctx, "clarification_answered", assigned)
