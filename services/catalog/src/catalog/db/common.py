"""The one `MetaData` every catalog table is defined on."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")

metadata = sa.MetaData()
Row = sa.Row[Any]
"""What the mappers of each module read; no query returns one."""


def record(cls: type[T], row: Row, **converted: Any) -> T:
    """A domain dataclass from a row whose columns bear its fields' names; `converted` gives the fields that
    need more than the column's value (an enum from its string)."""
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in fields(cls) if f.name not in converted}, **converted)  # type: ignore[arg-type]
