"""The seeded calls (`calls/data/calls.json`: the fourth call, IMK-4), opened once: a call whose code exists is
left as it is, so seeding again changes nothing and announces nothing."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database

from calls.db import calls as db
from calls.domain.calls import Call, Criterion, LearningNeed, Timeline
from calls.domain.common import riga_minute
from calls.service.calls import open_call

SEED_FILE = Path(__file__).resolve().parents[1] / "data" / "calls.json"


def call_id(name: str) -> uuid.UUID:
    """A seeded call's stable id (uuid5 of its name: the same on every machine)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, name)


def _timeline(raw: dict[str, str]) -> Timeline:
    instants = {"offers_open_at", "offers_deadline_at"}
    values: dict[str, Any] = {
        k: riga_minute(datetime.fromisoformat(v), f"timeline.{k}") if k in instants else date.fromisoformat(v)
        for k, v in raw.items()
    }
    return Timeline(**values)


def _load(path: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["calls"]
    return calls


async def seed_calls(database: Database, clock: Clock, path: Path = SEED_FILE) -> list[Call]:
    """Every call of the seed file, opened unless its code exists; returns them all."""
    seeded = []
    for raw in _load(path):
        async with database.session() as session:
            existing = await db.call_by_code(session, raw["code"])
        seeded.append(existing or await _open(database, clock, raw))
    return seeded


async def _open(database: Database, clock: Clock, raw: dict[str, Any]) -> Call:
    return await open_call(
        database,
        clock,
        call_id=call_id(raw["id"]),
        code=raw["code"],
        title=raw["title"],
        project_code=raw["project_code"],
        timeline=_timeline(raw["timeline"]),
        max_programmes_per_institution=raw["max_programmes_per_institution"],
        institution_criteria=tuple(Criterion(**c) for c in raw["institution_criteria"]),
        programme_criteria=tuple(Criterion(**c) for c in raw["programme_criteria"]),
        learning_needs=tuple(LearningNeed(n["code"], n["title"]) for n in raw["learning_needs"]),
        needs_approved_on=date.fromisoformat(raw["needs_approved_on"]) if raw.get("needs_approved_on") else None,
    )
