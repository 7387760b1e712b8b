#!/bin/sh
# Runs a command with Node.js >= 22 first on PATH, for shell callers (bin/marrowcount, scripts/dev.sh, .ci/run).
# The logic, including the one-time install of Node 24 where the system Node is too old, is in with-node.mjs, which
# any installed Node can run (npm needs one anyway).
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
command -v node >/dev/null 2>&1 || { echo "marrowcount: Node.js is not installed; install Node.js 22 or newer (with npm)." >&2; exit 1; }
exec node "$root/scripts/with-node.mjs" "$@"
