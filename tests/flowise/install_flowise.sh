#!/usr/bin/env bash
# Idempotent install of a real Flowise (3.1.2) for the end-to-end tests, plus the
# Mem0 components from flowise-node/ copied into it.
#   tests/flowise/install_flowise.sh            # install Flowise if missing, then (re)install components
#   tests/flowise/install_flowise.sh --flowise-only
# Location: ${MEM0_E2E_CACHE:-$HOME/.cache/mem0-e2e}/flowise (outside the repository).
set -euo pipefail

FLOWISE_VERSION=3.1.2
CACHE="${MEM0_E2E_CACHE:-$HOME/.cache/mem0-e2e}"
DIR="$CACHE/flowise"
MARK="$DIR/.installed-$FLOWISE_VERSION"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

log() { echo "[install_flowise] $*"; }

if [ ! -f "$MARK" ] || [ ! -x "$DIR/node_modules/.bin/flowise" ]; then
  log "installing flowise@$FLOWISE_VERSION into $DIR (takes several minutes)"
  mkdir -p "$DIR"
  cd "$DIR"
  [ -f package.json ] || echo '{"private":true}' > package.json
  npm install "flowise@$FLOWISE_VERSION" --ignore-scripts --no-audit --no-fund > install.log 2>&1 \
    || { tail -n 40 install.log; log "npm install failed (log: $DIR/install.log)"; exit 1; }
  # Native modules: no prebuilt binaries can be downloaded offline, so compile them.
  npm_config_nodedir=/usr npm rebuild sqlite3 better-sqlite3 > rebuild.log 2>&1 \
    || { tail -n 40 rebuild.log; log "native rebuild failed (log: $DIR/rebuild.log)"; exit 1; }
  node -e "require('sqlite3');require('better-sqlite3')" \
    || { log "sqlite modules do not load"; exit 1; }
  touch "$MARK"
  log "flowise installed"
else
  log "flowise@$FLOWISE_VERSION already installed in $DIR"
fi

if [ "${1:-}" = "--flowise-only" ]; then exit 0; fi

# Build the components and copy them into the installed Flowise.
cd "$REPO/flowise-node"
if [ ! -d node_modules/typescript ]; then
  npm ci --no-audit --no-fund > /dev/null 2>&1 || npm ci --no-audit --no-fund
fi
npm run --silent install-into -- "$DIR"
log "components installed into $DIR"
