#!/usr/bin/env bash
# Creates the project's environments on a fresh machine; re-running is cheap when nothing changed.
#   .venv          everything the code, the tests and the demo need (torch, boto3, moto, SageMaker SDK, ...)
#   .venv-checkov  checkov alone: it pins an old boto3 that the main environment must not get
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

ensure_venv() {  # ensure_venv DIR REQUIREMENTS_FILE
  local dir=$1 requirements=$2 stamp="$1/.requirements.sha256"
  local want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return
  fi
  echo "==> creating $dir from $requirements"
  [[ -x $dir/bin/python ]] || "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade pip
  "$dir/bin/python" -m pip install --progress-bar on -r "$requirements"
  echo "$want" >"$stamp"
}

ensure_venv .venv requirements/dev.txt
ensure_venv .venv-checkov requirements/checkov.txt
