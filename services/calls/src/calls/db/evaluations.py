"""Evaluations (the assigned evaluator), their findings per criterion, clarifications, decisions and cooperation
agreements (with the signed document's bytes). People are opaque user ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db.common import Row, dumps, loads, metadata
from calls.db.offers import offers
from calls.db.readmodels import providers
from calls.domain.agreements import Agreement
from calls.domain.evaluations import Clarification, Decision, Evaluation, Finding, Reason

evaluations = sa.Table(
    "evaluations",
    metadata,
    sa.Column("offer_id", sa.Uuid(), sa.ForeignKey("offers.id"), primary_key=True),
    sa.Column("evaluator_id", sa.String(64), nullable=False, index=True),
    sa.Column("assigned_at", UtcDateTime(), nullable=False),
    sa.Column("assigned_by", sa.String(64), nullable=False),
)

findings = sa.Table(
    "findings",
    metadata,
    sa.Column("offer_id", sa.Uuid(), sa.ForeignKey("offers.id"), primary_key=True),
    sa.Column("criterion", sa.String(30), primary_key=True),
    sa.Column("result", sa.String(30), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
)

clarifications = sa.Table(
    "clarifications",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("offer_id", sa.Uuid(), sa.ForeignKey("offers.id"), nullable=False, index=True),
    sa.Column("criteria", sa.Text(), nullable=False),
    sa.Column("question", sa.Text(), nullable=False),
    sa.Column("asked_at", UtcDateTime(), nullable=False),
    sa.Column("asked_by", sa.String(64), nullable=False),
    sa.Column("due_on", sa.Date(), nullable=False),
    sa.Column("answer", sa.Text(), nullable=True),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Column("answered_by", sa.String(64), nullable=True),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("offer_id", sa.Uuid(), sa.ForeignKey("offers.id"), primary_key=True),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("reasons", sa.Text(), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=False),
)

agreements = sa.Table(
    "agreements",
    metadata,
    sa.Column("offer_id", sa.Uuid(), sa.ForeignKey("offers.id"), primary_key=True),
    sa.Column("number", sa.String(50), nullable=False, unique=True),
    sa.Column("valid_from", sa.Date(), nullable=False),
    sa.Column("valid_until", sa.Date(), nullable=False),
    sa.Column("programme_ids", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("signed_at", UtcDateTime(), nullable=True),
    sa.Column("signed_by", sa.String(64), nullable=True),
    sa.Column("document_sha256", sa.String(64), nullable=True),
    sa.Column("document_filename", sa.String(255), nullable=True),
    sa.Column("document_media_type", sa.String(100), nullable=True),
    sa.Column("document", sa.LargeBinary(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
)


# --------------------------------------------------------------------------- evaluations and findings


async def evaluation(session: AsyncSession, offer_id: uuid.UUID) -> Evaluation | None:
    row = (await session.execute(evaluations.select().where(evaluations.c.offer_id == offer_id))).first()
    if row is None:
        return None
    found = await session.execute(findings.select().where(findings.c.offer_id == offer_id))
    return Evaluation(
        offer_id=offer_id,
        evaluator_id=row.evaluator_id,
        assigned_at=row.assigned_at,
        findings={f.criterion: Finding(f.criterion, f.result, f.note, f.recorded_at) for f in found},
    )


async def assign(session: AsyncSession, offer_id: uuid.UUID, evaluator_id: str, at: datetime, by: str) -> None:
    """Assign (or reassign) the evaluator; the findings recorded so far stay."""
    values = {"evaluator_id": evaluator_id, "assigned_at": at, "assigned_by": by}
    updated = await session.execute(evaluations.update().where(evaluations.c.offer_id == offer_id).values(**values))
    if not updated.rowcount:  # type: ignore[attr-defined]
        await session.execute(evaluations.insert().values(offer_id=offer_id, **values))


async def save_findings(session: AsyncSession, offer_id: uuid.UUID, given: Sequence[Finding], by: str) -> None:
    for finding in given:
        await session.execute(
            findings.delete().where(findings.c.offer_id == offer_id, findings.c.criterion == finding.criterion)
        )
        await session.execute(
            findings.insert().values(
                offer_id=offer_id,
                criterion=finding.criterion,
                result=finding.result,
                note=finding.note,
                recorded_at=finding.recorded_at,
                recorded_by=by,
            )
        )


async def start_evaluation_of_call(session: AsyncSession, call_id: uuid.UUID, at: datetime) -> int:
    """Every submitted offer of the call is under evaluation once the deadline passed."""
    result = await session.execute(
        offers.update()
        .where(offers.c.call_id == call_id, offers.c.state == "submitted")
        .values(state="under_evaluation", updated_at=at, updated_by="calls")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def evaluations_of_call(session: AsyncSession, call_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str]]:
    """(offer id, evaluator id, offer state) of every assigned offer of the call."""
    query = (
        sa.select(evaluations.c.offer_id, evaluations.c.evaluator_id, offers.c.state)
        .select_from(evaluations.join(offers, offers.c.id == evaluations.c.offer_id))
        .where(offers.c.call_id == call_id)
        .order_by(evaluations.c.evaluator_id, evaluations.c.offer_id)
    )
    return [(o, e, s) for o, e, s in await session.execute(query)]


AGENCY_SORTS = {
    "created": (offers.c.created_at, offers.c.id),
    "-updated": (offers.c.updated_at.desc(), offers.c.id),
    "state": (offers.c.state, offers.c.created_at, offers.c.id),
    "institution": (providers.c.name, offers.c.id),
}
"""How the agency's list of a call's offers may be sorted."""


async def offers_for_agency(
    session: AsyncSession, call_id: uuid.UUID, state: str | None, sort: str, limit: int, offset: int
) -> tuple[list[sa.Row[Any]], int]:
    """A page of the call's offers with their institution's name and evaluator, sorted by `AGENCY_SORTS[sort]`."""
    where = [offers.c.call_id == call_id] + ([offers.c.state == state] if state else [])
    total = await session.scalar(sa.select(sa.func.count()).select_from(offers).where(*where))
    query = (
        sa.select(
            offers.c.id,
            offers.c.institution_id,
            providers.c.name,
            offers.c.state,
            offers.c.version,
            offers.c.updated_at,
            evaluations.c.evaluator_id,
        )
        .select_from(
            offers.outerjoin(providers, providers.c.institution_id == offers.c.institution_id).outerjoin(
                evaluations, evaluations.c.offer_id == offers.c.id
            )
        )
        .where(*where)
        .order_by(*AGENCY_SORTS[sort])
        .limit(limit)
        .offset(offset)
    )
    return list(await session.execute(query)), int(total or 0)


async def conclusive_findings(session: AsyncSession, offer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    query = findings.select().where(
        findings.c.offer_id.in_(offer_ids), findings.c.result.in_(("meets", "does_not_meet"))
    )
    found: dict[uuid.UUID, set[str]] = {}
    for row in await session.execute(query):
        found.setdefault(row.offer_id, set()).add(row.criterion)
    return found


# --------------------------------------------------------------------------- clarifications


def _clarification(row: Row) -> Clarification:
    m = row._mapping
    return Clarification(
        id=m["id"],
        offer_id=m["offer_id"],
        criteria=tuple(loads(m["criteria"])),
        question=m["question"],
        asked_at=m["asked_at"],
        due_on=m["due_on"],
        answer=m["answer"],
        answered_at=m["answered_at"],
    )


async def insert_clarification(session: AsyncSession, clarification: Clarification, by: str) -> None:
    await session.execute(
        clarifications.insert().values(
            id=clarification.id,
            offer_id=clarification.offer_id,
            criteria=dumps(list(clarification.criteria)),
            question=clarification.question,
            asked_at=clarification.asked_at,
            asked_by=by,
            due_on=clarification.due_on,
        )
    )


async def clarification(session: AsyncSession, clarification_id: uuid.UUID) -> Clarification | None:
    row = (await session.execute(clarifications.select().where(clarifications.c.id == clarification_id))).first()
    return None if row is None else _clarification(row)


async def answer_clarification(
    session: AsyncSession, clarification_id: uuid.UUID, answer: str, at: datetime, by: str
) -> bool:
    """Store the answer unless one is stored (a concurrent answer): an institution answers once."""
    result = await session.execute(
        clarifications.update()
        .where(clarifications.c.id == clarification_id, clarifications.c.answered_at.is_(None))
        .values(answer=answer, answered_at=at, answered_by=by)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clarifications_of(
    session: AsyncSession, offer_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Clarification], int]:
    where = clarifications.c.offer_id == offer_id
    total = await session.scalar(sa.select(sa.func.count()).select_from(clarifications).where(where))
    query = clarifications.select().where(where).order_by(clarifications.c.asked_at, clarifications.c.id)
    rows = await session.execute(query.limit(limit).offset(offset))
    return [_clarification(r) for r in rows], int(total or 0)


async def open_clarifications(session: AsyncSession, offer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    query = (
        sa.select(clarifications.c.offer_id, sa.func.count())
        .where(clarifications.c.offer_id.in_(offer_ids), clarifications.c.answered_at.is_(None))
        .group_by(clarifications.c.offer_id)
    )
    return {o: int(n) for o, n in await session.execute(query)}


# --------------------------------------------------------------------------- decisions


def _decision(row: Row) -> Decision:
    m = row._mapping
    return Decision(
        offer_id=m["offer_id"],
        outcome=m["outcome"],
        reasons=tuple(Reason(**r) for r in loads(m["reasons"])),
        decided_at=m["decided_at"],
        decided_by=m["decided_by"],
    )


async def insert_decision(session: AsyncSession, decision: Decision) -> None:
    await session.execute(
        decisions.insert().values(
            offer_id=decision.offer_id,
            outcome=decision.outcome,
            reasons=dumps([vars(r) for r in decision.reasons]),
            decided_at=decision.decided_at,
            decided_by=decision.decided_by,
        )
    )


async def decision(session: AsyncSession, offer_id: uuid.UUID) -> Decision | None:
    row = (await session.execute(decisions.select().where(decisions.c.offer_id == offer_id))).first()
    return None if row is None else _decision(row)


async def decisions_of_call(session: AsyncSession, call_id: uuid.UUID) -> list[tuple[Decision, uuid.UUID]]:
    """Every decision on an offer to the call, with the offer's institution, in the order they were taken."""
    query = (
        sa.select(decisions, offers.c.institution_id)
        .select_from(decisions.join(offers, offers.c.id == decisions.c.offer_id))
        .where(offers.c.call_id == call_id)
        .order_by(decisions.c.decided_at, decisions.c.offer_id)
    )
    return [(_decision(r), r.institution_id) for r in await session.execute(query)]


