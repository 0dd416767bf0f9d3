"""Request and response models every service's API shares: one strict request base, one page shape, and the rules
of what a text may hold."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

T = TypeVar("T")


NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Control characters (but tab and line breaks) and unpaired UTF-16 surrogates: nothing a person writes, and what
PostgreSQL cannot store (a NUL) or encode (a surrogate)."""


def _texts(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [t for pair in value.items() for item in pair for t in _texts(item)]
    if isinstance(value, list | tuple | set | frozenset):
        return [t for item in value for t in _texts(item)]
    return [value]


def printable(value: Any) -> Any:
    """`value` (a text, or lists and mappings of texts) unless a text in it holds what is not text: a 422
    `printable_text` naming the position."""
    for text in _texts(value):
        found = NOT_TEXT.search(text) if isinstance(text, str) else None
        if found:
            raise PydanticCustomError(
                "printable_text",
                "contains a character that is not text (a control character or a broken surrogate) at position {at}",
                {"at": found.start() + 1},
            )
    return value


def _not_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError("not_null", "cannot be null: leave the field out to keep its value")
    return value


Printable = BeforeValidator(printable)
"""Before the string's own checks (which would name an unpaired surrogate `string_unicode`), and written after the
length in an `Annotated`, so that a length's error keeps its own rule (`string_too_long`)."""
Text = Annotated[str, Printable]
"""A text field or query/path parameter that refuses control characters (422 `printable_text`)."""
NotNull = BeforeValidator(_not_null)
"""For a field a PATCH may leave out but never clear (422 `not_null`)."""


class StrictModel(BaseModel):
    """Request bodies refuse unknown fields: a typo or a forbidden field is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class StrictTextModel(StrictModel):
    """A strict request body whose every text (nested lists and mappings too) refuses what is not text."""

    @field_validator("*", mode="before")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        return value if isinstance(value, BaseModel) else printable(value)


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and where this page starts."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int
