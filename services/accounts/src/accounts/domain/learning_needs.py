"""The learning needs the supervisory council approved for a call, as calls' events told them (a read model), and
the rule an application's learning need follows.

A funding project may have several calls (IMK's 3rd and 4th): its learning needs are those of all its calls, each
call's latest list replacing its earlier one. An application names one of them by its code; the learner's own words
(`learning_need`) stay with accounts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from prasmes_runtime.errors import InvalidInput

FIELD = "learning_need_code"
KNOWN = "known_learning_need"
"""The rule of an application's learning need: one of its project's approved needs, or none while it has none."""


@dataclass(frozen=True)
class LearningNeed:
    code: str
    title: dict[str, str]
    """By language: lv, en."""
    call_id: uuid.UUID
    approved_on: date
    approved_at: datetime
    """When calls published the list it is in: the later list of a code wins."""


def replaces(stored_at: datetime | None, at: datetime) -> bool:
    """Whether a call's list approved (published) `at` replaces the one stored: not when it is older (a dead letter
    replayed after a newer list took effect)."""
    return stored_at is None or at >= stored_at


def of_project(needs: Iterable[LearningNeed]) -> list[LearningNeed]:
    """A project's needs over all its calls: one per code (the latest list's when two calls name it), by code."""
    latest: dict[str, LearningNeed] = {}
    for need in sorted(needs, key=lambda n: (n.approved_at, n.approved_on)):
        latest[need.code] = need
    return [latest[code] for code in sorted(latest)]


def check_learning_need(project_code: str, code: str | None, needs: Sequence[LearningNeed]) -> None:
    """An application's learning need is one of its project's approved needs, required once it has any; while it has
    none (no call's list has reached accounts) there is nothing to choose and a code is refused."""
    codes = sorted(n.code for n in needs)
    if not codes:
        if code is None:
            return
        raise InvalidInput.of(
            FIELD, KNOWN, f"{project_code} has no approved learning needs yet: leave {FIELD} out (there is no {code})"
        )
    allowed = ", ".join(codes)
    if code is None:
        raise InvalidInput.of(FIELD, "missing", f"choose one of {project_code}'s approved learning needs: {allowed}")
    if code not in codes:
        raise InvalidInput.of(
            FIELD, KNOWN, f"{project_code} has no approved learning need {code}; choose one of: {allowed}"
        )
