"""Evaluation of submitted offers (assignment, findings, clarifications), the agency's decision, and the cooperation
agreement of an approved offer; each use case is one unit of work with its event in the same transaction."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from prasmes_contracts.calls import (
    ClarificationAnswered,
    ClarificationRequested,
    CooperationAgreementEnded,
    CooperationAgreementSigned,
    EvaluatorAssigned,
    OfferApproved,
    OfferEvaluated,
    OfferRejected,
)
from prasmes_documents import signatures
from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, InvalidInput, NotFound
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db import evaluations as db
from calls.db import offers as offers_db
from calls.domain.agreements import Agreement, check_dates
from calls.domain.calls import Call, CallPhase
from calls.domain.evaluations import (
    Clarification,
    Decision,
    Evaluation,
    Finding,
    FindingResult,
    Outcome,
    Reason,
    check_criteria_named,
    check_decision,
    check_findings,
    clarification_due,
    criteria_of,
    require_phase,
)
from calls.domain.offers import Offer, OfferState
from calls.service.calls import existing_call, follow_clock
from calls.service.offers import MEDIA_TYPES, Actor, _reachable

log = get_logger(__name__)
NO_EVALUATION = "the offer has no evaluator yet: an agency admin assigns one"


@dataclass(frozen=True)
class EvaluationView:
    offer: Offer
    criteria: tuple[str, ...]
    evaluation: Evaluation | None

    @property
    def missing(self) -> list[str]:
        return list(self.criteria) if self.evaluation is None else self.evaluation.missing(self.criteria)


async def _offer_and_call(
    session: AsyncSession, actor: Actor, offer_id: uuid.UUID, now: datetime, earliest: CallPhase, action: str
) -> tuple[Offer, Call]:
    """The offer (locked), its call's clock followed, and the call at least in phase `earliest` (409)."""
    offer = await _reachable(session, actor, offer_id, lock=True)
    call = await existing_call(session, offer.call_id)
    await follow_clock(session, call, now)
    require_phase(call, now, earliest, action)
    offer = await _reachable(session, actor, offer_id, lock=True)  # the clock may have moved it
    return offer, call


def _require_state(offer: Offer, *states: OfferState) -> None:
    if offer.state not in states:
        raise Conflict(f"a {offer.state} offer cannot be {' or '.join(states)} here", offer.current())


async def _move(session: AsyncSession, offer: Offer, to: OfferState, now: datetime, by: str) -> Offer:
    if offer.state == to:
        return offer
    offer.require_transition(to)
    moved = replace(offer, state=to, updated_at=now)
    if not await offers_db.save_offer(session, moved, by, expected_state=offer.state):
        raise Conflict("the offer changed meanwhile", offer.current())
    return moved


# --------------------------------------------------------------------------- assignment and findings


async def assign(database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, evaluator_id: str) -> Evaluation:
    """An agency_admin assigns (or reassigns) the evaluator once the deadline passed; the offer is then under
    evaluation. Findings recorded by an earlier evaluator stay. EvaluatorAssigned (internal: it names the officer)
    is recorded in the same transaction whenever the evaluator changes; assigning the same officer again does not."""
    now = clock.now()
    async with database.transaction() as session:
        offer, call = await _offer_and_call(session, actor, offer_id, now, "evaluation", "assign an evaluator")
        _require_state(offer, "submitted", "under_evaluation")
        await _move(session, offer, "under_evaluation", now, actor.user_id)
        before = await db.evaluation(session, offer_id)
        await db.assign(session, offer_id, evaluator_id, now, actor.user_id)
        assigned = await db.evaluation(session, offer_id)
        if before is None or before.evaluator_id != evaluator_id:
            await record_event(
                session,
                EvaluatorAssigned(
                    offer_id=offer_id,
                    call_id=offer.call_id,
                    institution_id=offer.institution_id,
                    at=now,
                    evaluator_id=evaluator_id,
                    call_code=call.code,
                ),
            )
    assert assigned is not None
    log.info("offer.assigned", offer_id=str(offer_id))
    return assigned


