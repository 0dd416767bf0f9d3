"""The surveys service's settings: when an unanswered survey is reminded and when it closes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from prasmes_runtime.settings import Settings
from pydantic import Field, model_validator

from surveys.domain.results import QualityRules
from surveys.domain.surveys import Timing


class SurveysSettings(Settings):
    service_name: str = "surveys"
    survey_reminder_days: int = Field(default=7, ge=1, le=365)
    """An unanswered survey is reminded once, this many days after the invitation (SURVEY_REMINDER_DAYS)."""
    survey_close_days: int = Field(default=30, ge=1, le=730)
    """A survey can be answered until this many days after the invitation (SURVEY_CLOSE_DAYS)."""

    rating_min_raters: int = Field(default=10, ge=1, le=1000)
    """A programme's rating becomes public once this many completers rated it (RATING_MIN_RATERS)."""
    quality_rating_below: Decimal = Field(default=Decimal("4.0"), ge=1, le=5)
    """The agency's flag: a public rating below this (QUALITY_RATING_BELOW)."""
    quality_dropout_above: Decimal = Field(default=Decimal("25"), ge=0, le=100)
    """The agency's flag: a dropout rate above this percent (QUALITY_DROPOUT_ABOVE)."""
    quality_mismatch_above: Decimal = Field(default=Decimal("20"), ge=0, le=100)
    """The agency's flag: a share above this percent saying the description did not match (QUALITY_MISMATCH_ABOVE)."""
    quality_min_people: int = Field(default=10, ge=1, le=10000)
    """A dropout or mismatch share flags only when over at least this many people (QUALITY_MIN_PEOPLE)."""

    @model_validator(mode="after")
    def _reminder_before_closing(self) -> SurveysSettings:
        if self.survey_reminder_days >= self.survey_close_days:
            raise ValueError("survey_reminder_days must be fewer than survey_close_days")
        return self

    def quality_rules(self) -> QualityRules:
        return QualityRules(
            rating_below=self.quality_rating_below,
            dropout_above=self.quality_dropout_above,
            mismatch_above=self.quality_mismatch_above,
            min_ended=self.quality_min_people,
            min_raters=self.rating_min_raters,
        )

    def timing(self) -> Timing:
        return Timing(timedelta(days=self.survey_reminder_days), timedelta(days=self.survey_close_days))
