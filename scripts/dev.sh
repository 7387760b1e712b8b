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
  # Electron's binary comes from GitHub; where that is unreachable (offline lab PCs, CI) the rest still
  # installs and the app runs headless through the CLI.
  if [ -n "${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" ] || ! sh scripts/with-node.sh npm ci --no-audit --no-fund --loglevel=error; then
    echo "marrowcount: installing without Electron's binary (ELECTRON_SKIP_BINARY_DOWNLOAD=1)" >&2
    ELECTRON_SKIP_BINARY_DOWNLOAD=1 sh scripts/with-node.sh npm ci --no-audit --no-fund --loglevel=error
  fi
}

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  install_packages
fi
sh scripts/with-node.sh npm run --silent build >/dev/null
exec sh scripts/with-node.sh npm run --silent "$cmd"