async def _evaluation_of(session: AsyncSession, offer: Offer, actor: Actor) -> Evaluation:
    _require_state(offer, "under_evaluation")
    evaluation = await db.evaluation(session, offer.id)
    if evaluation is None:
        raise Conflict(NO_EVALUATION, offer.current())
    evaluation.require_evaluator(actor.user_id)
    return evaluation


async def record_findings(
    database: Database,
    clock: Clock,
    actor: Actor,
    offer_id: uuid.UUID,
    given: list[tuple[str, FindingResult, str]],
) -> EvaluationView:
    """The evaluator's findings (criterion, result, note), each replacing that criterion's earlier one. The write
    that leaves every criterion with a conclusive finding announces OfferEvaluated with all of them."""
    now = clock.now()
    async with database.transaction() as session:
        offer, call = await _offer_and_call(session, actor, offer_id, now, "evaluation", "record findings")
        await _evaluation_of(session, offer, actor)
        criteria = criteria_of(call)
        check_findings(criteria, [(c, r) for c, r, _ in given])
        await db.save_findings(session, offer_id, [Finding(c, r, note, now) for c, r, note in given], actor.user_id)
        evaluation = await db.evaluation(session, offer_id)
        assert evaluation is not None
        if evaluation.complete(criteria):
            await record_event(session, _evaluated(offer, evaluation, now))
    return EvaluationView(offer, criteria, evaluation)


def _evaluated(offer: Offer, evaluation: Evaluation, now: datetime) -> OfferEvaluated:
    return OfferEvaluated(
        offer_id=offer.id,
        call_id=offer.call_id,
        institution_id=offer.institution_id,
        at=now,
        findings={c: f.result for c, f in sorted(evaluation.findings.items())},
    )


async def evaluation(database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID) -> EvaluationView:
    async with database.session() as session:
        offer = await _reachable(session, actor, offer_id)
        call = await existing_call(session, offer.call_id)
        return EvaluationView(offer, criteria_of(call), await db.evaluation(session, offer_id))


# --------------------------------------------------------------------------- clarifications


async def request_clarification(
    database: Database,
    clock: Clock,
    actor: Actor,
    offer_id: uuid.UUID,
    criteria: list[str],
    question: str,
    working_days: int,
) -> Clarification:
    """The evaluator asks the institution about some criteria; they need clarification until it answers."""
    now = clock.now()
    async with database.transaction() as session:
        offer, call = await _offer_and_call(session, actor, offer_id, now, "evaluation", "ask for a clarification")
        await _evaluation_of(session, offer, actor)
        check_criteria_named(criteria_of(call), criteria, "criteria")
        asked = Clarification(
            uuid.uuid4(), offer_id, tuple(criteria), question, now, clarification_due(now, working_days)
        )
        await db.insert_clarification(session, asked, actor.user_id)
        pending = [Finding(c, "needs_clarification", question, now) for c in criteria]
        await db.save_findings(session, offer_id, pending, actor.user_id)
        await record_event(
            session,
            ClarificationRequested(
                offer_id=offer_id,
                call_id=offer.call_id,
                institution_id=offer.institution_id,
                at=now,
                clarification_id=asked.id,
                criteria=list(asked.criteria),
                due_on=asked.due_on,
            ),
        )
    log.info("offer.clarification_requested", offer_id=str(offer_id), due_on=asked.due_on.isoformat())
    return asked


