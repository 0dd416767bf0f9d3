"""What the runtime's consumer tests share: a topic of the test's own, with its dead letters, and a database."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prasmes_runtime.bus import Bus
from prasmes_runtime.db import Database


@pytest.fixture
async def consumed(bus: Bus, tmp_path: Path, unique: str) -> AsyncIterator[tuple[str, Database]]:
    """`accounts.accounts.<unique>` (an accounts topic, so the registry knows its events) and a SQLite database."""
    topic = f"accounts.accounts.{unique}"
    await bus.ensure_topics([topic, f"{topic}.dlq"])
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}")
    yield topic, database
    await database.dispose()
