# Sourced by scripts/run, scripts/test and scripts/check: make .venv and install Briefing
# into it, again only when pyproject.toml changed. Needs python3 >= 3.11 and PyPI.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Briefing needs Python 3.11 or newer (found: $("$PY" --version 2>&1))" >&2
  echo "hint: install python3.11+ or set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
EXTRAS=${BRIEFING_EXTRAS:-}
STAMP=.venv/.briefing-installed
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1) extras=[$EXTRAS]"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "setting up .venv (pip install -e .${EXTRAS:+[$EXTRAS]}) ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}" >&2
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
