"""The rule "the personal code stays in accounts", checked on a running stack (see prasmes_testing.leaks)."""

from collections.abc import Iterable
from pathlib import Path

from prasmes_devtools.devstack import BACKENDS, Stack
from prasmes_runtime.bus import Bus
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_testing.leaks import ScanReport, needles_for_personal_code, scan

OWNER = "accounts"
"""The one service that may store a personal code."""


def stack_bus(stack: Stack) -> Bus:
    if stack.bus == "kafka":
        assert stack.kafka_bootstrap
        return KafkaBus(stack.kafka_bootstrap)
    return EmbeddedBus(stack.var_dir / "events.db")


def other_databases(stack: Stack) -> dict[str, str]:
    """The database of every service but accounts that the stack runs or gave a database: PostgreSQL where
    the stack names one, else the service's SQLite file (read through SQL, so its write-ahead log counts)."""
    names = [n for n in BACKENDS if n != OWNER and (n in stack.processes or n in stack.database_urls)]
    return {
        name: stack.database_urls.get(name) or f"sqlite+aiosqlite:///{stack.var_dir / f'{name}.db'}" for name in names
    }


async def assert_no_personal_code(stack: Stack, code: str, extra_files: Iterable[Path] = ()) -> ScanReport:
    """Fail if the code (with or without its dash) is in another service's database, on any record of any
    registered topic or its dead letters, or in any log the stack wrote."""
    logs = sorted((stack.var_dir / "logs").glob("*.log"))
    assert logs, f"no logs in {stack.var_dir / 'logs'}"
    report = await scan(
        needles_for_personal_code(code),
        databases=other_databases(stack),
        bus=stack_bus(stack),
        files=[*logs, *extra_files],
    )
    assert report.leaks == [], report.describe()
    return report
