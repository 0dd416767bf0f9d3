#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, pg_ctl) exist under /usr/lib/postgresql/*/bin.
# Used by `make deps-system`; the test helpers in prasmes_testing.servers need them.
set -euo pipefail

find_initdb() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1
}

if existing="$(find_initdb)" && [[ -n "$existing" ]]; then
  echo "postgres: server binaries already installed ($(dirname "$existing")), nothing to do"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "postgres: server binaries missing (no /usr/lib/postgresql/*/bin/initdb) and not running as root." >&2
  echo "postgres: run as root, or: sudo apt-get update && sudo apt-get install -y --no-install-recommends postgresql" >&2
  exit 1
fi

echo "postgres: server binaries missing, installing the Debian 'postgresql' package"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql

if installed="$(find_initdb)" && [[ -n "$installed" ]]; then
  echo "postgres: installed server binaries in $(dirname "$installed")"
else
  echo "postgres: apt-get install finished but no initdb found under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
