#!/usr/bin/env bash
# Retrain the example fraud model and rewrite its artifacts (see models/fraud/README.md).
# Usage, from the repository root:  bash models/fraud/train.sh
# Creates (or reuses) the virtualenv .venv/train, installs models/fraud/requirements.txt into it
# when that file changed since the last install, then runs models/fraud/train.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

VENV=".venv/train"
REQS="models/fraud/requirements.txt"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "train.sh: Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
    exit 1
  fi
  echo "train.sh: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

STAMP="$VENV/.fraud-requirements.sha256"
WANT="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "train.sh: installing $REQS"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  echo "$WANT" > "$STAMP"
fi

exec "$VENV/bin/python" models/fraud/train.py "$@"
