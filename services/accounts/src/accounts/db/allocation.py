"""The allocation runs of window_then_rank projects, and the project ledger the agency reads."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.tables import allocations, ledger_entries
from accounts.domain.allocations import AllocationRun
from accounts.domain.ledger import EntryKind, LedgerLine


def _run(row: sa.Row[Any]) -> AllocationRun:
    m = row._mapping
    return AllocationRun(
        id=m["id"],
        project_code=m["project_code"],
        seed=m["seed"],
        total=m["total"],
        requested_at=m["requested_at"],
        requested_by=m["requested_by"],
        ranked=m["ranked"],
        approved=m["approved"],
        rejected=m["rejected"],
        finished_at=m["finished_at"],
        rules_version=m["rules_version"],
    )


def _progress(run: AllocationRun) -> dict[str, Any]:
    return {
        "total": run.total,
        "ranked": run.ranked,
        "approved": run.approved,
        "rejected": run.rejected,
        "finished_at": run.finished_at,
    }


async def insert_run(session: AsyncSession, run: AllocationRun) -> None:
    await session.execute(
        allocations.insert().values(
            id=run.id,
            project_code=run.project_code,
            seed=run.seed,
            rules_version=run.rules_version,
            requested_at=run.requested_at,
            requested_by=run.requested_by,
            **_progress(run),
        )
    )


async def save_run(session: AsyncSession, run: AllocationRun, ranked_before: int) -> bool:
    """Write the run's progress if nobody moved it past `ranked_before` meanwhile (False then): the claim of the
    batch it decides, so that two runners never decide the same batch."""
    c = allocations.c
    result = await session.execute(
        allocations.update()
        .where(c.id == run.id, c.ranked == ranked_before, c.finished_at.is_(None))
        .values(**_progress(run))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def run_of_project(session: AsyncSession, project_code: str) -> AllocationRun | None:
    row = (await session.execute(sa.select(allocations).where(allocations.c.project_code == project_code))).first()
    return _run(row) if row else None


async def unfinished_runs(session: AsyncSession) -> list[AllocationRun]:
    rows = await session.execute(
        sa.select(allocations).where(allocations.c.finished_at.is_(None)).order_by(allocations.c.requested_at)
    )
    return [_run(r) for r in rows]


async def project_ledger(
    session: AsyncSession, project_code: str, limit: int, offset: int
) -> tuple[list[LedgerLine], int, dict[str, Any]]:
    """One page of the project's ledger, newest first; how many lines it has; the sum of each kind."""
    c = ledger_entries.c
    rows = await session.execute(
        sa.select(ledger_entries)
        .where(c.project_code == project_code)
        .order_by(c.at.desc(), c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    lines = [LedgerLine(r.application_id, r.project_code, EntryKind(r.kind), r.amount, r.cause, r.at) for r in rows]
    sums = await session.execute(
        sa.select(c.kind, sa.func.count(), sa.func.sum(c.amount)).where(c.project_code == project_code).group_by(c.kind)
    )
    by_kind = {kind: (int(n), amount) for kind, n, amount in sums}
    return lines, sum(n for n, _ in by_kind.values()), {k: a for k, (_, a) in by_kind.items()}
