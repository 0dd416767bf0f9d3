"""The read model of who acts for an institution (from catalog's provider users), who registered it and when it was
approved."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime, upsert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.db.notices import metadata
from notifications.domain.providers import ADMIN, ProviderRole, ProviderUser

provider_users = sa.Table(
    "provider_users",
    metadata,
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
)

provider_approvals = sa.Table(
    "provider_approvals",
    metadata,
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("approved_at", UtcDateTime(), nullable=False),
)

provider_registrants = sa.Table(
    "provider_registrants",
    metadata,
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.String(64), nullable=False),
)


async def role_of(session: AsyncSession, institution_id: uuid.UUID, user_id: str) -> ProviderRole | None:
    where = (provider_users.c.institution_id == institution_id, provider_users.c.user_id == user_id)
    role: ProviderRole | None = await session.scalar(sa.select(provider_users.c.role).where(*where))
    return role


async def save_user(session: AsyncSession, user: ProviderUser) -> None:
    key = {"institution_id": user.institution_id, "user_id": user.user_id}
    await upsert(session, provider_users, key, {"role": user.role})


async def remove_user(session: AsyncSession, institution_id: uuid.UUID, user_id: str) -> None:
    where = (provider_users.c.institution_id == institution_id, provider_users.c.user_id == user_id)
    await session.execute(provider_users.delete().where(*where))


async def remove_users_of(session: AsyncSession, institution_id: uuid.UUID) -> None:
    await session.execute(provider_users.delete().where(provider_users.c.institution_id == institution_id))


async def admins_of(session: AsyncSession, institution_id: uuid.UUID) -> list[str]:
    """The user ids of the institution's provider admins, in a stable order."""
    query = (
        sa.select(provider_users.c.user_id)
        .where(provider_users.c.institution_id == institution_id, provider_users.c.role == ADMIN)
        .order_by(provider_users.c.user_id)
    )
    return list((await session.execute(query)).scalars())


async def save_approval(session: AsyncSession, institution_id: uuid.UUID, approved_at: datetime) -> None:
    await upsert(session, provider_approvals, {"institution_id": institution_id}, {"approved_at": approved_at})


async def approved_at(session: AsyncSession, institution_id: uuid.UUID) -> datetime | None:
    query = sa.select(provider_approvals.c.approved_at).where(provider_approvals.c.institution_id == institution_id)
    at: datetime | None = await session.scalar(query)
    return at


async def save_registrant(session: AsyncSession, institution_id: uuid.UUID, user_id: str) -> None:
    """The latest registration's registrant wins (a rejected institution may be registered again)."""
    await upsert(session, provider_registrants, {"institution_id": institution_id}, {"user_id": user_id})


async def registrant_of(session: AsyncSession, institution_id: uuid.UUID) -> str | None:
    query = sa.select(provider_registrants.c.user_id).where(provider_registrants.c.institution_id == institution_id)
    user_id: str | None = await session.scalar(query)
    return user_id


async def remove_registrant(session: AsyncSession, institution_id: uuid.UUID) -> None:
    where = provider_registrants.c.institution_id == institution_id
    await session.execute(provider_registrants.delete().where(where))
