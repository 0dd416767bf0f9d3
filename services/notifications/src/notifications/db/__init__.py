"""The notifications service's tables (on one `MetaData`) and their queries."""

from notifications.db import evaluators, mails, providers
from notifications.db.notices import metadata

__all__ = ["evaluators", "mails", "metadata", "providers"]
