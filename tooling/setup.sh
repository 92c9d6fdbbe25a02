#!/usr/bin/env bash
# Sets up a fresh machine for Vouch: pnpm, the Debian packages the interop and integration
# tests need (when running as root with apt), and the workspace dependencies.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

PNPM_VERSION=10.34.9
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm@$PNPM_VERSION" >&2
  npm i -g "pnpm@$PNPM_VERSION" >/dev/null
fi

# Debian packages used by tests (one per line in tooling/debian-packages.txt; '#' comments).
missing=()
if [ -f tooling/debian-packages.txt ] && command -v dpkg-query >/dev/null 2>&1; then
  while read -r pkg _; do
    [ -z "$pkg" ] || [ "${pkg:0:1}" = "#" ] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < tooling/debian-packages.txt
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (tests that need them are skipped): ${missing[*]}" >&2
  fi
fi

pnpm install --frozen-lockfile --reporter=append-only >/dev/null
# the compiled `vouch` command (apps/cli/dist/bundle; `pnpm vouch` and bin/vouch.mjs run it)
node apps/cli/build.mjs
echo "setup: done" >&2
