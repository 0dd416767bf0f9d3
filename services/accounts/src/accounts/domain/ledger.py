"""The grant of one application: reserved on approval, then spent on the programme or released."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
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
    """Why: approved, withdrawn, lapsed, discontinued, remainder, completed (and invoiced, for a provider's invoice
    that spent the cost before the studies ended, as it did before an invoice was due only once they ended)."""


@dataclass(frozen=True)
class LedgerLine:
    """One written line of a learner's ledger: an entry of one application's grant, and when."""

    application_id: uuid.UUID
    project_code: str
    kind: EntryKind
    amount: Decimal
    cause: str
    at: datetime


@dataclass(frozen=True)
class Grant:
    """Invariant: spent + released <= reserved; the outstanding amount is never negative."""

    reserved: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")
    released: Decimal = Decimal("0.00")

    @property
    def outstanding(self) -> Decimal:
        return self.reserved - self.spent - self.released

    @classmethod
    def total(cls, grants: Iterable[Grant]) -> Grant:
        """A learner's grant over all their applications: what is reserved, spent and released summed (and so
        what is outstanding)."""
        total = cls()
        for g in grants:
            total = cls(total.reserved + g.reserved, total.spent + g.spent, total.released + g.released)
        return total

    def reserve(self, amount: Decimal) -> tuple[Grant, LedgerEntry]:
        assert self.reserved == 0, "a grant is reserved once"
        return replace(self, reserved=amount), LedgerEntry(EntryKind.RESERVE, amount, "approved")

    def spend(self, cost: Decimal, cause: str) -> tuple[Grant, LedgerEntry]:
        """Spend the programme's cost, never more than what is outstanding."""
        amount = min(cost, self.outstanding)
        return replace(self, spent=self.spent + amount), LedgerEntry(EntryKind.SPEND, amount, cause)

    def release_all(self, cause: str) -> tuple[Grant, LedgerEntry | None]:
        amount = self.outstanding
        if amount == 0:
            return self, None
        return replace(self, released=self.released + amount), LedgerEntry(EntryKind.RELEASE, amount, cause)


def budget_moves(entries: Iterable[LedgerEntry]) -> tuple[Decimal, Decimal]:
    """What `entries` give back to the project's budget and what they spend of it: (released, spent).

    A reservation is not among them: it is taken from the budget before, by the one conditional update that
    decides whether it still fits.
    """
    released = spent = Decimal("0.00")
    for entry in entries:
        if entry.kind is EntryKind.RELEASE:
            released += entry.amount
        elif entry.kind is EntryKind.SPEND:
            spent += entry.amount
    return released, spent
