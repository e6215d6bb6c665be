#!/bin/bash
# dogbreed-install-kernel: the launcher's Jupyter kernel on a notebook instance with no internet. Started in
# the background by the on-start lifecycle configuration, as ec2-user. Everything comes from the project bucket
# (S3 gateway endpoint), written there by dogbreed-build-notebook-bundle:
#   $DOGBREED_CODE_S3_URI/dogbreed-mlops.tar.gz   the repository's code (src/, training/, requirements/)
#   $DOGBREED_CODE_S3_URI/wheels/                 the pinned launcher requirements as wheels, MANIFEST.json
# pip never looks anywhere else (--no-index). A restart refreshes the code, reinstalls only when the wheelhouse
# changed, and registers the kernel again (user kernel specs live outside the persistent volume).
# Result: $ROOT/kernel-install.status is "ok", or "failed: <why>" (also the last line of the log).
set -euo pipefail
: "${DOGBREED_CODE_S3_URI:?}" "${DOGBREED_LAUNCHER_SETTINGS:?}" "${DOGBREED_KERNEL_BASE_PYTHON:?}"
SAGEMAKER_HOME=${SAGEMAKER_HOME:-/home/ec2-user/SageMaker}  # the instance's persistent ML volume
ROOT=$SAGEMAKER_HOME/.dogbreed
CODE_DIR=$SAGEMAKER_HOME/dogbreed-mlops
WHEELS=$ROOT/wheels
VENV=$ROOT/kernel-venv
STATUS=$ROOT/kernel-install.status
SOURCE=${DOGBREED_CODE_S3_URI%/}

mkdir -p "$ROOT"
echo running >"$STATUS"
fail() { echo "failed: $*" | tee "$STATUS" >&2; exit 1; }
trap 'fail "line $LINENO exited with status $?"' ERR
step() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

step "fetching the code and the wheelhouse from $SOURCE/"
aws s3 sync --only-show-errors --delete "$SOURCE/wheels/" "$WHEELS/"
aws s3 cp --only-show-errors "$SOURCE/dogbreed-mlops.tar.gz" "$ROOT/dogbreed-mlops.tar.gz"
[[ -f $WHEELS/MANIFEST.json ]] || fail "no wheelhouse in $SOURCE/wheels/: run dogbreed-build-notebook-bundle"
rm -rf "$CODE_DIR.new" && mkdir -p "$CODE_DIR.new"
tar -xzf "$ROOT/dogbreed-mlops.tar.gz" -C "$CODE_DIR.new"
rm -rf "$CODE_DIR" && mv "$CODE_DIR.new" "$CODE_DIR"

have=$("$DOGBREED_KERNEL_BASE_PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ||
  fail "$DOGBREED_KERNEL_BASE_PYTHON does not run"
want=$("$DOGBREED_KERNEL_BASE_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["python_version"])' \
  "$WHEELS/MANIFEST.json")
[[ $have == "$want" ]] ||
  fail "the wheelhouse is for Python $want, $DOGBREED_KERNEL_BASE_PYTHON is $have: rebuild it with dogbreed-build-notebook-bundle --python-version $have"

stamp=$(cat "$CODE_DIR/requirements/launcher.txt" "$WHEELS/MANIFEST.json" | sha256sum | cut -d' ' -f1)
if [[ ! -x $VENV/bin/python || $(cat "$VENV/.stamp" 2>/dev/null) != "$stamp" ]]; then
  step "installing the pinned launcher requirements (offline) into $VENV"
  rm -rf "$VENV"
  "$DOGBREED_KERNEL_BASE_PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --no-index --find-links "$WHEELS" --no-compile \
    -r "$CODE_DIR/requirements/launcher.txt"
  echo "$stamp" >"$VENV/.stamp"
fi

# The repository's code on the kernel's path, as an editable install would put it (the checkout is the root).
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$CODE_DIR/src" >"$site/dogbreed-mlops.pth"
printf '#!/bin/sh\nexec "%s" -m dogbreed.orchestration.cli "$@"\n' "$VENV/bin/python" >"$VENV/bin/dogbreed-launch"
chmod 755 "$VENV/bin/dogbreed-launch"
# The stack's outputs (the launcher reads them as `terraform output -json`) and the SDK's settings: no IAM
# endpoint in the VPC (SAGEMAKER_VALIDATE_ROLE=false skips the SDK's role lookup), no telemetry.
printf '%s\n' "$DOGBREED_LAUNCHER_SETTINGS" >"$ROOT/stack_outputs.json"
printf "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n" \
  >"$ROOT/sagemaker-config.yaml"
"$VENV/bin/python" -m ipykernel install --user --name dogbreed --display-name "dogbreed launcher" \
  --env DOGBREED_TF_OUTPUTS "$ROOT/stack_outputs.json" --env DOGBREED_REPO "$CODE_DIR" \
  --env SAGEMAKER_VALIDATE_ROLE false --env SAGEMAKER_USER_CONFIG_OVERRIDE "$ROOT/sagemaker-config.yaml"
DOGBREED_TF_OUTPUTS="$ROOT/stack_outputs.json" "$VENV/bin/python" -c '
import sagemaker.train.model_trainer, sagemaker.train.tuner
from dogbreed.orchestration import cli, jobs, settings
settings.resolve_settings().check_network()'
step "kernel \"dogbreed launcher\" ready: open $CODE_DIR/training/notebooks/train_and_deploy.ipynb with it"
echo ok >"$STATUS"
