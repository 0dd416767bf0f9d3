"""The grant of one application: reserved on approval, then spent on the programme or released."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum


class EntryKind(StrEnum):
    RESERVE = "reserve"
    RELEASE = "release"
    SPEND = "spend"


@dataclass(frozen=True)
class LedgerEntry:
    kind: EntryKind
    amount: Decimal
    cause: str
    """Why: approved, withdrawn, lapsed, discontinued, remainder, completed, invoiced."""


@dataclass(frozen=True)
class Grant:
    """Invariant: spent + released <= reserved; the outstanding amount is never negative."""

    reserved: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")
    released: Decimal = Decimal("0.00")

    @property
    def outstanding(self) -> Decimal:
        return self.reserved - self.spent - self.released

    def reserve(self, amount: Decimal) -> tuple[Grant, LedgerEntry]:
        assert self.reserved == 0, "a grant is reserved once"
        return replace(self, reserved=amount), LedgerEntry(EntryKind.RESERVE, amount, "approved")

    def reserve_entry(self) -> LedgerEntry:
        """The entry that recorded this grant's reservation."""
        return LedgerEntry(EntryKind.RESERVE, self.reserved, "approved")

    def spend(self, cost: Decimal, cause: str) -> tuple[Grant, LedgerEntry]:
        """Spend the programme's cost, never more than what is outstanding."""
        amount = min(cost, self.outstanding)
        return replace(self, spent=self.spent + amount), LedgerEntry(EntryKind.SPEND, amount, cause)

    def release_all(self, cause: str) -> tuple[Grant, LedgerEntry | None]:
        amount = self.outstanding
        if amount == 0:
            return self, None
        return replace(self, released=self.released + amount), LedgerEntry(EntryKind.RELEASE, amount, cause)
