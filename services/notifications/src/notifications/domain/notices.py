"""Notices. Pure Python."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
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


_PATHS = {
    "survey": "/surveys/{id}",  # surveys
    "application": "/applications/{id}",  # accounts
    "institution": "/providers/{id}",  # catalog
    "programme": "/public/programmes/{id}",  # catalog: the public catalogue
    "offer": "/offers/{id}",  # calls
}
"""Each type's path in the API of the service that owns it."""


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
    return notice_of("welcome", recipient_id, {}, at, cause_event_id)


SILENT_RELEASES = frozenset({"lapsed"})
"""Causes of a grant's release that get no notice of their own: the lapse notice already says so."""


def grant_notice(
    kind: str, recipient_id: str, project: str, amount: str | None, at: datetime, cause_event_id: str
) -> Notice:
    """A notice on every change of the learner's grant (DOMAIN.md: beyond the seed); a rejection is
    `application_rejected_notice` (it says why)."""
    return notice_of(kind, recipient_id, {"project": project, "amount": amount or ""}, at, cause_event_id)


SurveyKind = Literal["completion", "discontinuation"]
SurveyNoticeKind = Literal["survey_invited", "survey_reminded"]

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


def day_values(day: date) -> dict[str, str]:
    """A day as the notices say it: `lv_date` `31.12.2026.` (the full stop is the date's), `en_date`
    `31 December 2026`."""
    return {"lv_date": f"{day:%d.%m.%Y}.", "en_date": f"{day.day} {_MONTHS[day.month - 1]} {day.year}"}


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
    values = day_values(closing_day(closes_at)) | {"survey_kind": survey_kind}
    return notice_of(kind, recipient_id, values, at, cause_event_id, Reference("survey", str(survey_id)))


# --------------------------------------------------------------------------- the kinds written from a table of texts

Phrases = dict[str, dict[str, str]]
"""A value that is one of a few codes: each code -> what it says, by language."""

APPLICATION_REJECTIONS: Phrases = {
    "not_eligible": {
        "lv": "Jūs neatbilstat projekta dalības nosacījumiem.",
        "en": "You do not meet the project's conditions for participation.",
    },
    "budget_exhausted": {
        "lv": "Projekta finansējums ir izsmelts.",
        "en": "The project's funding is exhausted.",
    },
    "incomplete": {
        "lv": "Pieteikumā trūka nepieciešamās informācijas vai dokumentu.",
        "en": "The application lacked required information or documents.",
    },
    "other": {"lv": "Iemeslu skatiet pieteikumā.", "en": "The reason is shown in your application."},
}
"""Why an application was rejected (accounts' `ApplicationRejected.reason_code`); the officer's own words are in the
application, never on a topic."""

REGISTRATION_REJECTIONS: Phrases = {
    "register_mismatch": {
        "lv": "Reģistrācijā norādītās ziņas neatbilst Izglītības iestāžu reģistram.",
        "en": "The details given do not match the Register of Educational Institutions.",
    },
    "statement_invalid": {
        "lv": "Iesniegtais apliecinājums nav derīgs.",
        "en": "The statement submitted is not valid.",
    },
    "not_an_education_institution": {
        "lv": "Reģistrētā organizācija nav izglītības iestāde.",
        "en": "The organisation registered is not an education institution.",
    },
    "duplicate": {
        "lv": "Šī iestāde platformā jau ir reģistrēta.",
        "en": "This institution is already registered on the platform.",
    },
    "other": {
        "lv": "Iemeslu skatiet iestādes reģistrācijā.",
        "en": "The reason is shown in the institution's registration.",
    },
}
"""Why an institution's registration was rejected (catalog's `ProviderRejected.reason_code`)."""

PROVIDER_ROLES: Phrases = {
    "provider_admin": {"lv": "administratora", "en": "administrator"},
    "provider_staff": {"lv": "darbinieka", "en": "staff"},
}
"""The rights a provider user has, as the notices name them ("ar administratora tiesībām", "with administrator
rights")."""


