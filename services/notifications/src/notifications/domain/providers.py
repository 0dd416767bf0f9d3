"""Who acts for an education institution, as notifications needs to know it: the read model of catalog's provider
users, to tell an institution's provider admins what happened to it. Pure Python.

Only opaque user ids, an institution's id and the role: no names, no contacts (the address is asked of the
directory at send time, as for every mail).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ProviderRole = Literal["provider_admin", "provider_staff"]
ADMIN: ProviderRole = "provider_admin"


@dataclass(frozen=True)
class ProviderUser:
    """A user who acts for an institution (catalog's `ProviderUserAdded`, until its `ProviderUserRemoved`)."""

    institution_id: uuid.UUID
    user_id: str
    role: ProviderRole


def activated_by_approval(approved_at: datetime | None, added_at: datetime) -> bool:
    """Whether a user added at `added_at` is one the institution's approval (at `approved_at`) made active.

    The registrant is no provider user while the registration is pending (`ProviderRegistered` names them only to
    tell them of a rejection): on approval catalog publishes `ProviderApproved` and then, in the same transaction
    and at the same instant, a `ProviderUserAdded` for each member the approval activates (the
    registrant, its first provider_admin). Those users learn of the approval from their own `ProviderUserAdded`."""
    return approved_at is not None and approved_at == added_at
