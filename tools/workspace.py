"""The workspace's own packages, from the folders under libs/ and the service registry.

    python3 tools/workspace.py requirements   # the `-e` lines `make lock` adds to requirements.in
    python3 tools/workspace.py mypy-path      # every package's src folder, for mypy
    python3 tools/workspace.py check-lock     # fails when a registry service is missing from the lock

Runs on the system's Python 3.11 (stdlib only), before the virtualenv exists.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "libs/runtime/src/prasmes_runtime/services.toml"


def folders() -> list[str]:
    libs = sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.glob("libs/*/pyproject.toml"))
    services = [f"services/{s['name']}" for s in tomllib.loads(REGISTRY.read_text())["services"]]
    return libs + services


def main(command: str) -> int:
    if command == "requirements":
        print("\n".join(f"-e ./{folder}" for folder in folders()))
    elif command == "mypy-path":
        print(":".join(f"{folder}/src" for folder in folders()))
    elif command == "check-lock":
        lock = (ROOT / "requirements.lock").read_text()
        missing = [folder for folder in folders() if f"-e ./{folder}\n" not in lock]
        if missing:
            print(f"requirements.lock lacks {', '.join(missing)}: run `make lock`", file=sys.stderr)
            return 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
