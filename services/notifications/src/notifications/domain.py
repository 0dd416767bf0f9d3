"""Notices. Pure Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Notice:
    id: uuid.UUID
    recipient_id: str
    """The recipient's opaque user id."""
    kind: str
    title: dict[str, str]
    """By language: lv and en."""
    body: dict[str, str]
    created_at: datetime
    read_at: datetime | None = None
    cause_event_id: str | None = None


def welcome_notice(recipient_id: str, account_id: uuid.UUID, at: datetime, cause_event_id: str) -> Notice:
    return Notice(
        id=uuid.uuid4(),
        recipient_id=recipient_id,
        kind="welcome",
        title={"lv": "Laipni lūdzam STARS!", "en": "Welcome to STARS!"},
        body={
            "lv": "Jūsu individuālais mācību konts ir atvērts. Tagad varat pieteikties mācībām.",
            "en": "Your individual learning account is open. You can now apply for studies.",
        },
        created_at=at,
        cause_event_id=cause_event_id,
    )
