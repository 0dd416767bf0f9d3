"""Request and response models every service's API shares: one strict request base, one page shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class StrictModel(BaseModel):
    """Request bodies refuse unknown fields: a typo or a forbidden field is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and where this page starts."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int
