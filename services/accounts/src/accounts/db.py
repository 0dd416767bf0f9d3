"""The accounts service's tables and the queries over them."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.domain import Account, PersonalCode

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("learner_id", sa.String(64), nullable=False, unique=True),
    sa.Column("personal_code", sa.String(11), nullable=False, unique=True),
    sa.Column("birth_date", sa.Date(), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
)


def _account(row: sa.Row[tuple[object, ...]]) -> Account:
    m = row._mapping
    return Account(m["id"], m["learner_id"], PersonalCode(m["personal_code"]), m["birth_date"], m["opened_at"])


async def insert_account(session: AsyncSession, account: Account) -> None:
    await session.execute(
        accounts.insert().values(
            id=account.id,
            learner_id=account.learner_id,
            personal_code=account.personal_code.digits,
            birth_date=account.birth_date,
            opened_at=account.opened_at,
        )
    )


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    row = (await session.execute(sa.select(accounts).where(accounts.c.id == account_id))).first()
    return _account(row) if row else None


async def account_of_learner(session: AsyncSession, learner_id: str) -> Account | None:
    row = (await session.execute(sa.select(accounts).where(accounts.c.learner_id == learner_id))).first()
    return _account(row) if row else None


async def account_with_code(session: AsyncSession, code: PersonalCode) -> Account | None:
    row = (await session.execute(sa.select(accounts).where(accounts.c.personal_code == code.digits))).first()
    return _account(row) if row else None
