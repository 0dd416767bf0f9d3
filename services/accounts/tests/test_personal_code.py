"""Personal codes (personas kods): validated with python-stdnum, plus the platform's own rules."""

from datetime import UTC, date, datetime

import pytest
from accounts.domain.account import open_account
from accounts.domain.personal_code import birth_date_of, parse_personal_code
from prasmes_runtime.errors import InvalidInput
from stdnum.lv import pvn

TODAY = date(2026, 11, 30)


def _rule(raw: str) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_personal_code(raw)
    (violation,) = caught.value.violations
    return violation.field, violation.rule


def test_the_domain_examples() -> None:
    assert parse_personal_code("111111-11111").digits == "11111111111"
    assert _rule("111112-11111") == ("personal_code", "check_digit")


@pytest.mark.parametrize("raw", ["161175-19997", "16117519997", " 161175 19997 ", "328673-00679"])
def test_valid_codes_in_both_forms(raw: str) -> None:
    assert len(parse_personal_code(raw).digits) == 11


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("161175-19998", "check_digit"),
        ("328673-00677", "check_digit"),
        ("161375-19997", "birth_date"),  # month 13
        ("1611751999", "length"),
        ("161175-199971", "length"),
        ("16117A-19997", "format"),
        ("40003521600", "format"),  # a company's registration number
        ("", "format"),
    ],
)
def test_invalid_codes_name_the_rule(raw: str, rule: str) -> None:
    assert _rule(raw) == ("personal_code", rule)


def test_old_form_carries_the_birth_date_with_its_century() -> None:
    assert parse_personal_code("161175-19997").birth_date() == date(1975, 11, 16)
    assert parse_personal_code("010100-20000").birth_date() == date(2000, 1, 1)


def test_new_form_needs_a_stated_birth_date() -> None:
    code = parse_personal_code("328673-00679")
    assert code.is_new_form and code.birth_date() is None
    with pytest.raises(InvalidInput) as caught:
        birth_date_of(code, None, TODAY)
    assert caught.value.violations[0].rule == "required_for_new_form_code"
    assert birth_date_of(code, date(1990, 5, 1), TODAY) == date(1990, 5, 1)


def test_birth_dates_in_the_future_are_invalid() -> None:
    with pytest.raises(InvalidInput) as stated:
        birth_date_of(parse_personal_code("328673-00679"), date(2027, 1, 1), TODAY)
    assert (stated.value.violations[0].field, stated.value.violations[0].rule) == ("birth_date", "not_in_future")


def test_a_stated_birth_date_must_match_an_old_form_code() -> None:
    with pytest.raises(InvalidInput) as caught:
        birth_date_of(parse_personal_code("161175-19997"), date(1975, 11, 17), TODAY)
    assert caught.value.violations[0].rule == "matches_personal_code"


# --- a learning account is for adults (on the Riga date of opening) ----------------------------


def _opened_on(raw: str, today: date, stated: date | None = None) -> tuple[str, str] | None:
    """None when an account opens on `today`; else the refusal's (field, rule)."""
    try:
        open_account("anna", raw, stated, datetime(2026, 1, 1, tzinfo=UTC), today)
    except InvalidInput as refused:
        (violation,) = refused.violations
        return violation.field, violation.rule
    return None


def test_born_exactly_eighteen_years_ago_today_is_an_adult() -> None:
    code = _code(date(2008, 11, 30))
    assert _opened_on(code, date(2026, 11, 30)) is None
    assert _opened_on(code, date(2026, 11, 29)) == ("personal_code", "adult")
    assert _opened_on(code, date(2027, 11, 29)) is None


def test_a_stated_birth_date_names_the_birth_date() -> None:
    assert _opened_on("328673-00679", date(2026, 11, 29), date(2008, 11, 30)) == ("birth_date", "adult")
    assert _opened_on("328673-00679", date(2026, 11, 30), date(2008, 11, 30)) is None


def test_born_on_29_february_comes_of_age_on_1_march_of_a_common_year() -> None:
    code = _code(date(2008, 2, 29))
    assert _opened_on(code, date(2026, 2, 28)) == ("personal_code", "adult")
    assert _opened_on(code, date(2026, 3, 1)) is None
    stated = date(2004, 2, 29)  # and 18 years after a leap day falls in a common year again: 1 March 2022
    assert _opened_on("328673-00679", date(2022, 2, 28), stated) == ("birth_date", "adult")
    assert _opened_on("328673-00679", date(2022, 3, 1), stated) is None


def test_the_message_says_from_when_the_person_may_open_an_account() -> None:
    with pytest.raises(InvalidInput) as refused:
        open_account("anna", _code(date(2008, 2, 29)), None, datetime(2026, 1, 1, tzinfo=UTC), date(2026, 2, 1))
    assert "2026-03-01" in refused.value.violations[0].message


def _code(born: date) -> str:
    century = {18: "0", 19: "1", 20: "2"}[born.year // 100]
    stem = f"{born:%d%m%y}{century}000"
    return f"{stem[:6]}-{stem[6:]}{pvn.calc_check_digit_pers(stem)}"