SURVEYED_STUDIES: Phrases = {
    "completion": {"lv": "pabeigtās mācības", "en": "the studies you completed"},
    "discontinuation": {"lv": "mācības, kuras pārtraucāt", "en": "the studies you discontinued"},
}
"""The studies a survey is of, as an invitation names them."""
REMINDED_STUDIES: Phrases = {
    "completion": {"lv": "jūsu pabeigtajām mācībām", "en": "the studies you completed"},
    "discontinuation": {"lv": "mācībām, kuras pārtraucāt,", "en": "the studies you discontinued"},
}
"""The same, as a reminder names them (Latvian: after "par", with the clause's comma)."""


QUALITY_REASONS: Phrases = {
    "low_rating": {"lv": "zemu vērtējumu", "en": "a low rating"},
    "high_dropout": {"lv": "augstu mācību pārtraukšanas īpatsvaru", "en": "a high dropout rate"},
    "description_mismatch": {
        "lv": "augstu īpatsvaru, kam apraksts neatbilda mācībām",
        "en": "a high share saying the description did not match the studies",
    },
}
"""Why surveys flagged a programme (its `QualityFlagRaised.reason`)."""


@dataclass(frozen=True)
class _Texts:
    title: dict[str, str]
    body: dict[str, str]
    """By language, with `{value}` placeholders; a phrased value's placeholder takes its phrase."""
    phrases: dict[str, Phrases] = field(default_factory=dict)
    """The values that are one of a few codes, with what each says."""


