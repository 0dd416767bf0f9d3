"""Personal codes (personas kods): validated with python-stdnum, plus the platform's own rules."""

from datetime import date

import pytest
from accounts.domain.personal_code import birth_date_of, parse_personal_code
from prasmes_runtime.errors import InvalidInput

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
