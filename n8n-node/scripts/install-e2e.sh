#!/usr/bin/env bash
# Installs what the n8n end-to-end tests need, outside the repository, and builds this package.
# Idempotent: a second run with everything in place only checks and exits.
#   n8n 2.8.4 (the last release that runs on Node 20) -> $CACHE/n8n-2.8.4
#   this package's build tools (typescript, n8n-workflow types) -> n8n-node/node_modules
set -euo pipefail

N8N_VERSION=2.8.4
CACHE="${MEM0_E2E_CACHE:-$HOME/.cache/mem0-e2e}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"

install_n8n() {
  if [ -x "$N8N_DIR/node_modules/.bin/n8n" ] && [ -f "$N8N_DIR/.installed" ]; then
    echo "n8n $N8N_VERSION already installed in $N8N_DIR"
    return
  fi
  echo "installing n8n $N8N_VERSION into $N8N_DIR (about 5 minutes) ..."
  mkdir -p "$N8N_DIR"
  # n8n-nodes-base pulls xlsx from a tarball URL outside the npm registry; the registry's
  # 0.18.5 is a drop-in replacement.
  echo '{"private":true,"overrides":{"xlsx":"0.18.5"}}' > "$N8N_DIR/package.json"
  # sqlite3 has no prebuilt binary reachable offline and compiles against the local Node headers.
  (cd "$N8N_DIR" && npm_config_nodedir=/usr npm install --no-audit --no-fund "n8n@$N8N_VERSION" \
      > "$N8N_DIR/install.log" 2>&1) || { tail -40 "$N8N_DIR/install.log"; exit 1; }
  (cd "$N8N_DIR" && node -e "require('sqlite3')") || { echo "sqlite3 did not build"; exit 1; }
  "$N8N_DIR/node_modules/.bin/n8n" --version
  touch "$N8N_DIR/.installed"
}

build_package() {
  cd "$HERE"
  if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
    npm install --no-audit --no-fund --ignore-scripts > /dev/null
  fi
  npm run --silent build
}

install_n8n
build_package
echo "n8n end-to-end prerequisites ready (n8n: $N8N_DIR)"
