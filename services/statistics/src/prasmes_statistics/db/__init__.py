"""The statistics service's tables (on one `MetaData`) and their queries."""

from prasmes_statistics.db.tables import metadata

__all__ = ["metadata"]
