#!/usr/bin/env bash
# Install Postfix for scripts/bench_send.py: its smtp-sink (the receiving server) and
# smtp-source (the C reference client). Postfix itself is not configured or started.
set -euo pipefail
if command -v smtp-sink >/dev/null 2>&1 && command -v smtp-source >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postfix
