#!/usr/bin/env bash
# make aws-acceptance: the whole stack on a sandbox AWS account end to end, then nothing left (docs/acceptance.md).
#
#   make aws-acceptance REGION=eu-west-1                 # prints the estimated cost and the caller; creates nothing
#   make aws-acceptance REGION=eu-west-1 SPEND=1         # the run (billed), then the teardown
#   make aws-acceptance OFFLINE=1                        # every step against the stand-ins (nothing billed)
#
# Optional: BUDGET_EMAIL=<address> (the run's budget alert), REPORT_DIR=<dir> (default build/acceptance),
# WORK_ROOT=<dir> (where each run keeps its stack copy, state and logs; default .acceptance/).
# Credentials come from the environment as for the AWS CLI (AWS_PROFILE, SSO, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/python ]]; then
  echo "make aws-acceptance: no .venv: run make setup first" >&2
  exit 2
fi
if ! command -v terraform >/dev/null; then
  echo "make aws-acceptance: terraform (>= 1.10) is not on PATH" >&2
  exit 2
fi
args=(--report-dir "${REPORT_DIR:-build/acceptance}")
if [[ -n "${WORK_ROOT:-}" ]]; then
  args+=(--work-root "$WORK_ROOT")
fi
if [[ "${OFFLINE:-}" == 1 ]]; then
  exec .venv/bin/python -m dev.offline_acceptance --spend "${args[@]}"
fi
if [[ -z "${REGION:-}" ]]; then
  echo "make aws-acceptance: give REGION=<aws region> (and SPEND=1 to create billed resources), or OFFLINE=1" >&2
  exit 2
fi
args+=(--region "$REGION")
if [[ "${SPEND:-}" == 1 ]]; then
  args+=(--spend)
fi
if [[ -n "${BUDGET_EMAIL:-}" ]]; then
  args+=(--budget-email "$BUDGET_EMAIL")
fi
exec .venv/bin/dogbreed-acceptance "${args[@]}"
