"""Latvian personal codes (personas kods): validated with python-stdnum, plus the platform's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prasmes_runtime.errors import InvalidInput
from stdnum import exceptions as stdnum_errors
from stdnum.lv import pvn

NEW_FORM_PREFIX = "32"


@dataclass(frozen=True)
class PersonalCode:
    """A Latvian personal code (personas kods), compact: 11 digits. Personal data: stays here."""

    digits: str

    @property
    def is_new_form(self) -> bool:
        return self.digits.startswith(NEW_FORM_PREFIX)

    @property
    def masked(self) -> str:
        """As its owner is shown it: the first two digits only (161175-19997 -> 16****-*****)."""
        return f"{self.digits[:2]}****-*****"

    def birth_date(self) -> date | None:
        """The birth date the old form carries; None for the new form."""
        return None if self.is_new_form else pvn.get_birth_date(self.digits)


def _invalid(rule: str, message: str, field: str = "personal_code") -> InvalidInput:
    return InvalidInput.of(field, rule, message)


def parse_personal_code(raw: str) -> PersonalCode:
    """Validate format, length, birth date and check digit with python-stdnum (`stdnum.lv.pvn`)."""
    digits = pvn.compact(raw)
    if not digits.isdigit():
        raise _invalid("format", "must be 11 digits, optionally written DDMMYY-NNNNN")
    if len(digits) != 11:
        raise _invalid("length", f"must have 11 digits, has {len(digits)}")
    if digits[0] > "3":
        raise _invalid("format", "is a company registration number, not a personal code")
    try:
        pvn.validate(digits)
    except stdnum_errors.InvalidChecksum:
        raise _invalid("check_digit", "the check digit does not match") from None
    except stdnum_errors.InvalidComponent:
        raise _invalid("birth_date", "the birth date in the code is not a real date") from None
    except stdnum_errors.ValidationError as exc:
        raise _invalid("format", str(exc)) from None
    return PersonalCode(digits)


def birth_date_of(code: PersonalCode, stated: date | None, today: date) -> date:
    """The learner's birth date: from an old-form code, or as stated for a new-form code."""
    carried = code.birth_date()
    if carried is not None and stated is not None and stated != carried:
        raise _invalid("matches_personal_code", "differs from the birth date in the personal code", field="birth_date")
    birth_date = carried or stated
    if birth_date is None:
        raise _invalid(
            "required_for_new_form_code",
            "a personal code of the new form (32...) carries no birth date: state it",
            field="birth_date",
        )
    if birth_date > today:
        field = "personal_code" if carried else "birth_date"
        raise _invalid("not_in_future", "the birth date lies in the future", field=field)
    return birth_date
