"""An allocation run of a window_then_rank project: started once, then decided in batches in rank order, its
progress counted as it goes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from accounts.domain.applications import PRIORITY_RULES_VERSION
from accounts.domain.projects import FundingProject


@dataclass(frozen=True)
class AllocationRun:
    """The allocation of one project's closed window (one per project): the lottery's seed and how far it came."""

    id: uuid.UUID
    project_code: str
    seed: str
    total: int
    """The submitted applications it ranks: counted when it started."""
    requested_at: datetime
    requested_by: str
    ranked: int = 0
    approved: int = 0
    rejected: int = 0
    finished_at: datetime | None = None
    rules_version: int = PRIORITY_RULES_VERSION

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    def current(self) -> dict[str, object]:
        """What a refusal to start it again shows."""
        return {
            "allocation_id": str(self.id),
            "project_code": self.project_code,
            "seed": self.seed,
            "total": self.total,
            "ranked": self.ranked,
            "approved": self.approved,
            "rejected": self.rejected,
            "done": self.done,
        }

    def advanced(self, approved: int, rejected: int) -> AllocationRun:
        """One more batch decided."""
        return replace(
            self,
            ranked=self.ranked + approved + rejected,
            approved=self.approved + approved,
            rejected=self.rejected + rejected,
        )

    def finished(self, at: datetime) -> AllocationRun:
        # Applications withdrawn while it ran are not ranked: the total is what it did rank.
        return replace(self, finished_at=at, total=self.ranked)


def start(
    project: FundingProject, seed: str, total: int, requested_by: str, at: datetime
) -> tuple[FundingProject, AllocationRun]:
    """The project as allocated (its seed recorded at once, so that it cannot be allocated twice) and the run that
    decides its applications; a Conflict when the project is not allocatable now."""
    project.check_allocatable(at)
    run = AllocationRun(uuid.uuid4(), project.code, seed, total, at, requested_by)
    return replace(project, allocated_at=at, lottery_seed=seed), run
