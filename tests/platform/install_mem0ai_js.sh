#!/usr/bin/env bash
# Installs mem0's JavaScript client at the version Flowise 3.1.2 bundles, into the end-to-end cache (outside the
# repository). Idempotent: does nothing when that version is already there.
set -euo pipefail
VERSION="2.4.6"
DIR="${MEM0_E2E_CACHE:-$HOME/.cache/mem0-e2e}/mem0ai-js-$VERSION"
installed() {
    node -e "process.exit(require('$DIR/node_modules/mem0ai/package.json').version === '$VERSION' ? 0 : 1)" 2>/dev/null
}
if installed; then
    echo "mem0ai $VERSION already installed in $DIR"
    exit 0
fi
mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name": "mem0ai-js-client", "private": true}' > package.json
# The client needs only its own dependencies (axios, ...); its many optional peers serve the open-source mode.
npm install --no-audit --no-fund --legacy-peer-deps --ignore-scripts "mem0ai@$VERSION" >"$DIR/install.log" 2>&1 || {
    tail -20 "$DIR/install.log" >&2
    echo "npm install mem0ai@$VERSION failed (log: $DIR/install.log)" >&2
    exit 1
}
installed || { echo "mem0ai $VERSION is not importable from $DIR" >&2; exit 1; }
echo "mem0ai $VERSION installed in $DIR"
