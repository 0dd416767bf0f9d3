"""How long `window_then_rank` takes to allocate 25 000 applications (the seed's scale), on PostgreSQL and SQLite.

    python -m bench.allocation [--applications 25000] [--quick]

The accounts and applications are written straight into a migrated accounts database (the bench is
about the allocation, not about opening accounts); the project has budget for 7 574 grants of
500 EUR, the IMK figure of the seed. The allocation itself is the real use case, in one unit of
work: rank, reserve, write the ledger, the decisions and their outbox events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from accounts import db
from accounts.app import DEFINITION
from accounts.domain.projects import AllocationMode, FundingProject
from accounts.service.applications import allocate
from prasmes_runtime import migrations
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import outbox
from prasmes_testing.servers import create_database, postgres_server

GRANTS = 7_574
CLOSES = datetime(2026, 9, 19, 20, 59, tzinfo=UTC)  # the 4th call's deadline, 23:59 in Riga
STATUSES = ["employed", "unemployed", "self_employed", "student", "retired", "other"]
LEVELS = ["basic", "secondary", "vocational", "bachelor", "master"]


async def _seed(database: Database, applications: int) -> None:
    async with database.transaction() as session:
        await db.insert_project(
            session,
            FundingProject(
                code="BENCH",
                name="Allocation bench",
                budget=Decimal(GRANTS * 500),
                grant_per_person=Decimal("500.00"),
                window_opens_at=CLOSES - timedelta(days=30),
                window_closes_at=CLOSES,
                enrolment_deadline=date(2027, 3, 1),
                allocation_mode=AllocationMode.WINDOW_THEN_RANK,
            ),
        )
    for start in range(0, applications, 5_000):
        await _seed_batch(database, range(start, min(start + 5_000, applications)))


async def _seed_batch(database: Database, numbers: range) -> None:
    accounts, applications, assessments = [], [], []
    for n in numbers:
        account_id = uuid.uuid4()
        accounts.append(
            {
                "id": account_id,
                "learner_id": f"bench-{n}",
                "personal_code": f"{n:011d}",
                "birth_date": date(1960 + n % 45, 1 + n % 12, 1 + n % 28),
                "opened_at": CLOSES,
                "preferred_language": "lv",
                "employment_status": STATUSES[n % len(STATUSES)],
                "education_level": LEVELS[n % len(LEVELS)],
            }
        )
        applications.append(
            {
                "id": uuid.uuid4(),
                "account_id": account_id,
                "learner_id": f"bench-{n}",
                "project_code": "BENCH",
                "state": "submitted",
                "submitted_at": CLOSES - timedelta(seconds=n),
                "version": 1,
            }
        )
        assessments.append(
            {
                "account_id": account_id,
                "levels": json.dumps(
                    {
                        a: 1 + (n + i) % 8
                        for i, a in enumerate(
                            [
                                "information_and_data_literacy",
                                "communication_and_collaboration",
                                "digital_content_creation",
                                "safety",
                                "problem_solving",
                            ]
                        )
                    }
                ),
                "assessed_at": CLOSES - timedelta(days=40),
            }
        )
    async with database.transaction() as session:
        await session.execute(db.accounts.insert(), accounts)
        await session.execute(db.applications.insert(), applications)
        await session.execute(db.digcomp_assessments.insert(), assessments)


async def _measure(url: str, applications: int) -> dict[str, Any]:
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url)
    database = Database(url)
    try:
        await _seed(database, applications)
        started = time.perf_counter()
        result = await allocate(database, FixedClock(CLOSES + timedelta(hours=1)), "BENCH", seed="bench")
        elapsed = time.perf_counter() - started
        async with database.session() as session:
            events = await session.scalar(sa.select(sa.func.count()).select_from(outbox))
            reserved = await session.scalar(
                sa.select(db.funding_projects.c.reserved).where(db.funding_projects.c.code == "BENCH")
            )
    finally:
        await database.dispose()
    assert result.approved == min(GRANTS, applications) and reserved == Decimal(result.approved * 500)
    return {
        "applications": applications,
        "approved": result.approved,
        "rejected": result.rejected,
        "seconds": round(elapsed, 2),
        "applications_per_second": round(applications / elapsed),
        "outbox_events": events,
    }


def run(applications: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with postgres_server() as server:
        url = create_database(server, f"bench_allocation_{time.monotonic_ns()}")
        results["postgresql"] = asyncio.run(_measure(url, applications))
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = asyncio.run(_measure(f"sqlite+aiosqlite:///{Path(folder) / 'accounts.db'}", applications))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=25_000)
    parser.add_argument("--quick", action="store_true", help="2 500 applications")
    args = parser.parse_args()
    applications = 2_500 if args.quick else args.applications
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "window_then_rank": run(applications)}
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "allocation.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
