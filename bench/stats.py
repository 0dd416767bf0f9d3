"""Small statistics shared by the load generator and the runner."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def summary_ms(latencies_ms: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "count": len(latencies_ms),
        "p50_ms": rounded(percentile(latencies_ms, 50)),
        "p99_ms": rounded(percentile(latencies_ms, 99)),
        "max_ms": rounded(max(latencies_ms) if latencies_ms else None),
    }
