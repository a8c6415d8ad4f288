#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real: chromium (browser tests,
# through Playwright's executable_path: nothing is downloaded), fonts-liberation (stable
# layout in screenshots) and spamassassin (scores a sent message offline).
# Idempotent; needs root (or sudo) and apt.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || need+=(fonts-liberation)
command -v spamassassin >/dev/null 2>&1 || need+=(spamassassin)
if [ ${#need[@]} -eq 0 ]; then
  echo "test tools present: $(/usr/bin/chromium --version 2>/dev/null), $(spamassassin --version | head -1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "error: installing ${need[*]} needs root (apt-get)" >&2
    echo "hint: run this script as root, or install the Debian packages yourself" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
echo "installed: ${need[*]}"