_TEXTS: dict[str, _Texts] = {
    # learners
    "welcome": _Texts(
        {"lv": "Laipni lūdzam STARS!", "en": "Welcome to STARS!"},
        {
            "lv": "Jūsu individuālais mācību konts ir atvērts. Tagad varat pieteikties mācībām.",
            "en": "Your individual learning account is open. You can now apply for studies.",
        },
    ),
    "application_approved": _Texts(
        {"lv": "Pieteikums apstiprināts", "en": "Application approved"},
        {
            "lv": "Jūsu pieteikums projektā {project} ir apstiprināts: rezervēti {amount} EUR.",
            "en": "Your application in {project} is approved: {amount} EUR is reserved for you.",
        },
    ),
    "application_lapsed": _Texts(
        {"lv": "Pieteikuma termiņš beidzies", "en": "Application lapsed"},
        {
            "lv": "Jūs nepieteicāties mācību grupai laikā; rezervētais finansējums projektā {project} ir atbrīvots.",
            "en": "You did not enrol in time; the grant reserved in {project} has been released.",
        },
    ),
    "grant_spent": _Texts(
        {"lv": "Finansējums izlietots", "en": "Grant spent"},
        {
            "lv": "No jūsu finansējuma projektā {project} samaksāti {amount} EUR par mācībām.",
            "en": "{amount} EUR of your grant in {project} paid for your studies.",
        },
    ),
    "grant_released": _Texts(
        {"lv": "Finansējums atbrīvots", "en": "Grant released"},
        {
            "lv": "{amount} EUR no jūsu finansējuma projektā {project} ir atbrīvoti.",
            "en": "{amount} EUR of your grant in {project} has been released.",
        },
    ),
    "survey_invited": _Texts(
        {"lv": "Novērtējiet savas mācības", "en": "Evaluate your studies"},
        {
            "lv": "Aicinām jūs novērtēt {survey_kind}. Aptaujai var atbildēt līdz {lv_date}",
            "en": "You are invited to evaluate {survey_kind}. The survey is open until {en_date}.",
        },
        {"survey_kind": SURVEYED_STUDIES},
    ),
    "survey_reminded": _Texts(
        {"lv": "Atgādinājums: novērtējiet savas mācības", "en": "Reminder: evaluate your studies"},
        {
            "lv": "Aptauja par {survey_kind} vēl gaida atbildes. Tai var atbildēt līdz {lv_date}",
            "en": "The survey on {survey_kind} still awaits your answers. It is open until {en_date}.",
        },
        {"survey_kind": REMINDED_STUDIES},
    ),
    "application_submitted": _Texts(
        {"lv": "Pieteikums saņemts", "en": "Application received"},
        {
            "lv": "Jūsu pieteikums projektā {project} ir saņemts. Par lēmumu jums paziņosim.",
            "en": "Your application in {project} has been received. You will be told of the decision.",
        },
    ),
    "application_rejected": _Texts(
        {"lv": "Pieteikums noraidīts", "en": "Application rejected"},
        {
            "lv": "Jūsu pieteikums projektā {project} ir noraidīts. {reason}",
            "en": "Your application in {project} was rejected. {reason}",
        },
        {"reason": APPLICATION_REJECTIONS},
    ),
    "enrolment_confirmed": _Texts(
        {"lv": "Vieta mācību grupā apstiprināta", "en": "Place in a study group confirmed"},
        {
            "lv": "Jūsu vieta mācību grupā projektā {project} ir apstiprināta. "
            "Mācību laiku un vietu skatiet platformā Prasmes.",
            "en": "Your place in a study group in {project} is confirmed. "
            "The dates and place of the studies are shown on Prasmes.",
        },
    ),
    # the provider admins of an institution (and a user added to it)
    "provider_approved": _Texts(
        {"lv": "Iestādes reģistrācija apstiprināta", "en": "Registration approved"},
        {
            "lv": "Jūsu izglītības iestādes reģistrācija ir apstiprināta. "
            "Tagad platformā varat darboties iestādes vārdā.",
            "en": "Your education institution's registration is approved. "
            "You can now act for the institution on Prasmes.",
        },
    ),
    "provider_rejected": _Texts(
        {"lv": "Iestādes reģistrācija noraidīta", "en": "Registration rejected"},
        {
            "lv": "Jūsu izglītības iestādes reģistrācija ir noraidīta. {reason}",
            "en": "Your education institution's registration was rejected. {reason}",
        },
        {"reason": REGISTRATION_REJECTIONS},
    ),
    "provider_user_added": _Texts(
        {"lv": "Iestādei pievienots lietotājs", "en": "User added to your institution"},
        {
            "lv": "Jūsu izglītības iestādei pievienots jauns lietotājs ar {role} tiesībām.",
            "en": "A new user with {role} rights was added to your education institution.",
        },
        {"role": PROVIDER_ROLES},
    ),
    "provider_user_welcome": _Texts(
        {"lv": "Jūs darbojaties iestādes vārdā", "en": "You now act for an institution"},
        {
            "lv": "Platformā Prasmes jums piešķirtas izglītības iestādes {role} tiesības.",
            "en": "You have been given {role} rights for an education institution on Prasmes.",
        },
        {"role": PROVIDER_ROLES},
    ),
    "offer_received": _Texts(
        {"lv": "Piedāvājums saņemts", "en": "Offer received"},
        {
            "lv": "Jūsu izglītības iestādes piedāvājums ir saņemts. "
            "To izvērtēs pēc piedāvājumu iesniegšanas termiņa beigām.",
            "en": "Your institution's offer has been received. It will be evaluated after the offer deadline.",
        },
    ),
    "clarification_requested": _Texts(
        {"lv": "Lūgts precizēt piedāvājumu", "en": "Clarification of your offer requested"},
        {
            "lv": "Vērtētājs lūdz precizēt jūsu iestādes piedāvājumu saistībā ar kritērijiem: {criteria}. "
            "Atbildēt var vienu reizi, līdz {lv_date}",
            "en": "The evaluator asks your institution to clarify its offer on the criteria: {criteria}. "
            "You can answer once, by {en_date}.",
        },
    ),
    "offer_approved": _Texts(
        {"lv": "Piedāvājums apstiprināts", "en": "Offer approved"},
        {
            "lv": "Jūsu izglītības iestādes piedāvājums ir apstiprināts. "
            "Nākamais solis ir sadarbības līguma noslēgšana.",
            "en": "Your institution's offer is approved. The next step is the cooperation agreement.",
        },
    ),
    "offer_rejected": _Texts(
        {"lv": "Piedāvājums noraidīts", "en": "Offer rejected"},
        {
            "lv": "Jūsu izglītības iestādes piedāvājums ir noraidīts saistībā ar kritērijiem: {criteria}. "
            "Iemeslus skatiet lēmumā.",
            "en": "Your institution's offer was rejected on the criteria: {criteria}. "
            "The reasons are shown in the decision.",
        },
    ),
    "agreement_signed": _Texts(
        {"lv": "Sadarbības līgums parakstīts", "en": "Cooperation agreement signed"},
        {
            "lv": "Sadarbības līgums par jūsu iestādes piedāvājumu ir parakstīts un ir spēkā līdz {lv_date} "
            "Līgumā iekļautās programmas tagad var publicēt publiskajā katalogā.",
            "en": "The cooperation agreement on your institution's offer is signed and in force until {en_date}. "
            "Its programmes can now be published in the public catalogue.",
        },
    ),
    "programme_published": _Texts(
        {"lv": "Programma publicēta", "en": "Programme published"},
        {
            "lv": "Jūsu iestādes programma „{lv_title}” ir publicēta publiskajā katalogā. "
            "Tagad varat plānot tās mācību grupas.",
            "en": "Your institution's programme “{en_title}” is published in the public catalogue. "
            "You can now schedule its study groups.",
        },
    ),
    # the agency's officers: the offer they evaluate
    "offer_assigned": _Texts(
        {"lv": "Piedāvājums nodots vērtēšanai", "en": "Offer assigned for evaluation"},
        {
            "lv": "Jums vērtēšanai ir nodots izglītības iestādes piedāvājums uzaicinājumā {call}.",
            "en": "An offer of an education institution in call {call} is assigned to you for evaluation.",
        },
    ),
    "clarification_answered": _Texts(
        {"lv": "Saņemta atbilde uz precizējuma lūgumu", "en": "Clarification answered"},
        {
            "lv": "Izglītības iestāde ir atbildējusi uz lūgumu precizēt tās piedāvājumu uzaicinājumā {call}. "
            "Atbildi skatiet piedāvājumā.",
            "en": "The education institution has answered the request to clarify its offer in call {call}. "
            "The answer is shown with the offer.",
        },
    ),
    # the agency's officers, every one of them: work waiting for the agency
    "registration_waiting": _Texts(
        {"lv": "Iestādes reģistrācija gaida apstiprinājumu", "en": "A registration awaits approval"},
        {
            "lv": "Izglītības iestāde „{institution}” ir reģistrējusies platformā un gaida apstiprinājumu. "
            "Lūdzam reģistrāciju izskatīt līdz {lv_date}",
            "en": "The education institution “{institution}” has registered on Prasmes and awaits approval. "
            "Please review the registration by {en_date}.",
        },
    ),
    "quality_flagged": _Texts(
        {"lv": "Programma atzīmēta kvalitātes pārbaudei", "en": "Programme flagged for a quality check"},
        {
            "lv": "Programmas aptaujas rezultāti rāda {reason}: {value} pret robežu {threshold} ({over} cilvēki). "
            "Atzīme ir jautājums izvērtēšanai, nevis sankcija.",
            "en": "A programme's survey results show {reason}: {value} against the threshold of {threshold} "
            "(over {over} people). A flag is a question to look into, never a sanction.",
        },
        {"reason": QUALITY_REASONS},
    ),
}