async def answer_clarification(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, clarification_id: uuid.UUID, answer: str
) -> Clarification:
    """The institution's provider_admin answers once, by the end of the due day (Riga)."""
    now = clock.now()
    async with database.transaction() as session:
        offer = await _reachable(session, actor, offer_id, admin=True, lock=True)
        asked = await db.clarification(session, clarification_id)
        if asked is None or asked.offer_id != offer_id:
            raise NotFound("no such clarification")
        asked.require_answerable(now)
        _require_state(offer, "under_evaluation")
        if not await db.answer_clarification(session, clarification_id, answer, now, actor.user_id):
            raise Conflict("the clarification is answered: an institution answers once", asked.current())
        await record_event(
            session,
            ClarificationAnswered(
                offer_id=offer_id,
                call_id=offer.call_id,
                institution_id=offer.institution_id,
                at=now,
                clarification_id=clarification_id,
            ),
        )
    log.info("offer.clarification_answered", offer_id=str(offer_id))
    return replace(asked, answer=answer, answered_at=now)


async def clarifications(
    database: Database, actor: Actor, offer_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Clarification], int]:
    async with database.session() as session:
        await _reachable(session, actor, offer_id)
        return await db.clarifications_of(session, offer_id, limit, offset)


# --------------------------------------------------------------------------- the decision


async def decide(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, outcome: Outcome, reasons: list[Reason]
) -> Decision:
    """An agency_admin, not the offer's evaluator, decides a complete evaluation from the call's decision phase."""
    now = clock.now()
    async with database.transaction() as session:
        offer, call = await _offer_and_call(session, actor, offer_id, now, "decision", "decide an offer")
        _require_state(offer, "under_evaluation")
        evaluation = await db.evaluation(session, offer_id)
        check_decision(evaluation, criteria_of(call), outcome, reasons, actor.user_id, offer.state)
        await _move(session, offer, outcome, now, actor.user_id)
        decided = Decision(offer_id, outcome, tuple(reasons), now, actor.user_id)
        await db.insert_decision(session, decided)
        await record_event(session, _decision_event(offer, decided))
    log.info("offer.decided", offer_id=str(offer_id), outcome=outcome)
    return decided


def _decision_event(offer: Offer, decided: Decision) -> OfferApproved | OfferRejected:
    common = {"offer_id": offer.id, "call_id": offer.call_id, "institution_id": offer.institution_id}
    if decided.outcome == "approved":
        return OfferApproved(**common, at=decided.decided_at, programme_ids=list(offer.content.terms.programme_ids))
    return OfferRejected(**common, at=decided.decided_at, reasons={r.criterion: r.code for r in decided.reasons})


async def decision(database: Database, actor: Actor, offer_id: uuid.UUID) -> Decision:
    """The decision with its reasons per criterion: the agency's, and the offer's institution's (others: 404)."""
    async with database.session() as session:
        await _reachable(session, actor, offer_id)
        found = await db.decision(session, offer_id)
    if found is None:
        raise NotFound("the offer is not decided")
    return found


# --------------------------------------------------------------------------- the cooperation agreement


async def make_agreement(
    database: Database,
    clock: Clock,
    actor: Actor,
    offer_id: uuid.UUID,
    number: str,
    valid_from: date,
    valid_until: date,
) -> Agreement:
    """The agreement record of an approved offer (once), from the call's agreements phase."""
    now = clock.now()
    try:
        async with database.transaction() as session:
            offer, call = await _offer_and_call(session, actor, offer_id, now, "agreements", "make an agreement")
            _require_state(offer, "approved")
            existing = await db.agreement(session, offer_id)
            if existing is not None:
                raise Conflict("the offer has its agreement", existing.current())
            check_dates(call, valid_from, valid_until)
            await _unique_number(session, number)
            made = Agreement(offer_id, number, valid_from, valid_until, offer.content.terms.programme_ids, now)
            await db.insert_agreement(session, made, actor.user_id)
    except IntegrityError:
        raise Conflict("an agreement with this number or for this offer exists", {"number": number}) from None
    log.info("agreement.made", offer_id=str(offer_id))
    return made


async def _unique_number(session: AsyncSession, number: str) -> None:
    other = await db.agreement_by_number(session, number)
    if other is not None:
        raise Conflict(f"agreement number {number} is taken", other.current())


