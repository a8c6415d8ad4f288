#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/test_browser.py, marker "browser").
# Idempotent: does nothing when /usr/bin/chromium is already there. Needs root (or sudo)
# and apt. Playwright drives this binary via executable_path; never run `playwright install`.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "error: installing chromium needs root (apt-get)" >&2
    echo "hint: run this script as root, or install the Debian package 'chromium' yourself" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
/usr/bin/chromium --version
