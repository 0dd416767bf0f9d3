"""HTTP routes of the accounts service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from prasmes_runtime.auth import Principal, require_role
from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database
from pydantic import BaseModel, Field

from accounts import service
from accounts.domain import Account

router = APIRouter(prefix="/accounts", tags=["accounts"])
Learner = Annotated[Principal, Depends(require_role("learner"))]


def _database(request: Request) -> Database:
    database: Database = request.app.state.runtime.database
    return database


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


DatabaseDep = Annotated[Database, Depends(_database)]
ClockDep = Annotated[Clock, Depends(_clock)]


class OpenAccount(BaseModel):
    personal_code: str = Field(
        min_length=1,
        max_length=20,
        description="Personas kods, e.g. 161175-19997.",
        json_schema_extra={"examples": ["161175-19997"]},
    )
    birth_date: date | None = Field(
        default=None, description="Required for a new-form code (32...), which carries no birth date."
    )


class AccountOut(BaseModel):
    """The learner's view of their account. The personal code is shown masked, never whole."""

    id: uuid.UUID
    personal_code_masked: str
    birth_date: date
    opened_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        digits = account.personal_code.digits
        return cls(
            id=account.id,
            personal_code_masked=f"{digits[:2]}****-*****",
            birth_date=account.birth_date,
            opened_at=account.opened_at,
        )


@router.post("", status_code=201, response_model=AccountOut, summary="Open my learning account")
async def open_account(body: OpenAccount, learner: Learner, database: DatabaseDep, clock: ClockDep) -> AccountOut:
    account = await service.open_account(database, clock, learner.subject, body.personal_code, body.birth_date)
    return AccountOut.of(account)


@router.get("/me", response_model=AccountOut, summary="My learning account")
async def my_account(learner: Learner, database: DatabaseDep) -> AccountOut:
    return AccountOut.of(await service.account_of(database, learner.subject))


@router.get("/{account_id}", response_model=AccountOut, summary="A learning account (only your own)")
async def get_account(account_id: uuid.UUID, learner: Learner, database: DatabaseDep) -> AccountOut:
    return AccountOut.of(await service.get_account(database, learner.subject, account_id))
