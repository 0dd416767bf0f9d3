"""Evaluation of offers (the evaluator, findings, clarifications), the decision, the cooperation agreement, and the
agency's views of a call (offers per state, progress per officer, decisions as CSV and XLSX)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from prasmes_runtime.dependencies import ClockDep, DatabaseDep, PagingDep, refuse_unknown_query
from prasmes_runtime.http import attachment
from prasmes_runtime.schemas import Page, Text
from pydantic import BaseModel, Field

from calls.api.common import Agency, AgencyAdmin, CallsIn, ProviderAdmin, Reader, SettingsDep, actor_of
from calls.domain.agreements import Agreement
from calls.domain.evaluations import Clarification, Decision, FindingResult, Outcome, Reason
from calls.domain.offers import OfferState
from calls.service import evaluations, views
from calls.service.evaluations import EvaluationView, SignedDocument

router = APIRouter(tags=["evaluation"], dependencies=[Depends(refuse_unknown_query)])
CriterionCode = Annotated[Text, Field(min_length=1, max_length=30)]
Note = Annotated[Text, Field(max_length=4000)]
UserId = Annotated[Text, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@:-]+$")]


class EvaluatorIn(CallsIn):
    evaluator_id: UserId = Field(description="The agency officer's user id (the token's subject).")


class FindingIn(CallsIn):
    criterion: CriterionCode
    result: FindingResult
    note: Note = ""


class FindingsIn(CallsIn):
    findings: list[FindingIn] = Field(min_length=1, max_length=100)


class FindingOut(BaseModel):
    criterion: str
    result: FindingResult
    note: str
    recorded_at: datetime


class EvaluationOut(BaseModel):
    offer_id: uuid.UUID
    state: str
    evaluator_id: str | None
    assigned_at: datetime | None
    criteria: list[str] = Field(description="The call's criteria, by code, each needing a finding.")
    findings: list[FindingOut]
    missing: list[str] = Field(description="Criteria without a conclusive finding (meets / does not meet).")
    complete: bool

    @classmethod
    def of(cls, view: EvaluationView) -> EvaluationOut:
        e = view.evaluation
        found = [] if e is None else [FindingOut(**vars(e.findings[c])) for c in view.criteria if c in e.findings]
        return cls(
            offer_id=view.offer.id,
            state=view.offer.state,
            evaluator_id=None if e is None else e.evaluator_id,
            assigned_at=None if e is None else e.assigned_at,
            criteria=list(view.criteria),
            findings=found,
            missing=view.missing,
            complete=not view.missing,
        )


class ClarificationIn(CallsIn):
    criteria: list[CriterionCode] = Field(min_length=1, max_length=30)
    question: Annotated[Text, Field(min_length=1, max_length=4000)]


class AnswerIn(CallsIn):
    answer: Annotated[Text, Field(min_length=1, max_length=8000)]


class ClarificationOut(BaseModel):
    id: uuid.UUID
    offer_id: uuid.UUID
    criteria: list[str]
    question: str
    asked_at: datetime
    due_on: date = Field(description="Answer by the end of this day (Riga time).")
    answer: str | None
    answered_at: datetime | None

    @classmethod
    def of(cls, c: Clarification) -> ClarificationOut:
        return cls(**vars(c) | {"criteria": list(c.criteria)})


class ReasonIn(CallsIn):
    criterion: CriterionCode
    code: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_]+$")] = Field(
        description="A short reason code (on the public event), e.g. not_accredited."
    )
    text: Annotated[Text, Field(min_length=1, max_length=4000)] = Field(description="The reason, for the institution.")


class DecisionIn(CallsIn):
    outcome: Outcome
    reasons: list[ReasonIn] = Field(default=[], max_length=100)


class ReasonOut(BaseModel):
    criterion: str
    code: str
    text: str


class DecisionOut(BaseModel):
    offer_id: uuid.UUID
    outcome: Outcome
    reasons: list[ReasonOut]
    decided_at: datetime

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        reasons = [ReasonOut(**vars(r)) for r in d.reasons]
        return cls(offer_id=d.offer_id, outcome=d.outcome, reasons=reasons, decided_at=d.decided_at)


class AgreementIn(CallsIn):
    number: Annotated[Text, Field(min_length=1, max_length=50)]
    valid_from: date
    valid_until: date


class AgreementOut(BaseModel):
    offer_id: uuid.UUID
    number: str
    valid_from: date
    valid_until: date
    programme_ids: list[uuid.UUID]
    created_at: datetime
    signed: bool
    signed_at: datetime | None
    document_sha256: str | None
    document_filename: str | None
    ended_at: datetime | None = Field(
        default=None, description="When it ended (the day after its last valid day): its programmes left the catalogue."
    )

    @classmethod
    def of(cls, a: Agreement) -> AgreementOut:
        values = {k: v for k, v in vars(a).items() if k in cls.model_fields}
        return cls(**values | {"programme_ids": list(a.programme_ids), "signed": a.signed_at is not None})


class OfficerProgressOut(BaseModel):
    evaluator_id: str
    assigned: int
    complete: int
    decided: int
    findings: int = Field(description="Conclusive findings recorded.")
    criteria: int = Field(description="Findings needed: the call's criteria times the offers assigned.")
    open_clarifications: int


# --------------------------------------------------------------------------- evaluation


@router.put("/offers/{offer_id}/evaluator", response_model=EvaluationOut, summary="Assign the offer's evaluator")
async def assign(
    offer_id: uuid.UUID,
    body: EvaluatorIn,
    request: Request,
    user: AgencyAdmin,
    database: DatabaseDep,
    clock: ClockDep,
) -> EvaluationOut:
    actor = actor_of(request, user)
    await evaluations.assign(database, clock, actor, offer_id, body.evaluator_id)
    return EvaluationOut.of(await evaluations.evaluation(database, clock, actor, offer_id))


@router.get("/offers/{offer_id}/evaluation", response_model=EvaluationOut, summary="The offer's evaluation")
async def get_evaluation(
    offer_id: uuid.UUID, request: Request, user: Agency, database: DatabaseDep, clock: ClockDep
) -> EvaluationOut:
    return EvaluationOut.of(await evaluations.evaluation(database, clock, actor_of(request, user), offer_id))


@router.put("/offers/{offer_id}/findings", response_model=EvaluationOut, summary="Findings per criterion")
async def record_findings(
    offer_id: uuid.UUID,
    body: FindingsIn,
    request: Request,
    user: Agency,
    database: DatabaseDep,
    clock: ClockDep,
) -> EvaluationOut:
    given = [(f.criterion, f.result, f.note) for f in body.findings]
    return EvaluationOut.of(
        await evaluations.record_findings(database, clock, actor_of(request, user), offer_id, given)
    )


@router.post(
    "/offers/{offer_id}/clarifications",
    response_model=ClarificationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Ask the institution to clarify (answered once, within the working days)",
)
async def request_clarification(
    offer_id: uuid.UUID,
    body: ClarificationIn,
    request: Request,
    user: Agency,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> ClarificationOut:
    asked = await evaluations.request_clarification(
        database,
        clock,
        actor_of(request, user),
        offer_id,
        list(dict.fromkeys(body.criteria)),
        body.question,
        settings.clarification_working_days,
    )
    return ClarificationOut.of(asked)


@router.get("/offers/{offer_id}/clarifications", response_model=Page[ClarificationOut], summary="Clarifications")
async def list_clarifications(
    offer_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep, paging: PagingDep
) -> Page[ClarificationOut]:
    actor = actor_of(request, user)
    found, total = await evaluations.clarifications(database, actor, offer_id, paging.limit, paging.offset)
    return Page(items=[ClarificationOut.of(c) for c in found], total=total, limit=paging.limit, offset=paging.offset)


@router.post(
    "/offers/{offer_id}/clarifications/{clarification_id}/answer",
    response_model=ClarificationOut,
    summary="The institution's answer (once, by the due day)",
)
async def answer_clarification(
    offer_id: uuid.UUID,
    clarification_id: uuid.UUID,
    body: AnswerIn,
    request: Request,
    user: ProviderAdmin,
    database: DatabaseDep,
    clock: ClockDep,
) -> ClarificationOut:
    actor = actor_of(request, user)
    answered = await evaluations.answer_clarification(database, clock, actor, offer_id, clarification_id, body.answer)
    return ClarificationOut.of(answered)


# --------------------------------------------------------------------------- decision and agreement


@router.post(
    "/offers/{offer_id}/decision",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Decide a complete evaluation (not by its evaluator)",
)
async def decide(
    offer_id: uuid.UUID,
    body: DecisionIn,
    request: Request,
    user: AgencyAdmin,
    database: DatabaseDep,
    clock: ClockDep,
) -> DecisionOut:
    reasons = [Reason(r.criterion, r.code, r.text) for r in body.reasons]
    decided = await evaluations.decide(database, clock, actor_of(request, user), offer_id, body.outcome, reasons)
    return DecisionOut.of(decided)


@router.get("/offers/{offer_id}/decision", response_model=DecisionOut, summary="The decision and its reasons")
async def get_decision(offer_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep) -> DecisionOut:
    return DecisionOut.of(await evaluations.decision(database, actor_of(request, user), offer_id))


@router.post(
    "/offers/{offer_id}/agreement",
    response_model=AgreementOut,
    status_code=status.HTTP_201_CREATED,
    summary="The cooperation agreement's record (number, dates)",
)
async def make_agreement(
    offer_id: uuid.UUID,
    body: AgreementIn,
    request: Request,
    user: AgencyAdmin,
    database: DatabaseDep,
    clock: ClockDep,
) -> AgreementOut:
    made = await evaluations.make_agreement(
        database, clock, actor_of(request, user), offer_id, body.number, body.valid_from, body.valid_until
    )
    return AgreementOut.of(made)


@router.post(
    "/offers/{offer_id}/agreement/signature",
    response_model=AgreementOut,
    summary="The signed agreement (the body is the signed PDF or ASiC-E): publishes the offer's programmes",
)
async def sign_agreement(
    offer_id: uuid.UUID,
    request: Request,
    user: AgencyAdmin,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    filename: Annotated[Text | None, Query(max_length=255)] = None,
) -> AgreementOut:
    document = SignedDocument(filename, request.headers.get("content-type", ""), await request.body())
    actor = actor_of(request, user)
    signed = await evaluations.sign_agreement(database, clock, actor, offer_id, document, settings.max_attachment_bytes)
    return AgreementOut.of(signed)


@router.get("/offers/{offer_id}/agreement", response_model=AgreementOut, summary="The cooperation agreement")
async def get_agreement(offer_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep) -> AgreementOut:
    return AgreementOut.of(await evaluations.agreement(database, actor_of(request, user), offer_id))


@router.get("/offers/{offer_id}/agreement/document", summary="The signed agreement document's bytes")
async def agreement_document(offer_id: uuid.UUID, request: Request, user: Reader, database: DatabaseDep) -> Response:
    found, content = await evaluations.agreement_document(database, actor_of(request, user), offer_id)
    headers = {
        "Content-Disposition": attachment(found.document_filename or f"agreement-{found.number}"),
        "X-Content-SHA256": found.document_sha256 or "",
    }
    return Response(content=content, media_type=found.document_media_type, headers=headers)


# --------------------------------------------------------------------------- the agency's views


@router.get(
    "/agency/calls/{call_id}/offers-per-state", response_model=dict[str, int], summary="How many offers in each state"
)
async def offers_per_state(call_id: uuid.UUID, _: Agency, database: DatabaseDep) -> dict[str, int]:
    return await views.offers_per_state(database, call_id)


class AgencyOfferOut(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution: str = Field(description="The institution's name (calls' read model of catalog's registrations).")
    state: OfferState
    version: int
    updated_at: datetime
    evaluator_id: str | None


AgencySort = Literal["created", "-updated", "state", "institution"]


@router.get(
    "/agency/calls/{call_id}/offers",
    response_model=Page[AgencyOfferOut],
    summary="The call's offers for the agency: institution, state and evaluator; filtered by state, sorted",
)
async def agency_offers(
    call_id: uuid.UUID,
    _: Agency,
    database: DatabaseDep,
    paging: PagingDep,
    state: Annotated[OfferState | None, Query(description="Only the offers in this state.")] = None,
    sort: Annotated[AgencySort, Query(description="created (default), -updated, state or institution")] = "created",
) -> Page[AgencyOfferOut]:
    found, total = await views.offers_of_call(database, call_id, state, sort, paging.limit, paging.offset)
    items = [AgencyOfferOut(**vars(row)) for row in found]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get(
    "/agency/calls/{call_id}/evaluation-progress",
    response_model=Page[OfficerProgressOut],
    summary="Evaluation progress per officer",
)
async def evaluation_progress(
    call_id: uuid.UUID, _: Agency, database: DatabaseDep, paging: PagingDep
) -> Page[OfficerProgressOut]:
    found = await views.progress_per_officer(database, call_id)
    page = found[paging.offset : paging.offset + paging.limit]
    items = [OfficerProgressOut(**vars(p)) for p in page]
    return Page(items=items, total=len(found), limit=paging.limit, offset=paging.offset)


@router.get("/agency/calls/{call_id}/decisions.csv", summary="The call's decisions as CSV (one row per reason)")
async def decisions_csv(call_id: uuid.UUID, _: Agency, database: DatabaseDep) -> Response:
    rows = await views.decision_rows(database, call_id)
    headers = {"Content-Disposition": attachment(f"decisions-{call_id}.csv")}
    return Response(content=views.as_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/agency/calls/{call_id}/decisions.xlsx", summary="The call's decisions as XLSX (one row per reason)")
async def decisions_xlsx(call_id: uuid.UUID, _: Agency, database: DatabaseDep) -> Response:
    rows = await views.decision_rows(database, call_id)
    headers = {"Content-Disposition": attachment(f"decisions-{call_id}.xlsx")}
    return Response(content=views.as_xlsx(rows), media_type=XLSX, headers=headers)
