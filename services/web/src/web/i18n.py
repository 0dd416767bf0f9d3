"""Languages: Latvian (the default) and English, from gettext catalogues (Babel), with numbers, money, dates and
times as each language writes them, in Riga time."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

Language = Literal["lv", "en"]
LANGUAGES: tuple[Language, ...] = ("lv", "en")
DEFAULT: Language = "lv"
RIGA = ZoneInfo("Europe/Riga")
LOCALE_DIR = Path(__file__).with_name("locale")
_BABEL_LOCALE: dict[Language, str] = {"lv": "lv_LV", "en": "en_IE"}
"""en_IE: English with the euro written first (€320.00) and day-month-year dates."""


def language_of(value: str | None) -> Language | None:
    for language in LANGUAGES:
        if value == language:
            return language
    return None


def load_translations(language: Language, locale_dir: Path = LOCALE_DIR) -> Translations:
    """The language's catalogue, compiled in memory from its .po file (no compiled file to build or commit)."""
    with (locale_dir / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source, locale=_BABEL_LOCALE[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


class Formats:
    """How one language writes amounts, numbers, dates and times (all times in Riga time)."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.locale = _BABEL_LOCALE[language]

    def money(self, amount: Decimal | float | str | None) -> str:
        if amount is None or amount == "":
            return "—"
        return _money(str(amount), self.locale)

    def number(self, value: Decimal | float | int | str | None, digits: int = 0) -> str:
        if value is None or value == "":
            return "—"
        return _number(str(value), digits, self.locale)

    def day(self, value: date | str | None) -> str:
        if value is None or value == "":
            return "—"
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return dates.format_date(day, format="long", locale=self.locale)

    def moment(self, value: datetime | str | None) -> str:
        """A date and time as it was in Riga."""
        if value is None or value == "":
            return "—"
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
        local = instant.astimezone(RIGA)
        day = dates.format_date(local.date(), format="long", locale=self.locale)
        return f"{day}, {local:%H:%M}"

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"money": self.money, "number": self.number, "day": self.day, "moment": self.moment}


# Babel parses its patterns on every call: a catalogue page writes the same few amounts and counts dozens of times.
@functools.lru_cache(maxsize=4096)
def _money(amount: str, locale: str) -> str:
    return numbers.format_currency(Decimal(amount), "EUR", locale=locale)


@functools.lru_cache(maxsize=4096)
def _number(value: str, digits: int, locale: str) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return numbers.format_decimal(Decimal(value), format=pattern, locale=locale)
