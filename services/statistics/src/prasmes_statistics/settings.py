"""The statistics service's settings (the agency's anomaly rules) and adapters (the bus, read for a rebuild's
progress)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from prasmes_runtime.bus import Bus, create_bus
from prasmes_runtime.settings import Settings
from pydantic import Field

from prasmes_statistics.domain.anomalies import AnomalyRules


class StatisticsSettings(Settings):
    service_name: str = "statistics"
    anomaly_quick_completion_days: int = Field(default=7, ge=1, le=365)
    """A completion recorded fewer days than this after the start is flagged (ANOMALY_QUICK_COMPLETION_DAYS)."""
    anomaly_late_enrolment_days: int = Field(default=1, ge=0, le=60)
    """An enrolment this many days or fewer before its group's start is late (ANOMALY_LATE_ENROLMENT_DAYS)."""
    anomaly_late_enrolment_share: Decimal = Field(default=Decimal(50), gt=0, le=100)
    """An institution with at least this percent of late enrolments is flagged (ANOMALY_LATE_ENROLMENT_SHARE)."""
    anomaly_completion_rate_gap: Decimal = Field(default=Decimal(25), gt=0, le=100)
    """Percentage points from the peers' completion rate that flag (ANOMALY_COMPLETION_RATE_GAP)."""
    anomaly_rating_gap: Decimal = Field(default=Decimal("0.8"), gt=0, le=4)
    """Stars from the peers' mean rating that flag (ANOMALY_RATING_GAP)."""
    anomaly_min_people: int = Field(default=10, ge=1, le=10000)
    """A share, a rate or a rating flags only when it is of at least this many (ANOMALY_MIN_PEOPLE)."""

    def anomaly_rules(self) -> AnomalyRules:
        return AnomalyRules(
            quick_completion_days=self.anomaly_quick_completion_days,
            late_enrolment_days=self.anomaly_late_enrolment_days,
            late_enrolment_share=self.anomaly_late_enrolment_share,
            min_enrolments=self.anomaly_min_people,
            completion_rate_gap=self.anomaly_completion_rate_gap,
            min_started=self.anomaly_min_people,
            rating_gap=self.anomaly_rating_gap,
            min_raters=self.anomaly_min_people,
        )


@dataclass(frozen=True)
class StatisticsAdapters:
    bus: Bus
    """How far the projection's consumer group has come on each topic (a rebuild's progress)."""


def build_adapters(settings: StatisticsSettings) -> StatisticsAdapters:
    return StatisticsAdapters(bus=create_bus(settings))
