#!/bin/sh
# The two set-up commands of the README:
#   scripts/dev.sh start   install what is missing, build, start the app (or, without Electron, the CLI on the demo case)
#   scripts/dev.sh test    install what is missing, build, run every test (types, lint, unit, integration, e2e)
set -e
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
cmd=${1:-}
case "$cmd" in
  start|test) ;;
  *) echo "usage: scripts/dev.sh start|test" >&2; exit 1 ;;
esac

install_packages() {
  # Electron 45 has no install-time download (it fetches its binary on first start), so this works offline.
  sh scripts/with-node.sh npm ci --no-audit --no-fund --loglevel=error
}

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  install_packages
fi
sh scripts/with-node.sh npm run --silent build >/dev/null
exec sh scripts/with-node.sh npm run --silent "$cmd"
