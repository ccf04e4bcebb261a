#!/usr/bin/env bash
# Prepares the web console's browser tests: Debian's Chromium at /usr/bin/chromium, driven by Playwright for
# Python (tests/requirements.txt). Playwright's own browser download is not used: it needs a host outside the
# package registries. Idempotent and non-interactive; with Chromium in place it does nothing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || { echo "chromium is missing and installing it needs root (or sudo)" >&2; exit 1; }
  SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive CI=true
install() { $SUDO apt-get install -y --no-install-recommends chromium < /dev/null; }
# A fresh machine has no package lists yet: refresh them once when the package is not found.
if ! apt-cache show chromium > /dev/null 2>&1; then
  $SUDO apt-get update < /dev/null
fi
install
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
