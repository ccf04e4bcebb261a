#!/usr/bin/env bash
# Prepares the MCP conformance check: installs the MCP Inspector (pinned) outside the repository.
# Idempotent: with the Inspector in place it only prints its version.
#   @modelcontextprotocol/inspector 2.12.0 -> $MEM0_E2E_CACHE/mcp-inspector-2.12.0
set -euo pipefail

INSPECTOR_VERSION=2.12.0
CACHE="${MEM0_E2E_CACHE:-$HOME/.cache/mem0-e2e}"
DIR="$CACHE/mcp-inspector-$INSPECTOR_VERSION"

if [ -f "$DIR/.installed" ]; then
  echo "MCP Inspector $INSPECTOR_VERSION: already installed in $DIR"
  exit 0
fi
mkdir -p "$DIR"
echo '{"private":true}' > "$DIR/package.json"
if ! (cd "$DIR" && npm install --no-audit --no-fund "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" \
      > "$DIR/install.log" 2>&1); then
  tail -40 "$DIR/install.log"
  echo "MCP Inspector install failed; full log: $DIR/install.log" >&2
  exit 1
fi
touch "$DIR/.installed"
echo "MCP Inspector $INSPECTOR_VERSION: installed in $DIR"
