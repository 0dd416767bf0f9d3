"""Revision 0004 keeps what was stored: an invoice recorded before it (a spend of the grant with the cause
`invoiced`) becomes the enrolment's invoice, so that the provider cannot invoice the same studies again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from accounts.app import DEFINITION
from accounts.db.tables import accounts, applications, enrolments, ledger_entries
from prasmes_runtime import migrations
from sqlalchemy.ext.asyncio import create_async_engine

AT = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def _application(application_id: uuid.UUID, account_id: uuid.UUID, spent: str, project: str) -> dict[str, object]:
    return {
        "id": application_id,
        "account_id": account_id,
        "learner_id": "anna",
        "project_code": project,
        "state": "studying",
        "submitted_at": AT,
        "reserved": Decimal("500.00"),
        "spent": Decimal(spent),
        "released": Decimal("0.00"),
        "version": 4,
    }


def _enrolment(application_id: uuid.UUID) -> dict[str, object]:
    ids = uuid.uuid4()
    return {
        "id": uuid.uuid4(),
        "application_id": application_id,
        "learner_id": "anna",
        "project_code": "IMK",
        "programme_id": ids,
        "group_id": ids,
        "institution_id": ids,
        "enrolled_at": AT,
        "state": "studying",
    }


def _entry(application_id: uuid.UUID, kind: str, amount: str, cause: str) -> dict[str, object]:
    return {
        "application_id": application_id,
        "learner_id": "anna",
        "project_code": "IMK",
        "kind": kind,
        "amount": Decimal(amount),
        "cause": cause,
        "at": AT,
    }


async def test_an_invoice_recorded_before_the_revision_is_kept(database_url: str) -> None:
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url, "0003")
    account, invoiced, plain = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                accounts.insert().values(
                    id=account,
                    learner_id="anna",
                    personal_code="16117519997",
                    birth_date=date(1975, 11, 16),
                    opened_at=AT,
                )
            )
            await connection.execute(applications.insert(), [_application(invoiced, account, "320.00", "IMK")])
            await connection.execute(applications.insert(), [_application(plain, account, "0.00", "VARAM")])
            await connection.execute(enrolments.insert(), [_enrolment(invoiced), _enrolment(plain)])
            await connection.execute(
                ledger_entries.insert(),
                [
                    _entry(invoiced, "reserve", "500.00", "approved"),
                    _entry(invoiced, "spend", "320.00", "invoiced"),
                    _entry(plain, "reserve", "500.00", "approved"),
                ],
            )
        await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url)
        async with engine.connect() as connection:
            c = enrolments.c
            rows = (await connection.execute(sa.select(c.application_id, c.invoiced_amount, c.invoiced_at))).all()
    finally:
        await engine.dispose()
    found = {r.application_id: (r.invoiced_amount, r.invoiced_at) for r in rows}
    assert found == {invoiced: (Decimal("320.00"), AT), plain: (None, None)}
