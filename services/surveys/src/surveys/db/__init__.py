"""The surveys service's tables (on one `MetaData`) and their queries."""

from surveys.db.surveys import metadata

__all__ = ["metadata"]
