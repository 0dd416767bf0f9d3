"""Rebuild the statistics projection from the first offsets of its topics: `python -m prasmes_statistics.rebuild`
(`make statistics-rebuild`), with the service's settings from the environment (DATABASE_URL, BUS, ...), as the
running service has them. The running service's consumer does the reading; this starts the next generation and
shows its progress until it has read every record there was (or at once with --no-wait). The same as
`POST /api/statistics/rebuilds` by an agency admin."""

from __future__ import annotations

import argparse
import asyncio
import sys

from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database
from prasmes_runtime.service import default_clock

from prasmes_statistics.service import rebuilds
from prasmes_statistics.settings import StatisticsSettings, build_adapters


async def _rebuild(wait: bool, interval: float) -> int:
    settings = StatisticsSettings()
    database = Database(settings.resolved_database_url())
    context = ServiceContext(settings, database, default_clock(settings))
    bus = build_adapters(settings).bus
    try:
        generation = await rebuilds.request(context, "command")
        print(f"statistics: rebuilding as generation {generation}", flush=True)
        while wait:
            found = await rebuilds.status(context, bus)
            share = 100 * found.read / found.total if found.total else 100.0
            print(f"  read {found.read} of {found.total} records ({share:.1f} %)", flush=True)
            if found.generation != generation:
                print(f"statistics: a newer rebuild (generation {found.generation}) started meanwhile", flush=True)
                return 1
            if found.done:
                print("statistics: rebuilt", flush=True)
                break
            await asyncio.sleep(interval)
    finally:
        await database.dispose()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-wait", action="store_true", help="start the rebuild and return")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between two progress lines")
    args = parser.parse_args()
    sys.exit(asyncio.run(_rebuild(not args.no_wait, args.interval)))


if __name__ == "__main__":
    main()
