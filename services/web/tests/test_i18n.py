"""Both languages: every message of the pages translated into Latvian with the same placeholders, and amounts,
numbers and dates written as each language writes them, in Riga time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from web import i18n

WEB = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
NBSP = "\u00a0"


def _extracted() -> set[str | tuple[str, ...]]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "N_": None, "ngettext": (1, 2)}
    found = extract_from_dir(str(WEB), method_map, options, keywords=keywords)
    return {message if isinstance(message, str) else tuple(message) for _, _, message, _, _ in found}


def _catalogue(language: str) -> dict[object, object]:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalogue = read_po(file)
    return {m.id: m.string for m in catalogue if m.id and not m.fuzzy}


def test_every_message_of_the_pages_has_its_latvian_translation_with_the_same_placeholders() -> None:
    latvian = _catalogue("lv")
    messages = _extracted()
    assert len(messages) > 150
    missing = [m for m in messages if not latvian.get(m)]
    assert not missing, f"not translated into Latvian (run `make messages`, then translate): {missing}"
    for message in messages:
        sources = (message,) if isinstance(message, str) else message
        translations = latvian[message]
        for translated in (translations,) if isinstance(translations, str) else translations:
            assert isinstance(translated, str) and translated
            assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(sources[-1])), message


def test_the_english_catalogue_has_every_message_and_the_messages_are_its_text() -> None:
    english = _catalogue("en")
    assert set(_extracted()) <= set(english)
    translations = i18n.load_translations("en")
    assert translations.gettext("Sign in") == "Sign in"
    assert i18n.load_translations("lv").gettext("Sign in") == "Pieteikties"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "Atrasta 1 programma"),
        (21, "Atrasta 21 programma"),
        (3, "Atrastas 3 programmas"),
        (11, "Atrastas 11 programmas"),
    ],
)
def test_latvian_plurals_follow_the_latvian_rule(count: int, expected: str) -> None:
    translations = i18n.load_translations("lv")
    said = translations.ngettext("%(num)d programme found", "%(num)d programmes found", count) % {"num": count}
    assert said == expected


def test_amounts_as_each_language_writes_them() -> None:
    assert i18n.Formats("lv").money(Decimal("320")) == f"320,00{NBSP}€"
    assert i18n.Formats("en").money(Decimal("320")) == "€320.00"
    assert i18n.Formats("lv").money(Decimal("1234.5")) == f"1{NBSP}234,50{NBSP}€"
    assert i18n.Formats("en").money("1234.5") == "€1,234.50"
    assert i18n.Formats("lv").number(28063) == f"28{NBSP}063"


def test_dates_and_times_in_riga_time() -> None:
    assert i18n.Formats("lv").day(date(2026, 12, 2)) == "2026. gada 2. decembris"
    assert i18n.Formats("en").day("2026-12-02") == "2 December 2026"
    # 22:30 UTC on 31 December is already the new year in Riga (UTC+2 in winter)
    assert i18n.Formats("en").moment(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == "1 January 2027, 00:30"
    assert i18n.Formats("lv").moment("2026-06-30T21:15:00+00:00") == "2026. gada 1. jūlijs, 00:15"  # summer: UTC+3


def test_a_missing_value_is_a_dash_not_an_error() -> None:
    formats = i18n.Formats("lv")
    assert formats.money(None) == formats.day(None) == formats.moment("") == formats.number(None) == "—"
