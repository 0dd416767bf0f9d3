"""`python -m prasmes_devtools.scenario [--scale S] [--var-dir D] ...`: see `prasmes_devtools.scenario`."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from prasmes_devtools import scenario
from prasmes_devtools.scenario.driver import ScenarioError
from prasmes_devtools.scenario.run import PHASES, Interrupted, Options, run
from prasmes_devtools.scenario.state import StateError


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m prasmes_devtools.scenario",
        description=scenario.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="the population's size, the seed's at 1 (default)")
    parser.add_argument("--var-dir", type=Path, help="the run's stack and state (default: var/scenario-<scale>)")
    parser.add_argument("--concurrency", type=int, default=12, help="persons in flight (default 12)")
    parser.add_argument("--port", type=int, help="the stack's base port (default: a free block)")
    parser.add_argument("--stop-after", choices=PHASES, help="stop after this phase (run again to go on)")
    parser.add_argument("--keep-running", action="store_true", help="keep the stack up after the check")
    parser.add_argument(
        "--check-seconds", type=float, default=600.0, help="how long the check waits for statistics (default 600)"
    )
    args = parser.parse_args(argv)
    var_dir = args.var_dir or Path("var") / f"scenario-{args.scale:g}"
    return Options(
        scale=args.scale,
        var_dir=var_dir.resolve(),
        concurrency=max(1, args.concurrency),
        port=args.port,
        stop_after=args.stop_after,
        keep_running=args.keep_running,
        check_seconds=args.check_seconds,
    )


def main(argv: list[str] | None = None) -> int:
    chosen = options(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # each stops the stack and keeps the state
        signal.signal(sig, _interrupt)
    try:
        report = run(chosen)
    except StateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ScenarioError as exc:
        print(f"error: {exc}\nThe state is kept: run again with the same --var-dir to go on.", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        print("\nInterrupted: run again with the same --var-dir to go on.", flush=True)
        return 130
    minutes = report.seconds / 60
    if report.comparison is None:
        return 0
    verdict = "every figure as expected" if report.ok else f"{len(report.comparison.mismatches)} figures differ"
    print(f"Done in {minutes:.1f} min: {verdict}.", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
