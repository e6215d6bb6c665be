#!/usr/bin/env bash
# The README's test command: every test of every part, exactly as CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v terraform >/dev/null; then
  echo "make test: terraform (>= 1.10) is not on PATH; the infrastructure tests need it" >&2
  exit 2
fi
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
