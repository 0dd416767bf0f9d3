"""The learner's credential of completed studies: when there is one and what it states (its format, Open Badges 3.0
as VC-JWT, is `prasmes_documents.credentials`').

Only completed studies have a credential. It states the study record as the institution kept it (the dates, the
hours attended, the result) and the programme as catalog published it (its title, institution, hours, DigComp
level), in the learner's preferred language where the title has it. The learner is an opaque id and their name
(their profile's, when it gives one): never their personal code, nor the ids the platform's events carry.
It is valid from the day the studies were completed, as dated in Riga.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from prasmes_documents.credentials import CompletedStudy
from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import Conflict

from accounts.domain.account import Profile
from accounts.domain.programmes import Programme
from accounts.domain.studies import Enrolment, StudyState

LANGUAGES = ("lv", "en")


@dataclass(frozen=True)
class CredentialIds:
    """The credential's and the learner's ids: opaque, made by the credential key's holder (see `CredentialKey`)."""

    credential_id: str
    subject_id: str


def require_completed(enrolment: Enrolment) -> None:
    """Raise Conflict with the current state unless the studies are completed."""
    if enrolment.state is not StudyState.COMPLETED:
        message = f"a credential is issued once the studies are completed (current state: {enrolment.state.value})"
        raise Conflict(message, enrolment.current())


def _title(programme: Programme, preferred: str) -> tuple[str, str]:
    """The programme's title in the preferred language, else in Latvian or English, with that language."""
    for language in (preferred, *LANGUAGES):
        if title := programme.title.get(language):
            return title, language
    return next(iter(programme.title.values()), str(programme.id)), LANGUAGES[0]


def completed_study(enrolment: Enrolment, programme: Programme, profile: Profile, ids: CredentialIds) -> CompletedStudy:
    """What the credential of `enrolment`'s completed studies states."""
    require_completed(enrolment)
    assert enrolment.started_on and enrolment.ended_on and enrolment.hours_attended is not None and enrolment.result
    title, language = _title(programme, profile.preferred_language)
    return CompletedStudy(
        credential_id=ids.credential_id,
        subject_id=ids.subject_id,
        learner_name=profile.full_name,
        achievement_id=programme.id.urn,
        programme_title=title,
        language=language,
        institution_id=programme.institution_id.urn,
        institution_name=programme.institution_name,
        programme_hours=programme.hours,
        hours_attended=enrolment.hours_attended,
        result=enrolment.result,
        digcomp_level=programme.digcomp_level,
        started_on=enrolment.started_on,
        completed_on=enrolment.ended_on,
        valid_from=datetime.combine(enrolment.ended_on, time(), RIGA),
    )
