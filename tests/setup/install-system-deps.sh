#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing:
#   chromium — the browser tests drive Debian's chromium through playwright-core
#              (never `npx playwright install`: its browser download cannot work here).
# Needs root (or sudo) only when something is missing.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing Debian packages for the tests: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "msec tests: need root to apt-get install ${missing[*]} (or install them yourself and run again)" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
