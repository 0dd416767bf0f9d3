"""The agency's views of a call: its offers per state, the evaluation progress per officer, and the decisions as
rows for CSV and XLSX."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from prasmes_documents import tables
from prasmes_runtime.db import Database
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db import evaluations as db
from calls.db import offers as offers_db
from calls.db import readmodels
from calls.domain.common import in_riga
from calls.domain.evaluations import criteria_of
from calls.domain.offers import OfferState
from calls.service.calls import existing_call

DECISION_COLUMNS = (
    "offer_id",
    "institution_id",
    "institution",
    "outcome",
    "decided_at",
    "criterion",
    "reason_code",
    "reason",
)


async def offers_per_state(database: Database, call_id: uuid.UUID) -> dict[str, int]:
    """How many offers to the call are in each state (every state named, zero included)."""
    async with database.session() as session:
        await existing_call(session, call_id)
        counted = await offers_db.count_by_state(session, call_id)
    return {state: counted.get(state, 0) for state in get_args(OfferState)}


@dataclass(frozen=True)
class OfferRow:
    """One offer of the agency's list of a call's offers."""

    id: uuid.UUID
    institution_id: uuid.UUID
    institution: str
    state: str
    version: int
    updated_at: datetime
    evaluator_id: str | None


async def offers_of_call(
    database: Database, call_id: uuid.UUID, state: str | None, sort: str, limit: int, offset: int
) -> tuple[list[OfferRow], int]:
    """A page of the call's offers with their institution's name and evaluator (the agency's list)."""
    async with database.session() as session:
        await existing_call(session, call_id)
        rows, total = await db.offers_for_agency(session, call_id, state, sort, limit, offset)
    return [
        OfferRow(r.id, r.institution_id, r.name or "", r.state, r.version, r.updated_at, r.evaluator_id) for r in rows
    ], total


@dataclass(frozen=True)
class OfficerProgress:
    evaluator_id: str
    assigned: int
    complete: int
    """Offers whose every criterion has a conclusive finding."""
    decided: int
    findings: int
    """Conclusive findings recorded, of `criteria` per assigned offer."""
    criteria: int
    open_clarifications: int


async def progress_per_officer(database: Database, call_id: uuid.UUID) -> list[OfficerProgress]:
    async with database.session() as session:
        call = await existing_call(session, call_id)
        assigned = await db.evaluations_of_call(session, call_id)
        offer_ids = [offer_id for offer_id, _, _ in assigned]
        conclusive = await db.conclusive_findings(session, offer_ids)
        open_ = await db.open_clarifications(session, offer_ids)
    criteria = set(criteria_of(call))
    by_officer: dict[str, list[tuple[uuid.UUID, str]]] = {}
    for offer_id, evaluator, state in assigned:
        by_officer.setdefault(evaluator, []).append((offer_id, state))
    return [_progress(officer, offers, criteria, conclusive, open_) for officer, offers in by_officer.items()]


def _progress(
    officer: str,
    offers: Sequence[tuple[uuid.UUID, str]],
    criteria: set[str],
    conclusive: dict[uuid.UUID, set[str]],
    open_: dict[uuid.UUID, int],
) -> OfficerProgress:
    found = [len(conclusive.get(o, set()) & criteria) for o, _ in offers]
    return OfficerProgress(
        evaluator_id=officer,
        assigned=len(offers),
        complete=sum(1 for n in found if n == len(criteria)),
        decided=sum(1 for _, state in offers if state in ("approved", "rejected")),
        findings=sum(found),
        criteria=len(criteria) * len(offers),
        open_clarifications=sum(open_.get(o, 0) for o, _ in offers),
    )


async def decision_rows(database: Database, call_id: uuid.UUID) -> list[tuple[str, ...]]:
    """One row per reason (an approval: one row without one), in the order the decisions were taken."""
    async with database.session() as session:
        await existing_call(session, call_id)
        decided = await db.decisions_of_call(session, call_id)
        names = {i: await _name(session, i) for i in {institution for _, institution in decided}}
    rows: list[tuple[str, ...]] = []
    for decision, institution_id in decided:
        head = (str(decision.offer_id), str(institution_id), names[institution_id], decision.outcome)
        when = in_riga(decision.decided_at)
        for reason in decision.reasons or (None,):
            tail = ("", "", "") if reason is None else (reason.criterion, reason.code, reason.text)
            rows.append((*head, when, *tail))
    return rows


async def _name(session: AsyncSession, institution_id: uuid.UUID) -> str:
    provider = await readmodels.provider(session, institution_id)
    return "" if provider is None else provider.name


def as_csv(rows: Sequence[tuple[str, ...]]) -> bytes:
    return tables.as_csv(DECISION_COLUMNS, rows)


def as_xlsx(rows: Sequence[tuple[str, ...]]) -> bytes:
    return tables.as_xlsx(DECISION_COLUMNS, rows, sheet="decisions")
