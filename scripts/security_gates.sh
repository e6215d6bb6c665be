#!/usr/bin/env bash
# The security gates (policy lint, checkov on HCL and on the offline plan, parliament): the same command
# locally and in CI. Options: see `scripts/security_gates.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m security.gates "$@"
