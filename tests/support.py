"""Kept importable while the cross-service tests move to `prasmes_testing.support`."""

from prasmes_testing.support import eventually, personal_code

__all__ = ["eventually", "personal_code"]
