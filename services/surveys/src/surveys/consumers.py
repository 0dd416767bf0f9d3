"""Events the surveys service reacts to."""

from __future__ import annotations

from prasmes_runtime.consumer import ConsumerSpec

CONSUMERS: list[ConsumerSpec] = []
