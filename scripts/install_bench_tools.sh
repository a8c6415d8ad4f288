#!/usr/bin/env bash
# Install the load generators of the benchmarks: Postfix for scripts/bench_send.py (its
# smtp-sink, the receiving server, and smtp-source, the C reference client; Postfix itself
# is not configured or started) and wrk for scripts/bench_web.py.
set -euo pipefail
packages=()
if ! command -v smtp-sink >/dev/null 2>&1 || ! command -v smtp-source >/dev/null 2>&1; then
  packages+=(postfix)
fi
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
[ "${#packages[@]}" -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