TEXT_KINDS = tuple(_TEXTS)
"""The kinds `notice_of` writes."""

CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    kind: {name: tuple(phrases) for name, phrases in t.phrases.items()} for kind, t in _TEXTS.items() if t.phrases
}
"""Kind -> its values that must be one of a few codes, and those codes (the mail's template picks its words by the
same codes)."""


def known(phrases: Phrases, code: str) -> str:
    """`code` when the texts know it, else `other`: a reason added upstream later still makes a notice (that points
    to where the reason is shown)."""
    return code if code in phrases else "other"


def notice_of(
    kind: str,
    recipient_id: str,
    values: Mapping[str, str],
    at: datetime,
    cause_event_id: str,
    reference: Reference | None = None,
) -> Notice:
    """A notice of one of `TEXT_KINDS`, its title and body written from `values` (those its mail takes too).

    Raises `KeyError` for a value missing or a phrased value that is none of its codes."""
    texts = _TEXTS[kind]
    kept = dict(values)

    def said(text: str, language: str) -> str:
        phrased = {name: phrases[kept[name]][language] for name, phrases in texts.phrases.items()}
        return text.format(**(kept | phrased))

    return Notice(
        id=uuid.uuid4(),
        recipient_id=recipient_id,
        kind=kind,
        title={lang: said(text, lang) for lang, text in texts.title.items()},
        body={lang: said(text, lang) for lang, text in texts.body.items()},
        created_at=at,
        cause_event_id=cause_event_id,
        reference=reference,
        values=kept,
    )


def programme_title(title: Mapping[str, str], language: str) -> str:
    """A programme's title in `language`, or in Latvian when it has none in that language."""
    return title.get(language) or title.get("lv") or next(iter(title.values()), "")
