#!/usr/bin/env bash
# Prepares the n8n end-to-end tests: installs n8n outside the repository and builds the node package.
# Idempotent: with everything in place it only rebuilds the package (a few seconds).
#   n8n 2.8.4 (the last release that runs on Node 20)  -> $MEM0_E2E_CACHE/n8n-2.8.4
#   n8n's community-package scanner (its ESLint rules, run offline on the packed package)
#                                                       -> $MEM0_E2E_CACHE/n8n-scanner-<version>
#   the package's build tools (@n8n/node-cli, typescript, n8n-workflow types) -> n8n-node/node_modules
set -euo pipefail

N8N_VERSION=2.8.4
SCANNER_VERSION=0.32.0
CACHE="${MEM0_E2E_CACHE:-$HOME/.cache/mem0-e2e}"
PACKAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../n8n-node" && pwd)"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"

if [ -x "$N8N_DIR/node_modules/.bin/n8n" ] && [ -f "$N8N_DIR/.installed" ]; then
  echo "n8n $N8N_VERSION: already installed in $N8N_DIR"
else
  echo "n8n $N8N_VERSION: installing into $N8N_DIR (about 5 minutes, 2.3 GB) ..."
  mkdir -p "$N8N_DIR"
  # n8n-nodes-base pulls xlsx from a tarball URL outside the npm registry; the registry's
  # 0.18.5 is a drop-in replacement.
  echo '{"private":true,"overrides":{"xlsx":"0.18.5"}}' > "$N8N_DIR/package.json"
  # sqlite3 has no prebuilt binary reachable offline: it compiles against the local Node headers.
  if ! (cd "$N8N_DIR" && npm_config_nodedir=/usr npm install --no-audit --no-fund "n8n@$N8N_VERSION" \
        > "$N8N_DIR/install.log" 2>&1); then
    tail -40 "$N8N_DIR/install.log"
    echo "n8n install failed; full log: $N8N_DIR/install.log" >&2
    exit 1
  fi
  (cd "$N8N_DIR" && node -e "require('sqlite3')") || { echo "sqlite3 did not build" >&2; exit 1; }
  touch "$N8N_DIR/.installed"
fi
echo "n8n $("$N8N_DIR/node_modules/.bin/n8n" --version 2>/dev/null | tail -1)"

SCANNER_DIR="$CACHE/n8n-scanner-$SCANNER_VERSION"
if [ -f "$SCANNER_DIR/.installed" ]; then
  echo "@n8n/scan-community-package $SCANNER_VERSION: already installed in $SCANNER_DIR"
else
  mkdir -p "$SCANNER_DIR"
  echo '{"private":true}' > "$SCANNER_DIR/package.json"
  # --ignore-scripts: a dependency of the scanner runs `npx only-allow pnpm` on install, which fails under npm.
  if ! (cd "$SCANNER_DIR" && npm install --no-audit --no-fund --ignore-scripts \
        "@n8n/scan-community-package@$SCANNER_VERSION" > "$SCANNER_DIR/install.log" 2>&1); then
    tail -40 "$SCANNER_DIR/install.log"
    echo "scanner install failed; full log: $SCANNER_DIR/install.log" >&2
    exit 1
  fi
  touch "$SCANNER_DIR/.installed"
  echo "@n8n/scan-community-package $SCANNER_VERSION: installed in $SCANNER_DIR"
fi

cd "$PACKAGE_DIR"
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund --ignore-scripts > /dev/null
fi
if ! build_log=$(npm run --silent build 2>&1); then echo "$build_log"; exit 1; fi
echo "n8n-node: built $(node -p "require('./package.json').name + '@' + require('./package.json').version")"
