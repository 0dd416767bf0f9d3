"""Event handlers of the accounts service. It consumes nothing yet; later issues add read models."""

from __future__ import annotations

from prasmes_runtime.consumer import ConsumerSpec

CONSUMERS: list[ConsumerSpec] = []
