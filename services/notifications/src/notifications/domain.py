"""Notices. Pure Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
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

    def read(self, at: datetime) -> Notice:
        """Marked read at `at`; a notice read before keeps the time it was first read."""
        return self if self.read_at is not None else replace(self, read_at=at)


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


_GRANT_NOTICES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "application_approved": (
        {"lv": "Pieteikums apstiprināts", "en": "Application approved"},
        {
            "lv": "Jūsu pieteikums projektā {project} ir apstiprināts: rezervēti {amount} EUR.",
            "en": "Your application in {project} is approved: {amount} EUR is reserved for you.",
        },
    ),
    "application_rejected": (
        {"lv": "Pieteikums noraidīts", "en": "Application rejected"},
        {
            "lv": "Jūsu pieteikums projektā {project} ir noraidīts. Iemeslu skatiet pieteikumā.",
            "en": "Your application in {project} was rejected. The reason is shown in your application.",
        },
    ),
    "application_lapsed": (
        {"lv": "Pieteikuma termiņš beidzies", "en": "Application lapsed"},
        {
            "lv": "Jūs nepieteicāties mācību grupai laikā; rezervētais finansējums projektā {project} ir atbrīvots.",
            "en": "You did not enrol in time; the grant reserved in {project} has been released.",
        },
    ),
    "grant_spent": (
        {"lv": "Finansējums izlietots", "en": "Grant spent"},
        {
            "lv": "No jūsu finansējuma projektā {project} samaksāti {amount} EUR par mācībām.",
            "en": "{amount} EUR of your grant in {project} paid for your studies.",
        },
    ),
    "grant_released": (
        {"lv": "Finansējums atbrīvots", "en": "Grant released"},
        {
            "lv": "{amount} EUR no jūsu finansējuma projektā {project} ir atbrīvoti.",
            "en": "{amount} EUR of your grant in {project} has been released.",
        },
    ),
}


SILENT_RELEASES = frozenset({"lapsed"})
"""Causes of a grant's release that get no notice of their own: the lapse notice already says so."""


def grant_notice(
    kind: str, recipient_id: str, project: str, amount: str | None, at: datetime, cause_event_id: str
) -> Notice:
    """A notice on every change of the learner's grant (DOMAIN.md: beyond the seed)."""
    title, body = _GRANT_NOTICES[kind]
    values = {"project": project, "amount": amount or ""}
    return Notice(
        id=uuid.uuid4(),
        recipient_id=recipient_id,
        kind=kind,
        title=dict(title),
        body={lang: text.format(**values) for lang, text in body.items()},
        created_at=at,
        cause_event_id=cause_event_id,
    )
