#!/bin/sh
# Runs a command with Node.js >= 22 first on PATH.
# better-sqlite3 13 needs Node >= 22 and crashes (segfault) on Node 20, which is still the default on many
# lab and CI machines. Where the system Node is too old, Node 24 LTS is installed once from the npm registry
# into .cache/node24 inside the project, so a new machine needs nothing by hand.
set -e
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cache="$root/.cache/node24"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$cache/node_modules/node/bin/node" ]; then
  PATH="$cache/node_modules/node/bin:$PATH"
elif ! command -v node >/dev/null 2>&1 || [ "$(node_major node)" -lt 22 ]; then
  echo "marrowcount: system Node is $(node --version 2>/dev/null || echo missing); installing Node 24 into $cache (once)" >&2
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error node@24 >&2
  PATH="$cache/node_modules/node/bin:$PATH"
fi
export PATH
[ "$(node_major node)" -ge 22 ] || { echo "marrowcount: could not get Node >= 22 (have $(node --version))" >&2; exit 1; }
exec "$@"
