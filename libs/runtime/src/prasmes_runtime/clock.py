"""Injectable time. Deadlines are judged in Europe/Riga; instants are stored in UTC."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
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


class OffsetClock:
    """A clock that starts at a given instant and runs at real speed from there (tests and rehearsals: a process
    set in a call's past or future, `CLOCK_START`). It moves with the monotonic clock, so a change of the machine's
    wall clock does not move it. Only the domain's time moves: tokens and other security checks stay on real time."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.utcoffset() is None:
            raise ValueError("the clock's start needs an offset (an instant, not a wall-clock time)")
        self.start = start.astimezone(UTC)
        self._monotonic = monotonic
        self._started = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self._monotonic() - self._started)


def today_in_riga(clock: Clock) -> date:
    return clock.now().astimezone(RIGA).date()
