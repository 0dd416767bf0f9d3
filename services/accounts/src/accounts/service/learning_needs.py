"""The learning needs of the funding projects, as calls' events tell them: a read model, replaced call by call."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from accounts.db import Session
from accounts.db import call_needs as needs_db
from accounts.domain.learning_needs import LearningNeed, of_project, replaces


async def call_opened(
    session: Session, call_id: uuid.UUID, project_code: str, code: str, title: dict[str, str]
) -> None:
    await needs_db.save_call(session, call_id, project_code, code, title)


async def needs_approved(
    session: Session,
    call_id: uuid.UUID,
    project_code: str,
    approved_on: date,
    at: datetime,
    needs: Sequence[tuple[str, dict[str, str]]],
) -> bool:
    """The call's latest list replaces its earlier one (other calls of the project keep theirs); an older list than
    the one stored (a dead letter replayed late) changes nothing. True when it was applied."""
    if not replaces(await needs_db.needs_approved_at(session, call_id), at):
        return False
    unique = list({code: (code, title) for code, title in needs}.values())  # a code named twice counts once
    await needs_db.replace_needs(session, call_id, project_code, approved_on, at, unique)
    return True


async def project_needs(session: Session, project_code: str) -> list[LearningNeed]:
    """The project's approved learning needs over all its calls, one per code, by code."""
    return (await projects_needs(session, [project_code]))[project_code]


async def projects_needs(session: Session, project_codes: Sequence[str]) -> dict[str, list[LearningNeed]]:
    stored = await needs_db.needs_of(session, project_codes)
    return {code: of_project(needs) for code, needs in stored.items()}
