#!/usr/bin/env bash
# Install Debian's PostgreSQL server for the tests that run on PostgreSQL (tests/pgcluster.py
# starts a throwaway cluster of its own from /usr/lib/postgresql/N/bin, as the postgres
# user, on a free port; the cluster the package may set up is not used).
# Idempotent; needs root (or sudo) and apt. BRIEFING_SKIP_POSTGRES=1 makes those tests skip.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && id postgres >/dev/null 2>&1; then
  echo "postgresql present: $(ls -d /usr/lib/postgresql/*/bin/initdb | tr '\n' ' ')"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "error: installing postgresql needs root (apt-get)" >&2
    echo "hint: run this script as root, install Debian's postgresql yourself, or set BRIEFING_SKIP_POSTGRES=1" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql
echo "installed: postgresql ($(ls -d /usr/lib/postgresql/*/bin/initdb | tr '\n' ' '))"
