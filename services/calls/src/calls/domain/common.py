"""What every calls aggregate shares: Riga time and normalised text."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from prasmes_runtime.clock import RIGA
from prasmes_runtime.errors import InvalidInput


def riga_midnight(day: date) -> datetime:
    """The first instant (UTC) of a Riga calendar day."""
    return datetime.combine(day, time(0, 0), tzinfo=RIGA).astimezone(UTC)


def riga_minute(value: datetime, field: str) -> datetime:
    """A deadline given to the minute: a Riga wall-clock time (naive) or an instant (aware), as a UTC instant.
    A wall-clock time that does not exist or happens twice in Riga (the hour of a daylight-saving change) is
    refused: which instant it means would be a guess."""
    if value.second or value.microsecond:
        raise InvalidInput.of(field, "to_the_minute", "a deadline is given to the minute (no seconds)")
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    first, second = value.replace(tzinfo=RIGA, fold=0), value.replace(tzinfo=RIGA, fold=1)
    instant = first.astimezone(UTC)
    if first.utcoffset() != second.utcoffset() or instant.astimezone(RIGA).replace(tzinfo=None) != value:
        raise InvalidInput.of(
            field, "riga_time", f"{value:%Y-%m-%d %H:%M} is not one single moment in Riga (a daylight-saving change)"
        )
    return instant


def in_riga(instant: datetime) -> str:
    """An instant as Riga wall-clock time for people, e.g. "2025-10-10 23:59 (Europe/Riga, UTC+03:00)"."""
    local = instant.astimezone(RIGA)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (Europe/Riga, UTC{offset[:3]}:{offset[3:]})"


def one_minute_after(instant: datetime) -> datetime:
    return instant + timedelta(minutes=1)


def text_key(text: str) -> str:
    """Diacritics-, case- and punctuation-insensitive form, for comparing what a provider typed with a register."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.casefold().split())


def add_years(day: date, years: int) -> date:
    """The same day `years` later (earlier when negative); 29 February becomes the 28th in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