# --------------------------------------------------------------------------- agreements

AGREEMENT_META = [c for c in agreements.c if c.name not in ("document", "created_by", "signed_by")]


def _agreement(row: Row) -> Agreement:
    m = row._mapping
    return Agreement(
        offer_id=m["offer_id"],
        number=m["number"],
        valid_from=m["valid_from"],
        valid_until=m["valid_until"],
        programme_ids=tuple(uuid.UUID(p) for p in loads(m["programme_ids"])),
        created_at=m["created_at"],
        signed_at=m["signed_at"],
        document_sha256=m["document_sha256"],
        document_filename=m["document_filename"],
        document_media_type=m["document_media_type"],
        ended_at=m["ended_at"],
    )


async def insert_agreement(session: AsyncSession, agreement: Agreement, by: str) -> None:
    await session.execute(
        agreements.insert().values(
            offer_id=agreement.offer_id,
            number=agreement.number,
            valid_from=agreement.valid_from,
            valid_until=agreement.valid_until,
            programme_ids=dumps([str(p) for p in agreement.programme_ids]),
            created_at=agreement.created_at,
            created_by=by,
        )
    )


async def agreement(session: AsyncSession, offer_id: uuid.UUID, *, for_update: bool = False) -> Agreement | None:
    query = sa.select(*AGREEMENT_META).where(agreements.c.offer_id == offer_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else _agreement(row)


async def agreement_by_number(session: AsyncSession, number: str) -> Agreement | None:
    row = (await session.execute(sa.select(*AGREEMENT_META).where(agreements.c.number == number))).first()
    return None if row is None else _agreement(row)


async def sign_agreement(session: AsyncSession, signed: Agreement, document: bytes, by: str) -> bool:
    result = await session.execute(
        agreements.update()
        .where(agreements.c.offer_id == signed.offer_id, agreements.c.signed_at.is_(None))
        .values(
            signed_at=signed.signed_at,
            signed_by=by,
            document_sha256=signed.document_sha256,
            document_filename=signed.document_filename,
            document_media_type=signed.document_media_type,
            document=document,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def agreements_over(session: AsyncSession, today: date) -> list[Agreement]:
    """Signed agreements past their last valid day and not yet ended."""
    where = (agreements.c.signed_at.is_not(None), agreements.c.ended_at.is_(None), agreements.c.valid_until < today)
    return [_agreement(r) for r in await session.execute(sa.select(*AGREEMENT_META).where(*where))]


async def end_agreement(session: AsyncSession, offer_id: uuid.UUID, at: datetime) -> bool:
    """Ended now unless it ended already (another process's clock first): whether this transaction ended it."""
    where = (agreements.c.offer_id == offer_id, agreements.c.ended_at.is_(None))
    result = await session.execute(agreements.update().where(*where).values(ended_at=at))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def agreement_document(session: AsyncSession, offer_id: uuid.UUID) -> bytes | None:
    query = sa.select(agreements.c.document).where(agreements.c.offer_id == offer_id)
    content: bytes | None = await session.scalar(query)
    return content
