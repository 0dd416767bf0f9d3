"""The platform's one money type: `decimal.Decimal` euros with two places, never a float.

Stored everywhere as `prasmes_runtime.db.MoneyColumn` (NUMERIC(14, 2)); on the wire as a string
with two decimals. Pure Python: domains use it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

Money = Decimal
CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """An amount in euros, rounded half up to cents (1.56 × 1.28 = 1.9968 → 2.00)."""
    if isinstance(value, float):
        raise TypeError("money is never a float; give a Decimal, an int or a string")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
