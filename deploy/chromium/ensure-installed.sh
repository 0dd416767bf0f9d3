#!/usr/bin/env bash
# Makes sure a Chromium exists for the browser tests (prasmes_testing.browser): the one in $CHROMIUM_PATH when set,
# else `chromium` on PATH. Playwright's own browser download needs hosts this project's machines cannot reach,
# so Debian's package is used. Used by `make deps-system`.
set -euo pipefail

find_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    [[ -x "$CHROMIUM_PATH" ]] && echo "$CHROMIUM_PATH"
  else
    command -v chromium
  fi
}

if existing="$(find_chromium)"; then
  echo "chromium: already installed ($existing), nothing to do"
  exit 0
fi

wanted="${CHROMIUM_PATH:-chromium on PATH}"
packages=(chromium fonts-liberation)  # a font every page can fall back on: stable screenshots and text metrics
if [[ "$(id -u)" -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
  [[ -t 0 ]] || sudo+=(-n)  # no terminal to ask a password on: fail rather than wait
else
  echo "chromium: missing ($wanted) and not running as root, and there is no sudo." >&2
  echo "chromium: as root: apt-get update && apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi

echo "chromium: missing ($wanted), installing the Debian packages: ${packages[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

if installed="$(find_chromium)"; then
  echo "chromium: installed ($installed)"
else
  echo "chromium: apt-get install finished but $wanted is still missing (is CHROMIUM_PATH right?)" >&2
  exit 1
fi
