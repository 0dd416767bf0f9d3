"""What every catalog aggregate shares: normalised text, and the checks that collect violations."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from prasmes_runtime.errors import InvalidInput, Violation

DIGCOMP_LEVELS = range(1, 9)
LANGUAGE = re.compile(r"^[a-z]{2}$")


def search_key(text: str) -> str:
    """Diacritics-insensitive, case-insensitive form: NFKD, combining marks stripped, casefolded.
    "Datu analīze" and "DATU ANALIZE" both become "datu analize"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def search_words(query: str) -> list[str]:
    """The words of a search query, normalised like the indexed text; each must match."""
    return re.findall(r"\w+", search_key(query))[:10]


def listed(items: Iterable[object]) -> str:
    """Items for a message, as words ("a, b, c"), never as a Python list."""
    return ", ".join(str(item) for item in items)


def add_years(day: date, years: int) -> date:
    """The same day `years` later (earlier when negative); 29 February becomes the 28th in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def raise_if_any(violations: list[Violation]) -> None:
    if violations:
        raise InvalidInput(*violations)


def check_text(violations: list[Violation], name: str, value: str, *, max_length: int, min_length: int = 1) -> None:
    if len(value.strip()) < min_length:
        needed = "must not be empty" if min_length == 1 else f"must have at least {min_length} characters"
        violations.append(Violation(name, "required", needed))
    elif len(value) > max_length:
        violations.append(Violation(name, "max_length", f"must have at most {max_length} characters"))


def check_digcomp(violations: list[Violation], name: str, level: int) -> None:
    if level not in DIGCOMP_LEVELS:
        violations.append(Violation(name, "digcomp_range", "a DigComp proficiency level is 1 to 8"))


def check_language(violations: list[Violation], language: str) -> None:
    if not language.strip():
        violations.append(Violation("language", "required", "the language of instruction, e.g. lv or en"))
    elif not LANGUAGE.match(language):
        violations.append(Violation("language", "format", "an ISO 639-1 code such as lv or en"))
