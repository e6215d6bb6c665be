#!/usr/bin/env bash
# The README's main job: creates the environment, then runs the offline demo end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m dev.demo "$@"
