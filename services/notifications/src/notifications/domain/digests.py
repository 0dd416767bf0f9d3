"""The staff's daily digest: one mail a day listing what waits for them, instead of one mail per notice. Pure Python.

Staff only (an institution's users, the agency's): a learner's notices are each about their own application or
money, and come as they happen. Legal notices (decisions, deadlines the agency sets) are mailed at once even then;
the digest lists the other notices still unread that came since the last one. The digest is sent once a day, from
`DIGEST_HOUR` in Riga, and only when something waits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import Violation

DIGEST_KIND = "digest"
"""The digest mail's kind (a mail of no notice of its own)."""
MAX_ITEMS = 50
"""A digest lists this many titles at most, newest first, and says how many there are in all."""
_NAMESPACE = uuid.UUID("6f0b8d53-3c55-4f8e-9d0e-2b1c8f7d1a01")


@dataclass(frozen=True)
class DigestChoice:
    user_id: str
    chosen_at: datetime
    covered_until: datetime
    """The digest lists notices created after this: when it was chosen, then each digest's cut."""
    last_sent_on: date | None = None
    """The day (in Riga) of the last digest made, with or without a mail."""


def digest_violations(wanted: bool | None, *, staff: bool) -> list[Violation]:
    """Only staff choose the digest (anyone may say no to it)."""
    if wanted and not staff:
        return [Violation("digest", "staff_only", "a daily digest is for the staff of institutions and the agency")]
    return []


def due(choice: DigestChoice, now: datetime, hour: int) -> bool:
    """Once a day, from `hour` o'clock in Riga."""
    local = now.astimezone(RIGA)
    return local.hour >= hour and (choice.last_sent_on is None or choice.last_sent_on < local.date())


def digest_id(user_id: str, day: date) -> uuid.UUID:
    """The same for the user and the day in every process: one digest a day, whoever makes it."""
    return uuid.uuid5(_NAMESPACE, f"{user_id}/{day.isoformat()}")


def digest_values(titles: Sequence[dict[str, str]], total: int) -> dict[str, str]:
    """What the digest's template takes: how many wait, and their titles in each language (one a line)."""
    listed = titles[:MAX_ITEMS]
    return {
        "count": str(total),
        "lv_titles": "\n".join(t.get("lv", "") for t in listed),
        "en_titles": "\n".join(t.get("en", "") for t in listed),
    }
