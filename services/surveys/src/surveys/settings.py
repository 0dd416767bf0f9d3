"""The surveys service's settings: when an unanswered survey is reminded and when it closes."""

from __future__ import annotations

from datetime import timedelta

from prasmes_runtime.settings import Settings
from pydantic import Field, model_validator

from surveys.domain.surveys import Timing


class SurveysSettings(Settings):
    service_name: str = "surveys"
    survey_reminder_days: int = Field(default=7, ge=1, le=365)
    """An unanswered survey is reminded once, this many days after the invitation (SURVEY_REMINDER_DAYS)."""
    survey_close_days: int = Field(default=30, ge=1, le=730)
    """A survey can be answered until this many days after the invitation (SURVEY_CLOSE_DAYS)."""

    @model_validator(mode="after")
    def _reminder_before_closing(self) -> SurveysSettings:
        if self.survey_reminder_days >= self.survey_close_days:
            raise ValueError("survey_reminder_days must be fewer than survey_close_days")
        return self

    def timing(self) -> Timing:
        return Timing(timedelta(days=self.survey_reminder_days), timedelta(days=self.survey_close_days))
