"""The mail a notice is sent as, its delivery's states, and the recipients' preferences. Pure Python.

A mail is written in the same transaction as its notice (so it is never lost nor made twice for one event) and sent
later by the sender loop: queued -> sending -> sent; a temporary failure goes back to queued with a growing delay,
until a bound, then failed; a permanent one (the server refuses the address) fails at once. A mail found `sending`
after a restart may or may not have reached the server: it becomes `in_doubt` and is not sent again by itself (an
operator may requeue it; it keeps its Message-ID, so a receiver can tell it is the same mail).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from prasmes_runtime.errors import Conflict, Violation

from notifications.domain.digests import DIGEST_KIND

MailState = Literal["queued", "sending", "sent", "failed", "in_doubt"]
MAIL_STATES: tuple[MailState, ...] = ("queued", "sending", "sent", "failed", "in_doubt")

CATEGORIES: dict[str, bool] = {
    "account": False,
    "applications": True,
    "grants": True,
    "studies": False,
    "surveys": False,
    "provider": False,
    "decisions": True,
    "evaluation": False,
    "registrations": False,
    "quality": False,
}
"""Category -> whether it is legal (always sent by e-mail): a learner's application and any use of their money
(`applications`, `grants`); an institution's registration and offers as the agency decides on them, and its requests
with a deadline (`decisions`). `evaluation` is the agency officers' own work (an offer to evaluate, an answer to
read), `registrations` and `quality` the work waiting for any officer (a registration to approve, a programme
flagged by its surveys): not legal. The one list of categories: the preferences, their checks and the mails take it."""

CATEGORY_OF: dict[str, str] = {
    "welcome": "account",
    "application_submitted": "applications",
    "application_approved": "applications",
    "application_rejected": "applications",
    "application_lapsed": "applications",
    "grant_spent": "grants",
    "grant_released": "grants",
    "enrolment_confirmed": "studies",
    "survey_invited": "surveys",
    "survey_reminded": "surveys",
    "provider_user_added": "provider",
    "provider_user_welcome": "provider",
    "offer_received": "provider",
    "agreement_signed": "provider",
    "programme_published": "provider",
    "provider_approved": "decisions",
    "provider_rejected": "decisions",
    "clarification_requested": "decisions",
    "offer_approved": "decisions",
    "offer_rejected": "decisions",
    "offer_assigned": "evaluation",
    "clarification_answered": "evaluation",
    "registration_waiting": "registrations",
    "quality_flagged": "quality",
}
"""Each notice kind's category (one of `CATEGORIES`)."""


def category_of(kind: str) -> str:
    """A notice kind's category; the digest is a category of its own (no preference: it is one)."""
    return DIGEST_KIND if kind == DIGEST_KIND else CATEGORY_OF[kind]


def is_legal(category: str) -> bool:
    return category != DIGEST_KIND and CATEGORIES[category]


DIGESTED_KINDS = frozenset(kind for kind, category in CATEGORY_OF.items() if not is_legal(category))
"""The kinds a recipient who chose the daily digest gets in it rather than each by mail (legal ones come at once)."""


@dataclass(frozen=True)
class Retry:
    """How a temporary failure is retried: the delay doubles from `first` up to `longest`, `attempts` in all."""

    first: timedelta
    longest: timedelta
    attempts: int

    def delay(self, attempt: int) -> timedelta:
        """The wait after the `attempt`-th failed attempt (1-based)."""
        factor: int = 2 ** (attempt - 1)
        return min(self.first * factor, self.longest)


@dataclass(frozen=True)
class Mail:
    id: uuid.UUID
    notice_id: uuid.UUID
    recipient_id: str
    kind: str
    values: dict[str, str]
    """What the template needs (a project, an amount, a date): no address, no name."""
    created_at: datetime
    state: MailState = "queued"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None

    @property
    def message_id(self) -> str:
        """Stable for the mail's life: every attempt sends the same Message-ID."""
        return f"<{self.id}@prasmes.lv>"

    @staticmethod
    def of(notice_id: uuid.UUID, recipient_id: str, kind: str, values: Mapping[str, str], now: datetime) -> Mail:
        return Mail(uuid.uuid4(), notice_id, recipient_id, kind, dict(values), now, next_attempt_at=now)

    def claimed(self, now: datetime) -> Mail:
        return replace(self, state="sending", claimed_at=now, attempts=self.attempts + 1)

    def sent(self, now: datetime) -> Mail:
        return replace(self, state="sent", sent_at=now, last_error=None)

    def failed_for_now(self, reason: str, now: datetime, retry: Retry) -> Mail:
        """A temporary failure: again after the delay, or given up once the attempts are spent."""
        if self.attempts >= retry.attempts:
            return replace(self, state="failed", last_error=f"gave up after {self.attempts} attempts: {reason}")
        return replace(self, state="queued", next_attempt_at=now + retry.delay(self.attempts), last_error=reason)

    def refused(self, reason: str) -> Mail:
        """A permanent failure (the server refuses the address or the message): given up at once."""
        return replace(self, state="failed", last_error=reason)

    def in_doubt(self) -> Mail:
        return replace(self, state="in_doubt", last_error="the service stopped while sending: it may have been sent")

    def requeued(self, now: datetime) -> Mail:
        """An operator sends a failed or in-doubt mail again (same Message-ID)."""
        if self.state not in ("failed", "in_doubt"):
            raise Conflict(f"a {self.state} mail is not sent again by hand", {"state": self.state})
        return replace(self, state="queued", attempts=0, next_attempt_at=now, last_error=None)


# --------------------------------------------------------------------------- preferences


def preference_violations(changes: Mapping[str, bool]) -> list[Violation]:
    """E-mail on or off per category: an unknown category or switching off a legal one, each named."""
    problems = []
    for category, on in changes.items():
        if category not in CATEGORIES:
            known = ", ".join(CATEGORIES)
            problems.append(Violation(f"email.{category}", "unknown_category", f"not a category ({known})"))
        elif is_legal(category) and not on:
            problems.append(
                Violation(f"email.{category}", "legal_notice", f"{category} notices are always sent by e-mail")
            )
    return problems


def email_wanted(category: str, preferences: Mapping[str, bool], *, digest: bool = False) -> bool:
    """A mail of its own: legal notices always; the rest unless the recipient switched the category off (on by
    default) or gets them in the daily digest."""
    return is_legal(category) or (not digest and preferences.get(category, True))
