"""Injectable time. Deadlines are judged in Europe/Riga; instants are stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

RIGA = ZoneInfo("Europe/Riga")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def today_in_riga(clock: Clock) -> date:
    return clock.now().astimezone(RIGA).date()
