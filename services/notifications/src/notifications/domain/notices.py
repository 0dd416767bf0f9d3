"""Notices. Pure Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from prasmes_runtime.clock import RIGA


@dataclass(frozen=True)
class Reference:
    """What a notice is about, for a client to link to: the resource's type and its id in the owning service."""

    type: str
    id: str

    @property
    def path(self) -> str:
        """The resource's path in its owning service's API (through the gateway under `/api/<service>`)."""
        return _PATHS[self.type].format(id=self.id)


_PATHS = {"survey": "/surveys/{id}"}


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
    reference: Reference | None = None
    """What the notice is about, when it is about one thing a client can open (a survey)."""
    values: dict[str, str] = field(default_factory=dict)
    """What its texts were written from (a project, an amount, a date); its mail's template takes the same."""

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
        values=values,
    )


SurveyKind = Literal["completion", "discontinuation"]
SurveyNoticeKind = Literal["survey_invited", "survey_reminded"]

_SURVEY_NOTICES: dict[tuple[SurveyNoticeKind, SurveyKind], tuple[dict[str, str], dict[str, str]]] = {
    ("survey_invited", "completion"): (
        {"lv": "Novērtējiet savas mācības", "en": "Evaluate your studies"},
        {
            "lv": "Aicinām jūs novērtēt pabeigtās mācības. Aptaujai var atbildēt līdz {lv_date}",
            "en": "You are invited to evaluate the studies you completed. The survey is open until {en_date}.",
        },
    ),
    ("survey_invited", "discontinuation"): (
        {"lv": "Novērtējiet savas mācības", "en": "Evaluate your studies"},
        {
            "lv": "Aicinām jūs novērtēt mācības, kuras pārtraucāt. Aptaujai var atbildēt līdz {lv_date}",
            "en": "You are invited to evaluate the studies you discontinued. The survey is open until {en_date}.",
        },
    ),
    ("survey_reminded", "completion"): (
        {"lv": "Atgādinājums: novērtējiet savas mācības", "en": "Reminder: evaluate your studies"},
        {
            "lv": "Aptauja par jūsu pabeigtajām mācībām vēl gaida atbildes. Tai var atbildēt līdz {lv_date}",
            "en": "The survey on the studies you completed still awaits your answers. It is open until {en_date}.",
        },
    ),
    ("survey_reminded", "discontinuation"): (
        {"lv": "Atgādinājums: novērtējiet savas mācības", "en": "Reminder: evaluate your studies"},
        {
            "lv": "Aptauja par mācībām, kuras pārtraucāt, vēl gaida atbildes. Tai var atbildēt līdz {lv_date}",
            "en": "The survey on the studies you discontinued still awaits your answers. It is open until {en_date}.",
        },
    ),
}

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def closing_day(closes_at: datetime) -> date:
    """The day in Riga of a survey's last instant: the date a learner is told they can answer until."""
    return closes_at.astimezone(RIGA).date()


def survey_notice(
    kind: SurveyNoticeKind,
    survey_kind: SurveyKind,
    recipient_id: str,
    survey_id: uuid.UUID,
    closes_at: datetime,
    at: datetime,
    cause_event_id: str,
) -> Notice:
    """The invitation to a survey of studies completed or discontinued, or its reminder, with the closing day in
    Riga (lv `30.11.2026.`, en `30 November 2026`) and the survey to open."""
    title, body = _SURVEY_NOTICES[(kind, survey_kind)]
    day = closing_day(closes_at)
    values = {"lv_date": f"{day:%d.%m.%Y}.", "en_date": f"{day.day} {_MONTHS[day.month - 1]} {day.year}"}
    return Notice(
        id=uuid.uuid4(),
        recipient_id=recipient_id,
        kind=kind,
        title=dict(title),
        body={lang: text.format(**values) for lang, text in body.items()},
        created_at=at,
        cause_event_id=cause_event_id,
        reference=Reference("survey", str(survey_id)),
        values=values | {"survey_kind": survey_kind},
    )
