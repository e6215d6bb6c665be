#!/usr/bin/env bash
# The README's test command: every test of every part, exactly as CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