@dataclass(frozen=True)
class SignedDocument:
    filename: str | None
    media_type: str
    content: bytes


async def sign_agreement(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, document: SignedDocument, max_bytes: int
) -> Agreement:
    """The signed agreement document (a signed PDF or ASiC-E container): the agreement is signed, and its
    programmes are published (CooperationAgreementSigned, in the same transaction)."""
    _check_document(document, max_bytes)
    now = clock.now()
    async with database.transaction() as session:
        offer, _ = await _offer_and_call(session, actor, offer_id, now, "agreements", "sign an agreement")
        made = await db.agreement(session, offer_id, for_update=True)
        if made is None:
            raise NotFound("the offer has no agreement yet")
        made.require_unsigned()
        signed = replace(
            made,
            signed_at=now,
            document_sha256=hashlib.sha256(document.content).hexdigest(),
            document_filename=document.filename,
            document_media_type=document.media_type.split(";", 1)[0].strip().lower(),
        )
        if not await db.sign_agreement(session, signed, document.content, actor.user_id):
            raise Conflict("the agreement is signed", made.current())
        await record_event(session, _signed_event(offer, signed))
    log.info("agreement.signed", offer_id=str(offer_id))
    return signed


def _check_document(document: SignedDocument, max_bytes: int) -> None:
    if len(document.content) > max_bytes:
        raise InvalidInput.of("file", "max_size", f"a document is at most {max_bytes} bytes")
    media_type = document.media_type.split(";", 1)[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise InvalidInput.of("file", "media_type", "a PDF or an ASiC-E container (.edoc/.asice)")
    signatures.inspect(document.content, filename=document.filename, declared_type=media_type, require_signature=True)


def _signed_event(offer: Offer, signed: Agreement) -> CooperationAgreementSigned:
    assert signed.signed_at is not None
    return CooperationAgreementSigned(
        offer_id=offer.id,
        call_id=offer.call_id,
        institution_id=offer.institution_id,
        programme_ids=list(signed.programme_ids),
        at=signed.signed_at,
        valid_until=signed.valid_until,
    )


async def end_agreements_over(context: ServiceContext) -> int:
    """The agreements clock (a periodic job): each signed agreement past its last valid day (in Riga) ends, and its
    programmes leave the catalogue (`CooperationAgreementEnded`, in the same transaction): how many ended."""
    now = context.clock.now().astimezone(UTC)
    ended = 0
    async with context.database.transaction() as session:
        for over in await db.agreements_over(session, today_in_riga(context.clock)):
            offer = await offers_db.offer_by_id(session, over.offer_id)
            if offer is None or not await db.end_agreement(session, over.offer_id, now):
                continue
            await record_event(session, _ended_event(offer, over, now))
            log.info("agreement.ended", offer_id=str(over.offer_id), valid_until=over.valid_until.isoformat())
            ended += 1
    return ended


def _ended_event(offer: Offer, over: Agreement, at: datetime) -> CooperationAgreementEnded:
    return CooperationAgreementEnded(
        offer_id=offer.id,
        call_id=offer.call_id,
        institution_id=offer.institution_id,
        programme_ids=list(over.programme_ids),
        at=at,
    )


async def agreement(database: Database, actor: Actor, offer_id: uuid.UUID) -> Agreement:
    async with database.session() as session:
        await _reachable(session, actor, offer_id)
        found = await db.agreement(session, offer_id)
    if found is None:
        raise NotFound("the offer has no agreement")
    return found


async def agreement_document(database: Database, actor: Actor, offer_id: uuid.UUID) -> tuple[Agreement, bytes]:
    async with database.session() as session:
        await _reachable(session, actor, offer_id)
        found = await db.agreement(session, offer_id)
        content = await db.agreement_document(session, offer_id)
    if found is None or content is None:
        raise NotFound("the agreement has no signed document")
    return found, content
