"""Where personal data must not be: a scanner for the end-to-end tests.

    report = await scan(
        needles_for_personal_code(code),
        databases={"notifications": url, ...},   # every service's database but the one allowed to hold it
        bus=bus,                                  # every record of every registered topic and its dead letters
        files=(var_dir / "logs").glob("*.log"),   # every log the stack wrote
    )
    assert report.leaks == [], report.describe()

Databases are read through SQL (SQLAlchemy, SQLite or PostgreSQL), every value of every row of every table,
so that committed rows still in SQLite's write-ahead log are seen as well (the main file alone misses them).
Topics are read through the bus (`read_all`): keys, header values and values. The report also counts what it
read, so that a test can tell a clean scan from a scan that saw nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prasmes_contracts.registry import TOPICS
from prasmes_runtime.bus import Bus
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = [
    "Leak",
    "ScanReport",
    "needles_for_personal_code",
    "registered_topics",
    "scan",
    "scan_database",
    "scan_files",
    "scan_topics",
]


@dataclass(frozen=True)
class Leak:
    where: str
    """E.g. `database notifications, table notices, column body` or `topic accounts.accounts offset 3, header ce_x`."""
    needle: str


@dataclass
class ScanReport:
    leaks: list[Leak] = field(default_factory=list)
    values: Counter[str] = field(default_factory=Counter)
    """Per database: how many values were read."""
    records: Counter[str] = field(default_factory=Counter)
    """Per topic: how many records were read."""
    files: dict[str, int] = field(default_factory=dict)
    """Per file: how many bytes were read."""

    def describe(self) -> str:
        found = "\n".join(f"  {leak.needle!r} in {leak.where}" for leak in self.leaks) or "  nothing"
        return (
            f"personal data found:\n{found}\nscanned: values per database {dict(self.values)}, "
            f"records per topic {dict(self.records)}, bytes per file {self.files}"
        )


def needles_for_personal_code(code: str) -> tuple[str, ...]:
    """A personal code as it may be written: with its dash and as bare digits."""
    return tuple(dict.fromkeys((code, code.replace("-", ""))))


def registered_topics() -> list[str]:
    """Every topic of the registry and its dead-letter topic."""
    return [name for topic in TOPICS for name in (topic.name, topic.dead_letter)]


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _hits(text: str, needles: Sequence[str]) -> list[str]:
    return [needle for needle in needles if needle in text]


async def scan_database(label: str, url: str, needles: Sequence[str], report: ScanReport) -> None:
    """Every value of every row of every table of the database at `url`, as text."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[-1])
        if not await asyncio.to_thread(path.is_file):
            raise AssertionError(f"database {label}: no file {path} (the scan would prove nothing)")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            for table in names:
                result = await conn.execute(sa.text(f'SELECT * FROM "{table}"'))
                columns = list(result.keys())
                for row in result:
                    for column, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        report.values[label] += 1
                        for needle in _hits(_text(value), needles):
                            report.leaks.append(Leak(f"database {label}, table {table}, column {column}", needle))
    finally:
        await engine.dispose()


async def scan_topics(
    bus: Bus, needles: Sequence[str], report: ScanReport, topics: Iterable[str] | None = None
) -> None:
    """Every record of the topics (default: the registry's and their dead letters): key, header values, value."""
    for topic in registered_topics() if topics is None else topics:
        report.records[topic] += 0
        for delivered in await bus.read_all(topic):
            report.records[topic] += 1
            record = delivered.record
            where = f"topic {topic} partition {delivered.partition} offset {delivered.offset}"
            parts = [("key", record.key or b""), ("value", record.value)]
            parts += [(f"header {name}", value) for name, value in record.headers]
            for part, raw in parts:
                for needle in _hits(_text(raw), needles):
                    report.leaks.append(Leak(f"{where}, {part}", needle))


def scan_files(paths: Iterable[Path], needles: Sequence[str], report: ScanReport) -> None:
    for path in paths:
        content = path.read_bytes()
        report.files[str(path)] = len(content)
        text = content.decode("utf-8", errors="replace")
        for needle in _hits(text, needles):
            line = text[: text.index(needle)].count("\n") + 1
            report.leaks.append(Leak(f"file {path} line {line}", needle))


async def scan(
    needles: Sequence[str],
    *,
    databases: Mapping[str, str] | None = None,
    bus: Bus | None = None,
    topics: Iterable[str] | None = None,
    files: Iterable[Path] = (),
) -> ScanReport:
    """Scan databases (label -> URL), the bus's topics and files for any of the needles."""
    report = ScanReport()
    for label, url in (databases or {}).items():
        await scan_database(label, url, needles, report)
    if bus is not None:
        await scan_topics(bus, needles, report, topics)
    scan_files(files, needles, report)
    return report
