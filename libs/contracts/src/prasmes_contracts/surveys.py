"""Events published by the surveys service: invitations to the study evaluation surveys, answers, programme ratings.

The learner appears only on `surveys.invitations`, as the opaque `learner_id` notifications needs to address the
invitation and the reminder; that topic is internal (`partner_readable=False`): it ties a survey id to a person.
The answers and the ratings are partner-readable and carry no person and no id that leads to one (no survey or
enrolment id: an enrolment id is on accounts' studies topic beside the learner's id), and never free text.
The agency's quality flags are on the internal `surveys.quality`: no person either, but a question the agency asks
of an institution is the agency's until it has looked (a flag is never a sanction).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from prasmes_contracts.events import Event, Topic

SurveyKind = Literal["completion", "discontinuation"]
LEARNER = "The learner's opaque user id (the token subject), to address the notice."


class _InvitationEvent(Event):
    service: ClassVar[str] = "surveys"
    key_field: ClassVar[str] = "survey_id"

    survey_id: UUID
    learner_id: str = Field(description=LEARNER)
    kind: SurveyKind
    programme_id: UUID
    institution_id: UUID
    closes_at: datetime = Field(description="The last instant the survey can be answered (UTC).")
    at: datetime = Field(description="When it happened (UTC).")


class SurveyInvited(_InvitationEvent):
    """The learner is invited to the survey of an enrolment they completed or discontinued."""


class SurveyReminded(_InvitationEvent):
    """The survey is still unanswered a set number of days after the invitation: the learner is reminded once."""


class SurveyAnswered(Event):
    """A survey was submitted. Only the closed answers: no free text, no person, no survey or enrolment id."""

    service: ClassVar[str] = "surveys"
    key_field: ClassVar[str] = "programme_id"

    programme_id: UUID
    institution_id: UUID
    project_code: str
    kind: SurveyKind
    questionnaire_version: int
    stars: dict[str, int] = Field(
        default_factory=dict, description="Completion: each aspect (knowledge_skills, ...) on 1-5 stars."
    )
    checks: dict[str, bool] = Field(
        default_factory=dict, description="Completion: description_matched, prior_knowledge_right, equipment_right."
    )
    digcomp_after: int | None = Field(default=None, description="Completion: the DigComp self-assessment (1-8).")
    reasons: list[str] = Field(default_factory=list, description="Discontinuation: the reason codes chosen.")
    at: datetime


class ProgrammeRatingChanged(Event):
    """A programme's rating from its completers' answers (each figure to one decimal): published once enough
    completers rated it for it to be public, and after every completion answer from then on."""

    service: ClassVar[str] = "surveys"
    key_field: ClassVar[str] = "programme_id"

    programme_id: UUID
    institution_id: UUID
    raters: int
    mean: Decimal = Field(description="The mean of the four aspects' means, one decimal.")
    aspects: dict[str, Decimal] = Field(description="Each aspect's mean, one decimal.")
    public: bool = Field(description="Whether enough completers rated it for the rating to be shown publicly.")
    at: datetime


FlagReason = Literal["low_rating", "high_dropout", "description_mismatch"]


class _QualityFlagEvent(Event):
    service: ClassVar[str] = "surveys"
    key_field: ClassVar[str] = "programme_id"

    programme_id: UUID
    institution_id: UUID
    reason: FlagReason
    value: Decimal = Field(description="The figure (a mean of stars, or a percent), one decimal.")
    threshold: Decimal = Field(description="The rule's threshold the figure is judged by.")
    over: int = Field(description="How many people the figure is over.")
    at: datetime


class QualityFlagRaised(_QualityFlagEvent):
    """A programme's survey results crossed one of the agency's quality rules (a low rating, a high dropout rate, a
    high share saying the description did not match): once when it crosses, not again until it was cleared."""


class QualityFlagCleared(_QualityFlagEvent):
    """The programme's figure is back within the rule: the flag no longer stands."""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "surveys.invitations",
        "surveys",
        "survey",
        (SurveyInvited, SurveyReminded),
        "Invitations and reminders to a learner's survey (internal: carries the learner id). Keyed by survey id.",
        partner_readable=False,
    ),
    Topic(
        "surveys.answers",
        "surveys",
        "programme",
        (SurveyAnswered,),
        "Submitted survey answers, closed questions only, no person. Keyed by programme id.",
    ),
    Topic(
        "surveys.ratings",
        "surveys",
        "programme",
        (ProgrammeRatingChanged,),
        "Public programme ratings from completion surveys, after every completion answer. Keyed by programme id.",
    ),
    Topic(
        "surveys.quality",
        "surveys",
        "programme",
        (QualityFlagRaised, QualityFlagCleared),
        "The agency's quality flags on programmes (internal: the agency's questions). Keyed by programme id.",
        partner_readable=False,
    ),
)
