"""Learning accounts, profiles and DigComp self-assessments."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, NotFound

from accounts.db import ConstraintViolation, Session
from accounts.db import account as account_db
from accounts.domain.account import Account, DigCompAssessment, Profile
from accounts.domain.account import assess_digcomp as new_assessment
from accounts.domain.account import open_account as new_account
from accounts.service import outbox


def _summary(account: Account) -> dict[str, str]:
    return {"account_id": str(account.id), "opened_at": account.opened_at.isoformat()}


async def open_account(
    database: Database, clock: Clock, learner_id: str, personal_code: str, birth_date: date | None
) -> Account:
    """The account's unique keys (the learner, the personal code) refuse a second one: the checks that say which
    run only then, so that an opening, nearly always a first one, costs two statements, not four."""
    account = new_account(learner_id, personal_code, birth_date, clock.now(), today_in_riga(clock))
    try:
        async with database.transaction() as session:
            await account_db.insert_account(session, account)
            await outbox.record(session, account.events)
    except ConstraintViolation:
        async with database.session() as session:
            await _refuse_second_account(session, learner_id, account)
        raise
    return account


async def _refuse_second_account(session: Session, learner_id: str, new: Account) -> None:
    own = await account_db.account_of_learner(session, learner_id)
    if own is not None:
        raise Conflict("you already have a learning account", {"state": "open", **_summary(own)})
    if await account_db.account_with_code(session, new.personal_code) is not None:
        # Never reveal whose account it is: only that the person already has one.
        raise Conflict("a learning account already exists for this personal code", {"state": "open"})


async def require_account(session: Session, learner_id: str) -> Account:
    account = await account_db.account_of_learner(session, learner_id)
    if account is None:
        raise NotFound("you have no learning account yet")
    return account


async def account_of(database: Database, learner_id: str) -> Account:
    async with database.session() as session:
        return await require_account(session, learner_id)


async def get_account(database: Database, learner_id: str, account_id: uuid.UUID) -> Account:
    """A learner's own account; another learner's is simply not found."""
    async with database.session() as session:
        account = await account_db.account_by_id(session, account_id)
    if account is None or account.learner_id != learner_id:
        raise NotFound(f"no learning account {account_id}")
    return account


async def update_profile(database: Database, learner_id: str, changes: dict[str, Any]) -> Account:
    """Change only the given fields; the personal code and the birth date are not part of a profile."""
    async with database.transaction() as session:
        account = await require_account(session, learner_id)
        profile: Profile = replace(account.profile, **changes)
        await account_db.update_profile(session, account.id, profile)
    return replace(account, profile=profile)


async def assess_digcomp(
    database: Database, clock: Clock, learner_id: str, levels: dict[str, int]
) -> DigCompAssessment:
    """Keep the learner's self-assessment (the history: every one) and publish it, in one transaction."""
    assessment = new_assessment(learner_id, levels, clock.now())
    async with database.transaction() as session:
        account = await require_account(session, learner_id)
        await account_db.add_assessment(session, account.id, assessment)
        await outbox.record(session, assessment.events)
    return assessment


async def assessments(database: Database, learner_id: str) -> list[DigCompAssessment]:
    async with database.session() as session:
        account = await require_account(session, learner_id)
        return await account_db.assessments_of(session, account.id)
