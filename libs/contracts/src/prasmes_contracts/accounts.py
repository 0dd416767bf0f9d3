"""Events published by the accounts service. A person appears only as an opaque id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from prasmes_contracts.events import Event


class AccountOpened(Event):
    """A learner opened a learning account."""

    service: ClassVar[str] = "accounts"
    key_field: ClassVar[str] = "account_id"

    account_id: UUID = Field(description="The learning account's opaque id.")
    learner_id: str = Field(description="The learner's opaque user id (the token subject).")
    opened_at: datetime = Field(description="When the account was opened (UTC).")
