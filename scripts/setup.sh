#!/usr/bin/env bash
# Creates the project's environments on a fresh machine; re-running is cheap when nothing changed.
#   .venv          the project (pip install -e .) and everything its tests and the demo need (torch, boto3,
#                  moto, SageMaker SDK, ...)
#   .venv-checkov  checkov alone: it pins an old boto3 that the main environment must not get
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

ensure_venv() {  # ensure_venv DIR REQUIREMENTS_FILE [EDITABLE_PROJECT]
  local dir=$1 requirements=$2 project=${3:-} stamp="$1/.requirements.sha256"
  local want
  want=$(cat "$requirements" ${project:+"$project/pyproject.toml"} | sha256sum | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return
  fi
  echo "==> creating $dir from $requirements${project:+ and the project (editable)}"
  [[ -x $dir/bin/python ]] || "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade pip
  "$dir/bin/python" -m pip install --progress-bar on -r "$requirements"
  if [[ -n $project ]]; then
    # The pins above are the project's dependencies; --no-deps keeps pip from resolving them again.
    "$dir/bin/python" -m pip install --quiet --no-deps -e "$project"
  fi
  echo "$want" >"$stamp"
}

ensure_venv .venv requirements/dev.txt .
ensure_venv .venv-checkov requirements/checkov.txt
